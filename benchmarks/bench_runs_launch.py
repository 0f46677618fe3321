"""What a full runs folder costs a launch, for bench_ui.py (``--only-runs-launch``).

runs_dock_launch_cpu_s
    GUI-thread CPU seconds spent in the Runs dock (every method of ``gui.runs_panel``'s classes,
    counted once at the outermost call, ``time.thread_time``) from process start to the first
    epoch point of ``main.py --start``, with ``RUNS`` generated run folders in the runs folder;
    ``runs_dock_launch_reads`` is how many run folders the GUI thread opened in that time.
first_loss_point_{hidden,raised,none}_s
    Launch to the first loss point with those folders (the Runs dock a tab behind Diagnostics, as
    at first launch; or in front, as a user may have left it) and with an empty runs folder (median
    of ``repeats`` launches each, interleaved), and the ratios to the launch with none. The same
    split for the CPU figure: ``runs_dock_launch_cpu_{hidden,raised,none}_s``.

Every launch gets its own empty data folder (``XDG_DATA_HOME``) and settings (``XDG_CONFIG_HOME``), so
it measures a fresh machine and leaves no run folder behind; the compile cache is the caller's
(``XDG_CACHE_HOME``).
"""

from __future__ import annotations

import inspect
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

RUNS = 500
EPOCHS = 300
BENCH_UI = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_ui.py")


class RunsDockMeter:
    """Wraps the methods of the Runs dock's classes: GUI-thread CPU inside them and run folders opened."""

    def __init__(self):
        self.cpu_s = 0.0
        self.calls = 0
        self.reads = 0
        self._depth = 0

    def install(self) -> "RunsDockMeter":
        import gui.runs_panel as panel_module
        from engine import run_reader

        for cls in [v for v in vars(panel_module).values()
                    if isinstance(v, type) and v.__module__ == panel_module.__name__]:
            for name, value in list(vars(cls).items()):
                if inspect.isfunction(value):  # methods (not signals, not properties)
                    setattr(cls, name, self._timed(value))
        opened = run_reader.RunReader.__init__

        def counted(reader, *args, **kwargs):
            if threading.current_thread() is threading.main_thread():
                self.reads += 1
            return opened(reader, *args, **kwargs)

        run_reader.RunReader.__init__ = counted
        return self

    def _timed(self, function):
        def timed(*args, **kwargs):
            if threading.current_thread() is not threading.main_thread() or self._depth:
                return function(*args, **kwargs)
            self._depth += 1
            self.calls += 1
            start = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.cpu_s += time.thread_time() - start
                self._depth -= 1

        timed.__name__ = getattr(function, "__name__", "timed")
        return timed

    def line(self) -> str:
        return f"RUNS_DOCK {self.cpu_s:.4f} {self.reads} {self.calls}"


SOURCES = ("main.py", "engine", "gui", "resources", "benchmarks")
_compiled = []


def compile_sources() -> None:
    """The app's byte-code written, as ``make run`` writes it before it starts the app (a shell
    with PYTHONDONTWRITEBYTECODE set, as on these machines, never writes it itself: every launch
    would compile every module from its source again, ~0.5 s of a launch here)."""
    if not _compiled:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        subprocess.run([sys.executable, "-m", "compileall", "-q", *SOURCES], cwd=root, check=True,
                       stdout=subprocess.DEVNULL)
        _compiled.append(True)


