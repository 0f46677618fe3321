"""UI benchmark: is the window responsive while the worker trains at full speed?

    python benchmarks/bench_ui.py [--json PATH] [--quick] [--seconds S] [--rss-epochs N]

Measured in the real MainWindow (offscreen Qt unless QT_QPA_PLATFORM says otherwise):

stall_p99_ms / stall_max_ms
    A 5 ms precise QTimer in the GUI thread records how late each tick is while the worker
    trains without pause on each bundled sample (default settings) and on W2-sized text
    (the bundled ~200 KB words.txt, hidden 256, window 64, batch 32: bench_engine's W2).
    Measured from one second after the first loss point for ``--seconds`` (the compile is not
    training; the first second, when every plot item is drawn for the first time, is reported
    apart as ``stall_first_second_max_ms``).
first_loss_point_s
    A fresh process (``gui.app.setup_window`` with ``--start`` on the default dataset), from
    process start to the first loss point on the plot: the running training loss of the first
    step (a StepReport, right after the training step's compile) or an epoch point, whichever
    comes first; ``first_epoch_point_s`` is the first epoch point (validation compiled too).
    Run twice; the second run (warm compile cache) is the figure, the first is reported beside
    it. Point XDG_CACHE_HOME at an empty folder for a fresh compile cache (``--only-latency``).
    Each launch has its own empty data folder (XDG_DATA_HOME: no run folders, and its own run
    folder is not left behind) and settings (XDG_CONFIG_HOME): a fresh machine.
runs_dock_launch_cpu_s
    ``--only-runs-launch [N]``: the same launch with N (500) generated run folders in the runs
    folder: GUI-thread CPU seconds spent in the Runs dock up to the first epoch point, and the first
    loss point with and without those folders (benchmarks/bench_runs_launch.py).
resize_restart_s
    Hidden-size change in the controls during a run: from "Yes" in the "Start a new run?" question
    (given READING_S, 1 s, after it opens) to the first training report of the new run on the loss
    plot (running loss or epoch point); median of three sizes; ``resize_epoch_point_s`` to its first
    epoch point. ``resize_restart_at_once_s``: three other sizes with "Yes" given at once (no time
    for the compile ahead, engine.precompile).
loss_setdata_ms / heatmap_setimage_ms
    ``setData`` of a 1,000,000-point loss curve and ``set_snapshot`` of a 1000 x 512 heatmap,
    each followed by a synchronous repaint (what one frame costs); median of 5.
follow_latency_s
    A run trained by a second process (engine.runs.Run, one epoch every ~0.5 s) is ticked in the
    Runs dock: from the moment its new metrics.csv row is on disk (the file is watched every
    5 ms) to the moment the row is on the overlaid loss curve; median and max over 20 epochs.
runs_open_s / runs_overlay_frame_max_ms
    The Runs view with 200 run folders of 1,000 epochs each (written at benchmark time): building
    the dock to all rows shown, and the longest frame (5 ms heartbeat gap) while 10 of them are
    ticked, one every 100 ms, to overlay their curves (benchmarks/bench_runs_view.py).
rss_growth_mb
    RSS growth over 20,000 epochs of a tiny model with the window drawing, measured from epoch
    500 (after compiling and warm-up). ``--quick`` runs fewer epochs and extrapolates linearly
    to 20,000; the table and the JSON (``rss_extrapolated``) say so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from engine import backend  # noqa: E402

backend.configure()  # the app's process set-up: thread limits before numpy/jax

from benchmarks.bench_runs_launch import RunsDockMeter, launch as launch_first_point, measure_runs_launch  # noqa: E402
from benchmarks.bench_runs_view import TARGETS as RUNS_VIEW_TARGETS, measure_runs_view  # noqa: E402

TARGETS = {
    "stall_p99_ms": 20.0,
    "stall_max_ms": 50.0,
    "first_loss_point_s": 2.5,  # issue 10 (was 3.0)
    "resize_restart_s": 1.5,
    "loss_setdata_ms": 16.0,
    "heatmap_setimage_ms": 16.0,
    "rss_growth_mb": 50.0,
    "follow_latency_s": 2.0,
    **RUNS_VIEW_TARGETS,
}
FOLLOW_EPOCHS = 20
FOLLOW_WRITER = """
import sys, time
import numpy as np
from engine.data import SequenceDataset
from engine.runs import Run
from engine.training import TrainingConfig
t = np.arange(16)
data = SequenceDataset(sequences=[np.sin(0.5 * t + p)[:, None] for p in np.linspace(0, 5, 8)], task="forecast",
                       name="sine")
