"""The Runs view at scale, for bench_ui.py: 200 run folders of 1,000 epochs each.

runs_open_s
    From building the Runs dock on a runs folder of 200 runs (1,000 metrics rows and a few events
    each, written in a temporary folder at benchmark time) to its table showing all 200 rows; the
    dock reads them a few per turn of the event loop, and ``runs_open_frame_max_ms`` is the longest
    frame (5 ms heartbeat gap) meanwhile.
runs_overlay_frame_max_ms
    Ticking 10 of them, one every 100 ms, so their loss curves are overlaid in the loss plot: the
    longest gap between two ticks of a 5 ms heartbeat QTimer while that happens (each tick and the
    repaint after it must fit in a frame), and the median gap beside it. The same heartbeat over
    one second with the view idle is reported as ``runs_idle_frame_max_ms``: on a loaded machine
    the scheduler alone makes gaps of that size.
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time

RUNS = 200
EPOCHS = 1000
OVERLAID = 10
HEARTBEAT_MS = 5
TICK_INTERVAL_S = 0.1
TARGETS = {"runs_open_s": 2.0, "runs_overlay_frame_max_ms": 50.0}


def write_runs(runs_dir: str, runs: int = RUNS, epochs: int = EPOCHS) -> None:
    """``runs`` finished run folders of ``epochs`` epochs (the run folder's own writers, no training)."""
    import numpy as np

    from engine.run_folder import EVENTS, FORMAT, METRICS, RUN_JSON, VERSION, atomic_write_text, event_line, \
        json_text, metrics_text

    rng = np.random.default_rng(0)
    for k in range(runs):
        folder = os.path.join(runs_dir, f"2026-12-01_{k:04d}_sine")
        os.makedirs(folder)
        decay = rng.uniform(50, 400)
        val = 0.05 + np.exp(-np.arange(1, epochs + 1) / decay) + 0.01 * rng.random(epochs)
        lr = float(10 ** rng.uniform(-4, -2))
        history = [{"epoch": e, "train_loss": float(v * 0.9), "val_loss": float(v), "val_accuracy": None,
                    "learning_rate": lr if e < epochs // 2 else lr / 3, "clip_norm": 5.0, "momentum": 0.9,
                    "wall_s": 0.05 * e, "grad_norms": {"layer1": 1.0, "head": 0.5},
                    "weight_norms": {"layer1": 2.0, "head": 1.0}} for e, v in enumerate(val, start=1)]
        atomic_write_text(os.path.join(folder, METRICS), metrics_text(history), fsync=False)
        events = [event_line("start", 0, 0.0), event_line("set", epochs // 2, 1.0, name="learning_rate", old=lr,
                                                          new=lr / 3),
                  *(event_line("checkpoint", e, 0.05 * e, file="checkpoint.npz") for e in range(100, epochs + 1, 100)),
                  event_line("finish", epochs, 0.05 * epochs)]
        atomic_write_text(os.path.join(folder, EVENTS), "\n".join(events) + "\n", fsync=False)
        best = int(np.argmin(val)) + 1
        meta = {"format": FORMAT, "version": VERSION, "name": f"run {k:03d} · gru (16)", "status": "finished",
                "config": {"cell": "gru", "hidden_sizes": [16], "optimizer": "adam", "learning_rate": lr,
                           "batch_size": 32, "epochs": epochs, "clip_norm": 5.0, "seed": k},
                "dataset": {"name": "sine"}, "epoch": epochs, "epochs": epochs,
                "best": {"epoch": best, "val_loss": float(val[best - 1])}, "note": ""}
        atomic_write_text(os.path.join(folder, RUN_JSON), json_text(meta), fsync=False)


class Heartbeat:
    """A 5 ms precise QTimer; ``gaps_ms`` are the times between its ticks (a long one = a stalled frame)."""

    def __init__(self):
        from PyQt5 import QtCore

        self.times: list[float] = []
        self.timer = QtCore.QTimer()
        self.timer.setTimerType(QtCore.Qt.PreciseTimer)
        self.timer.setInterval(HEARTBEAT_MS)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def start(self) -> None:
        self.times = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return [(b - a) * 1000.0 for a, b in zip(self.times, self.times[1:])]


def measure_runs_view(app) -> dict:
    from gui.plots import LossPlot
    from gui.runs_panel import RunsPanel

    runs_dir = os.path.join(tempfile.mkdtemp(prefix="rnnscope-bench-runs-"), "runs")
    os.makedirs(runs_dir)
    print(f"  writing {RUNS} run folders of {EPOCHS} epochs…", flush=True)
    write_runs(runs_dir)
    gc.collect()  # the writing's garbage is the benchmark's, not the view's
    beat = Heartbeat()
    beat.start()
    start = time.perf_counter()
    panel = RunsPanel(runs_dir)
    panel.resize(1000, 600)
    panel.show()  # the panel reads the runs folder a few folders per turn of the event loop
    while panel.model.rowCount() < RUNS and time.perf_counter() - start < 120:
        app.processEvents()
    opened = time.perf_counter() - start
    beat.times.append(time.perf_counter())  # the frame in progress: all of it when the rows came in one
    open_gaps = beat.stop()
    plot = LossPlot()
    panel.sigCompareChanged.connect(lambda: plot.set_compared(panel.compared_curves()))
    plot.resize(900, 500)
    plot.show()
    app.processEvents()
    names = [r.name for r in panel.runs()][:OVERLAID]

    beat = Heartbeat()
    beat.start()
    idle_until = time.perf_counter() + 1.0
    while time.perf_counter() < idle_until:
        app.processEvents()
        time.sleep(0.001)
    idle = beat.stop()
    beat.start()
    work = []  # the tick's own work: the check box (the panel reads the run, then the plot builds and draws
    # its items, each in a later frame of its own: the heartbeat's gaps measure them)
    for name in names:
        due = time.perf_counter() + TICK_INTERVAL_S
        started = time.perf_counter()
        panel.set_checked(name)
        work.append((time.perf_counter() - started) * 1000.0)
        while time.perf_counter() < due:
            app.processEvents()
            time.sleep(0.001)
    gaps = beat.stop()
    overlaid = len(plot.compared())
    panel.close()
    plot.close()
    print(f"  {RUNS} runs x {EPOCHS} epochs: table in {opened:.2f} s (longest frame meanwhile "
          f"{max(open_gaps):.1f} ms); overlaying {overlaid}: frame gaps "
          f"median {statistics.median(gaps):.1f} ms, max {max(gaps):.1f} ms (idle: max {max(idle):.1f} ms; "
          f"load average {os.getloadavg()[0]:.1f}); a tick's own work median {statistics.median(work):.1f} ms, "
          f"max {max(work):.1f} ms", flush=True)
    return {"runs_open_s": opened, "runs_open_frame_max_ms": max(open_gaps), "runs_overlay_frame_max_ms": max(gaps),
            "runs_overlay_frame_median_ms": statistics.median(gaps), "runs_overlaid": overlaid,
            "runs_idle_frame_max_ms": max(idle), "runs_load_average": os.getloadavg()[0],
            "runs_tick_work_median_ms": statistics.median(work), "runs_tick_work_max_ms": max(work)}