def launch(runs_template: str | None = None, *, meter: bool = False, raised: bool = False) -> dict:
    """One fresh-process launch of ``main.py --start`` (bench_ui's first-point child) on an empty data
    folder, or one holding a copy of ``runs_template``; its FIRST_POINT (and RUNS_DOCK) figures.
    ``raised``: the Runs dock's tab in front at launch (a layout the user left so), not Diagnostics."""
    compile_sources()
    data = tempfile.mkdtemp(prefix="rnnscope-bench-data-")
    config = tempfile.mkdtemp(prefix="rnnscope-bench-config-")
    try:
        if runs_template:
            shutil.copytree(runs_template, os.path.join(data, "rnn-scope", "runs"))
        env = dict(os.environ, XDG_CONFIG_HOME=config, XDG_DATA_HOME=data)
        spawned = time.time()
        flags = (["--runs-dock-cpu"] if meter else []) + (["--runs-dock-raised"] if raised else [])
        out = subprocess.run([sys.executable, BENCH_UI, "--child-first-point", repr(spawned), *flags],
                             capture_output=True, text=True, env=env, timeout=600)
    finally:
        shutil.rmtree(data, ignore_errors=True)
        shutil.rmtree(config, ignore_errors=True)
    found = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()
             if line.startswith(("FIRST_POINT ", "RUNS_DOCK "))}
    if out.returncode != 0 or "FIRST_POINT" not in found:
        raise RuntimeError(f"first-point child failed ({out.returncode}):\n{out.stderr[-2000:]}")
    result = {"first_loss_point_s": float(found["FIRST_POINT"][0]),
              "first_epoch_point_s": float(found["FIRST_POINT"][1])}
    if "RUNS_DOCK" in found:
        cpu, reads, calls = found["RUNS_DOCK"]
        result.update(runs_dock_cpu_s=float(cpu), runs_dock_reads=int(reads), runs_dock_calls=int(calls))
    return result


SERIES = (("hidden", True, False), ("raised", True, True), ("none", False, False))  # (name, runs, dock raised)


def measure_runs_launch(runs: int = RUNS, repeats: int = 3) -> dict:
    """Launches with ``runs`` run folders (the Runs dock a tab behind Diagnostics as at first launch,
    and in front), and with none, interleaved; medians of ``repeats`` each."""
    from benchmarks.bench_runs_view import write_runs

    template = os.path.join(tempfile.mkdtemp(prefix="rnnscope-bench-runs-template-"), "runs")
    os.makedirs(template)
    print(f"  writing {runs} run folders of {EPOCHS} epochs…", flush=True)
    write_runs(template, runs, EPOCHS)
    try:
        launch(meter=True)  # a warm compile cache for the launches measured
        series = {name: [] for name, _, _ in SERIES}
        for _ in range(repeats):
            for name, with_runs, raised in SERIES:
                series[name].append(launch(template if with_runs else None, meter=True, raised=raised))
    finally:
        shutil.rmtree(os.path.dirname(template), ignore_errors=True)
    result = {"runs_launch_folders": runs, "load_average_1min": os.getloadavg()[0]}
    for name, launches in series.items():
        result[f"runs_dock_launch_cpu_{name}_s"] = statistics.median(r["runs_dock_cpu_s"] for r in launches)
        result[f"runs_dock_launch_reads_{name}"] = max(r["runs_dock_reads"] for r in launches)
        result[f"first_loss_point_{name}_s"] = statistics.median(r["first_loss_point_s"] for r in launches)
        result[f"first_loss_point_{name}_all_s"] = [r["first_loss_point_s"] for r in launches]
    result["runs_dock_launch_cpu_s"] = result["runs_dock_launch_cpu_hidden_s"]
    none = result["first_loss_point_none_s"]
    for name in ("hidden", "raised"):
        result[f"first_loss_point_{name}_ratio"] = result[f"first_loss_point_{name}_s"] / none
    print(f"  a launch with {runs} run folders (medians of {repeats}; load average {os.getloadavg()[0]:.1f}):",
          flush=True)
    for name, title in (("hidden", "Runs dock behind Diagnostics"), ("raised", "Runs dock in front"),
                        ("none", "no run folders")):
        ratio = result.get(f"first_loss_point_{name}_ratio")
        print(f"    {title}: {result[f'runs_dock_launch_cpu_{name}_s']:.3f} s of GUI-thread CPU in the Runs dock, "
              f"{result[f'runs_dock_launch_reads_{name}']} folders read on the GUI thread; first loss point "
              f"{result[f'first_loss_point_{name}_s']:.2f} s"
              + (f" ({ratio:.2f}x the launch with none)" if ratio else ""), flush=True)
    return result