run = Run.start(TrainingConfig(cell="elman", hidden_sizes=(3,), batch_size=4, epochs=int(sys.argv[2])), data,
                sys.argv[1])
while run.step() is not None:
    time.sleep(0.5)
run.close()
"""
RSS_TARGET_EPOCHS = 20_000
RSS_WARMUP_EPOCHS = 500
STARTUP_S = 1.0  # stall ticks in the first second after the first loss point are reported apart


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _percentile(values, q):
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else float("nan")


# ------------------------------------------------------------------------- Qt helpers
def _app():
    from PyQt5 import QtCore

    settings_dir = tempfile.mkdtemp(prefix="rnnscope-bench-settings-")
    QtCore.QSettings.setDefaultFormat(QtCore.QSettings.IniFormat)
    QtCore.QSettings.setPath(QtCore.QSettings.IniFormat, QtCore.QSettings.UserScope, settings_dir)
    from gui.app import make_application

    app = make_application([sys.argv[0]])
    app.setOrganizationName("RNN Scope Bench")
    from gui import dialogs

    dialogs.confirm = lambda *args, **kwargs: True  # hidden-size changes: always "yes"
    return app


def _wait(app, condition, timeout_s: float, what: str) -> float:
    from PyQt5 import QtCore

    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout_s:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        app.processEvents(QtCore.QEventLoop.AllEvents, 5)
        time.sleep(0.001)
    return time.monotonic() - start


def _run_event_loop(seconds: float) -> None:
    from PyQt5 import QtCore

    loop = QtCore.QEventLoop()
    QtCore.QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec_()


class StallProbe:
    """5 ms precise timer in the GUI thread; lateness of every tick in ms."""

    def __init__(self, interval_ms: int = 5):
        from PyQt5 import QtCore

        self.interval = interval_ms / 1000.0
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.lateness_ms: list[float] = []
        self.tick_times: list[float] = []
        self._last = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.lateness_ms.append(max(0.0, (now - self._last - self.interval) * 1000.0))
            self.tick_times.append(now)
        self._last = now

    def start(self) -> None:
        self._last = None
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.lateness_ms


def _window(config):
    from gui.main_window import MainWindow

    window = MainWindow(config)
    window.resize(1500, 900)
    window.show()
    return window


def _drawn_points(window) -> int:
    return window.loss_plot.point_count()


def _training_reports(window) -> int:
    """Loss points of the current run: epoch points and running (within-epoch) points."""
    return window.loss_plot.point_count() + window.run_marks.running_count()


# ------------------------------------------------------------------------- measurements
def stall_scenarios(quick: bool):
    import resources
    from engine.training import TrainingConfig

    base = TrainingConfig(epochs=10_000_000)
    return [
        ("sine_forecast.csv (defaults)", resources.sample_path("sine_forecast.csv"), base),
        ("waveforms_TRAIN.tsv (defaults)", resources.sample_path("waveforms_TRAIN.tsv"), base),
        ("words.txt (defaults)", resources.sample_path("words.txt"), base),
        ("W2: words.txt H=256 window 64 batch 32", resources.sample_path("words.txt"),
         base.replace(hidden_sizes=(256,), window=64, batch_size=32, embedding_size=32)),
    ]


def measure_stalls(app, seconds: float, quick: bool) -> dict:
    from engine.data import load_sequences

    from engine.training import TrainingConfig

    # Baseline: the same probe with the window open and nothing training. On a shared machine
    # this is the lateness the rest of the system causes, not the app.
    window = _window(TrainingConfig())
    probe = StallProbe()
    probe.start()
    _run_event_loop(min(seconds, 3.0))
    idle = probe.stop()
    window.close()
    print(f"  idle baseline: p99 {_percentile(idle, 99):.1f} ms, max {max(idle):.1f} ms, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)

    per_scenario = {}
    all_lateness: list[float] = []
    startup_max = 0.0
    for name, path, config in stall_scenarios(quick):
        window = _window(config)
        window.set_dataset(load_sequences(path), [path])
        window.toggle_run()
        _wait(app, lambda: _drawn_points(window) >= 1, 300, f"the first loss point on {name}")
        first_epoch = window._last_epoch
        probe = StallProbe()
        probe.start()
        started = time.perf_counter()
        _run_event_loop(STARTUP_S + seconds)
        all_ticks = probe.stop()
        epochs = window._last_epoch - first_epoch
        window.close()
        # The first second after the first point draws every plot item for the first time
        # (legends, axes, colour bars): reported apart from the steady state.
        startup = [v for v, t in zip(all_ticks, probe.tick_times) if t - started < STARTUP_S]
        lateness = [v for v, t in zip(all_ticks, probe.tick_times) if t - started >= STARTUP_S]
        all_lateness.extend(lateness)
        startup_max = max(startup_max, max(startup, default=0.0))
        per_scenario[name] = {
            "p99_ms": _percentile(lateness, 99),
            "max_ms": max(lateness) if lateness else float("nan"),
            "startup_max_ms": max(startup, default=float("nan")),
            "ticks": len(lateness),
            "epochs_per_s": epochs / (STARTUP_S + seconds),
        }
        print(f"  stall {name}: p99 {per_scenario[name]['p99_ms']:.1f} ms, max {per_scenario[name]['max_ms']:.1f} ms, "
              f"first second max {per_scenario[name]['startup_max_ms']:.1f} ms, "
              f"{per_scenario[name]['epochs_per_s']:.1f} epochs/s", flush=True)
    return {
        "stall_p99_ms": _percentile(all_lateness, 99),
        "stall_max_ms": max(all_lateness) if all_lateness else float("nan"),
        "stall_first_second_max_ms": startup_max,
        "stall_by_dataset": per_scenario,
        "stall_idle_p99_ms": _percentile(idle, 99),
        "stall_idle_max_ms": max(idle) if idle else float("nan"),
        "load_average_1min": os.getloadavg()[0],
        "cpu_count": os.cpu_count(),
    }


READING_S = 1.0  # how long the "Start a new run?" question is open before "Yes" (reading it, moving to the button)


def measure_resize(app) -> dict:
    """Each hidden-size change asks "Start a new run?"; the worker compiles the new step while the
    question is open (engine.precompile). Measured from "Yes", given READING_S after the question
    opens, as the issue measured it; and, for three other sizes, with "Yes" given at once."""
    import resources
    from engine.data import load_sequences
    from engine.training import TrainingConfig
    from gui import dialogs

    path = resources.default_dataset_path()
    window = _window(TrainingConfig(epochs=10_000_000))
    window.set_dataset(load_sequences(path), [path])
    window.toggle_run()
    _wait(app, lambda: _drawn_points(window) >= 2, 300, "training on the default dataset")
    answered, always_yes, figures = [0.0], dialogs.confirm, {}

    def yes_after(seconds: float):
        def confirm(*args, **kwargs) -> bool:
            if seconds:
                _run_event_loop(seconds)
            answered[0] = time.monotonic()
            return True
        return confirm

    for name, reading, sizes in (("read", READING_S, (48, 80, 96)), ("at_once", 0.0, (56, 88, 104))):
        dialogs.confirm, times, epoch_times = yes_after(reading), [], []
        for size in sizes:
            run_before = window._run_id
            window.controls._param("hidden_sizes").setValue(str(size))
            _wait(app, lambda: window._run_id != run_before and _training_reports(window) >= 1, 300,
                  f"the first training report with hidden size {size}")
            times.append(time.monotonic() - answered[0])
            _wait(app, lambda: _drawn_points(window) >= 1, 300, f"the first epoch point with hidden size {size}")
            epoch_times.append(time.monotonic() - answered[0])
            _wait(app, lambda: _drawn_points(window) >= 2, 60, "a second epoch")
        figures[name] = (times, epoch_times)
        print(f"  resize restarts, \"Yes\" {'after ' + str(READING_S) + ' s' if name == 'read' else 'at once'} "
              f"(first training report): {', '.join(f'{t:.2f} s' for t in times)}; "
              f"first epoch point: {', '.join(f'{t:.2f} s' for t in epoch_times)}", flush=True)
    dialogs.confirm = always_yes
    window.close()
    (times, epoch_times), (at_once_times, at_once_epochs) = figures["read"], figures["at_once"]
    return {"resize_restart_s": statistics.median(times), "resize_restart_all_s": times,
            "resize_epoch_point_s": statistics.median(epoch_times), "resize_reading_s": READING_S,
            "resize_restart_at_once_s": statistics.median(at_once_times),
            "resize_restart_at_once_all_s": at_once_times,
            "resize_epoch_point_at_once_s": statistics.median(at_once_epochs)}


def measure_draw_costs(app) -> dict:
    import numpy as np

    from gui.plots import HiddenStatePanel, LossPlot

    rng = np.random.default_rng(0)
    plot = LossPlot()
    plot.resize(900, 500)
    plot.show()
    app.processEvents()
    n = 1_000_000
    x = np.arange(1, n + 1, dtype=np.float64)
    set_only, with_paint = [], []
    for k in range(6):
        y = np.abs(np.cumsum(rng.normal(size=n))) + 1.0 + k
        start = time.perf_counter()
        plot.train_curve.setData(x, y)
        middle = time.perf_counter()
        plot.plot_widget.repaint()
        end = time.perf_counter()
        if k:  # the first call allocates caches
            set_only.append((middle - start) * 1000)
            with_paint.append((end - start) * 1000)
    plot.close()

    panel = HiddenStatePanel()
    panel.resize(900, 700)
    panel.show()
    panel.reset((512,), "elman")
    app.processEvents()
    image_ms = []
    for k in range(6):
        hidden = [np.tanh(rng.normal(size=(1000, 512))).astype(np.float32)]
        start = time.perf_counter()
        panel.set_snapshot(k + 1, hidden, [{}])
        panel.graphics.repaint()
        if k:
            image_ms.append((time.perf_counter() - start) * 1000)
    panel.close()
    return {
        "loss_setdata_ms": statistics.median(with_paint),
        "loss_setdata_only_ms": statistics.median(set_only),
        "heatmap_setimage_ms": statistics.median(image_ms),
    }


def tiny_dataset():
    import numpy as np

    from engine.data import SequenceDataset

    rng = np.random.default_rng(0)
    t = np.arange(24)
    seqs = [np.sin(t * rng.uniform(0.2, 0.5) + rng.uniform(0, 6))[:, None].astype(np.float32) for _ in range(10)]
    return SequenceDataset(seqs, task="forecast", name="tiny")


def measure_rss(app, epochs: int) -> dict:
    import gc

    from engine.training import TrainingConfig

    window = _window(TrainingConfig(hidden_sizes=(4,), batch_size=8, epochs=epochs))
    window.set_dataset(tiny_dataset())
    window.toggle_run()
    _wait(app, lambda: window._last_epoch >= RSS_WARMUP_EPOCHS, 600, "the warm-up epochs")
    gc.collect()
    start_rss, start_epoch, start_time = rss_mb(), window._last_epoch, time.monotonic()
    _wait(app, lambda: window.is_idle, 3600, f"{epochs} epochs")
    _run_event_loop(0.3)
    gc.collect()
    end_rss, end_epoch = rss_mb(), window._last_epoch
    rate = (end_epoch - start_epoch) / max(1e-9, time.monotonic() - start_time)
    window.close()
    measured = end_rss - start_rss
    span = max(1, end_epoch - start_epoch)
    extrapolated = end_epoch < RSS_TARGET_EPOCHS
    growth = measured * (RSS_TARGET_EPOCHS - RSS_WARMUP_EPOCHS) / span if extrapolated else measured
    print(f"  rss: {start_rss:.0f} -> {end_rss:.0f} MB over epochs {start_epoch}..{end_epoch} "
          f"({rate:.0f} epochs/s){' (extrapolated to 20,000)' if extrapolated else ''}", flush=True)
    return {
        "rss_growth_mb": growth,
        "rss_measured_growth_mb": measured,
        "rss_epochs_measured": span,
        "rss_extrapolated": extrapolated,
        "rss_epochs_per_s": rate,
    }


def measure_first_point() -> dict:
    runs, epoch_runs = [], []
    for _ in range(2):  # each in a fresh process on an empty data folder (no run folders) and fresh settings
        result = launch_first_point()
        runs.append(result["first_loss_point_s"])
        epoch_runs.append(result["first_epoch_point_s"])
    print(f"  first loss point: first run {runs[0]:.2f} s, second (warm cache) {runs[1]:.2f} s; "
          f"first epoch point {epoch_runs[0]:.2f} s / {epoch_runs[1]:.2f} s", flush=True)
    return {"first_loss_point_s": runs[1], "first_loss_point_first_run_s": runs[0],
            "first_epoch_point_s": epoch_runs[1], "first_epoch_point_first_run_s": epoch_runs[0]}


def _child_first_point(spawned: float, runs_dock_cpu: bool = False, runs_dock_raised: bool = False) -> int:
    """Runs in a fresh process: the app as launched by ``main.py --start`` (``runs_dock_cpu``: with
    the GUI thread's time in the Runs dock counted, ``runs_dock_raised``: its tab in front;
    bench_runs_launch)."""
    from argparse import Namespace

    from gui import gc_freeze

    gc_freeze.pause_for_launch()  # as main.py does before it imports the window
    from gui.app import make_application, setup_window

    app = make_application([sys.argv[0]])
    meter = RunsDockMeter().install() if runs_dock_cpu else None
    args = Namespace(files=[], cell=None, hidden=None, lr=None, optimizer=None, batch_size=None, epochs=None,
                     seed=None, backend=None, dtype=None, checkpoint=None, start=True)
    window = setup_window(args)
    if runs_dock_raised:
        window.docks["runs"].raise_()
    window.show()
    _wait(app, lambda: _training_reports(window) >= 1, 300, "the first loss point")
    first = time.time() - spawned
    _wait(app, lambda: window.loss_plot.point_count() >= 1, 300, "the first epoch point")
    print(f"FIRST_POINT {first:.3f} {time.time() - spawned:.3f}", flush=True)
    if meter is not None:
        print(meter.line(), flush=True)
    window.close()
    from gui.app import _finish

    # Exit as the app does: a worker still compiling (validation, predictions) is left behind
    # with os._exit. Interpreter shutdown with that thread inside XLA aborts the process.
    return _finish(0)


# ------------------------------------------------------------------------- report
def print_table(results: dict) -> None:
    rows = [
        ("GUI timer lateness p99", "stall_p99_ms", "ms"),
        ("GUI timer lateness max", "stall_max_ms", "ms"),
        ("launch to first loss point (2nd launch)", "first_loss_point_s", "s"),
        ("hidden-size change: \"Yes\" to training again", "resize_restart_s", "s"),
        ("loss curve setData 1,000,000 points + paint", "loss_setdata_ms", "ms"),
        ("heatmap 1000 x 512 set_snapshot + paint", "heatmap_setimage_ms", "ms"),
        ("RSS growth over 20,000 epochs", "rss_growth_mb", "MB"),
        ("Runs view, 200 runs x 1,000 epochs: open", "runs_open_s", "s"),
        ("Runs view: overlay 10 runs, longest frame", "runs_overlay_frame_max_ms", "ms"),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    print(f"{'measure':<{width}}  {'value':>10}  {'target':>10}  ok")
    for title, key, unit in rows:
        value = results.get(key)
        target = TARGETS[key]
        ok = value is not None and value == value and value <= target
        note = " (extrapolated)" if key == "rss_growth_mb" and results.get("rss_extrapolated") else ""
        shown = "n/a" if value is None else f"{value:.2f} {unit}"
        print(f"{title:<{width}}  {shown:>10}  {'<= ' + format(target, 'g') + ' ' + unit:>10}  "
              f"{'yes' if ok else 'NO'}{note}")
    print()
    if "stall_idle_p99_ms" in results:
        print(f"  baseline with nothing training: p99 {results['stall_idle_p99_ms']:.1f} ms, "
              f"max {results['stall_idle_max_ms']:.1f} ms; load average {results['load_average_1min']:.1f} "
              f"on {results['cpu_count']} cores")
    for name, row in results.get("stall_by_dataset", {}).items():
        print(f"  {name}: p99 {row['p99_ms']:.1f} ms, max {row['max_ms']:.1f} ms "
              f"(first second {row['startup_max_ms']:.1f} ms), {row['epochs_per_s']:.1f} epochs/s")


def _lines(path) -> int:
    try:
        with open(path, "rb") as handle:
            return max(0, handle.read().count(b"\n") - 1)  # rows after the header
    except FileNotFoundError:
        return 0


def measure_follow(app, epochs: int = FOLLOW_EPOCHS) -> dict:
    from engine.run_reader import open_run
    from gui.plots import LossPlot
    from gui.runs_panel import RunsPanel

    runs = os.path.join(tempfile.mkdtemp(prefix="rnnscope-bench-follow-"), "runs")
    folder = os.path.join(runs, "remote")
    metrics = os.path.join(folder, "metrics.csv")
    writer = subprocess.Popen([sys.executable, "-c", FOLLOW_WRITER, folder, str(epochs + 2)], cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=ROOT))
    try:
        _wait(app, lambda: _lines(metrics) >= 1, 300, "the other process's first epoch")
        panel, plot = RunsPanel(runs), LossPlot()
        panel.sigCompareChanged.connect(lambda: plot.set_compared(panel.compared_curves()))
        plot.resize(800, 500)
        plot.show()
        panel.set_checked(open_run(folder).name)
        written, drawn = {}, {}
        start = _lines(metrics)
        deadline = time.monotonic() + 60 + 2 * epochs
        while len(drawn) < epochs and time.monotonic() < deadline:
            app.processEvents()
            now = time.monotonic()
            written.setdefault(_lines(metrics), now)
            shown = len(plot.compared_data(0)["val"][0]) if plot.compared() else 0
            drawn.setdefault(shown, now)
            drawn = {n: t for n, t in drawn.items() if n > start}
            time.sleep(0.005)
        latencies = [drawn[n] - written[n] for n in sorted(drawn) if n in written]
        panel.close()
        plot.close()
    finally:
        writer.kill()
        writer.wait()
    print(f"  follow latency over {len(latencies)} epochs: median {statistics.median(latencies):.2f} s, "
          f"max {max(latencies):.2f} s", flush=True)
    return {"follow_latency_s": statistics.median(latencies), "follow_latency_max_s": max(latencies)}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="shorter runs; RSS growth extrapolated (and says so)")
    parser.add_argument("--seconds", type=float, help="stall measurement per dataset (default 8, --quick 3)")
    parser.add_argument("--rss-epochs", type=int, help="epochs for the RSS run (default 20000, --quick 3000)")
    parser.add_argument("--only-follow", action="store_true", help="measure follow_latency_s only")
    parser.add_argument("--only-runs-view", action="store_true", help="measure the Runs view (200 runs) only")
    parser.add_argument("--only-latency", action="store_true",
                        help="measure first_loss_point_s and resize_restart_s only (with XDG_CACHE_HOME "
                             "pointing at an empty folder: a fresh compile cache)")
    parser.add_argument("--only-runs-launch", type=int, nargs="?", const=500, metavar="N",
                        help="measure what N run folders (default 500) cost a launch only (bench_runs_launch)")
    parser.add_argument("--child-first-point", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--runs-dock-cpu", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--runs-dock-raised", action="store_true", help=argparse.SUPPRESS)
    return parser


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    if args.child_first_point is not None:
        return _child_first_point(args.child_first_point, args.runs_dock_cpu, args.runs_dock_raised)
    if args.only_runs_launch:
        print(json.dumps(measure_runs_launch(args.only_runs_launch)))
        return 0
    if args.only_follow:
        print(json.dumps(measure_follow(_app())))
        return 0
    if args.only_runs_view:
        print(json.dumps(measure_runs_view(_app())))
        return 0
    if args.only_latency:
        results = {"cache": str(backend.cache_dir()), "load_average_1min": os.getloadavg()[0]}
        results.update(measure_first_point())
        results.update(measure_resize(_app()))
        print(json.dumps(results))
        if args.json:
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(results, handle, indent=2)
        return 0

    seconds = args.seconds or (3.0 if args.quick else 8.0)
    rss_epochs = args.rss_epochs or (3000 if args.quick else RSS_TARGET_EPOCHS)
    results: dict = {"quick": bool(args.quick), "platform": os.environ.get("QT_QPA_PLATFORM", "")}
    print("first loss point (fresh processes)…", flush=True)
    results.update(measure_first_point())
    app = _app()
    print("draw costs…", flush=True)
    results.update(measure_draw_costs(app))
    print(f"stalls ({seconds:g} s per dataset)…", flush=True)
    results.update(measure_stalls(app, seconds, args.quick))
    print("hidden-size restarts…", flush=True)
    results.update(measure_resize(app))
    print(f"RSS over {rss_epochs} epochs…", flush=True)
    results.update(measure_rss(app, rss_epochs))
    print("following a run another process writes…", flush=True)
    results.update(measure_follow(app))
    print("the Runs view with 200 runs…", flush=True)
    results.update(measure_runs_view(app))
    results["targets"] = TARGETS
    results["pass"] = all(results.get(k, float("inf")) <= v for k, v in TARGETS.items())
    print_table(results)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
