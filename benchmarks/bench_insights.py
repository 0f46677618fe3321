"""What looking inside costs training: epochs per second with engine.insights on and off.

    python benchmarks/bench_insights.py [--json PATH] [--seconds S] [--rounds N]

On each bundled sample with the suggested settings (engine.suggest), one Run trains in
blocks of ``--seconds`` of wall time, alternating insights off / on (the Run's own cadence, as
headless mode and the window's worker use it: at most ~1/80 of the wall time, at least 1 s
apart), ``--rounds`` times each, interleaved so a change in machine load hits both alike. The
insight graph is compiled (and the first look taken) before timing: that one-off compile is
reported apart (``insight_compile_s``). The figure is ``slowdown`` = 1 - median epochs/s on /
median epochs/s off (positive = slower with insights; noisy on a loaded machine), and
``time_looking`` = the share of the on-blocks' wall time spent in looks (measured around each look:
what the cadence bounds, and robust to load), plus the looks per second taken.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import backend  # noqa: E402

SAMPLES = ("waveforms_TRAIN.tsv", "sine_forecast.csv", "words.txt")


def _block(run, seconds: float, enabled: bool) -> tuple:
    """Epochs for at least ``seconds`` of wall time -> (epochs per second, looks taken, wall s,
    seconds spent looking)."""
    run.insights.enabled = enabled
    cadence = run.insights.cadence
    looks_before, spent_before = cadence.looks, cadence.spent_s
    start = time.perf_counter()
    if enabled and getattr(cadence, "paused_at", None) is not None:
        # the off block in between does not count: the on blocks are one continuous run for the cadence
        cadence.next_due += time.monotonic() - cadence.paused_at
    epochs = 0
    while time.perf_counter() - start < seconds:
        run.step()
        epochs += 1
    elapsed = time.perf_counter() - start
    cadence.paused_at = time.monotonic() if enabled else getattr(cadence, "paused_at", None)
    return epochs / elapsed, cadence.looks - looks_before, elapsed, cadence.spent_s - spent_before


def measure(sample: str, seconds: float, rounds: int) -> dict:
    from engine.data import load_sequences
    from engine.runs import Run
    from engine.suggest import suggest
    from engine.training import TrainingConfig
    from resources import sample_path

    dataset = load_sequences(sample_path(sample))
    config = TrainingConfig(**{**suggest(dataset).settings, "epochs": 5_000_000})
    run = Run.start(config, dataset)
    run.step()  # compiles training
    start = time.perf_counter()
    run.insights.look(run.trainer.epoch)  # compiles f_insight
    compile_s = time.perf_counter() - start
    run.insights.cadence.paused_at = time.monotonic()  # the first on block continues from this look
    off, on, looks, wall, spent = [], [], 0, 0.0, 0.0
    for _ in range(rounds):
        off.append(_block(run, seconds, False)[0])
        rate, n, elapsed, looking = _block(run, seconds, True)
        on.append(rate)
        looks, wall, spent = looks + n, wall + elapsed, spent + looking
    median_off, median_on = statistics.median(off), statistics.median(on)
    return {"sample": sample, "cell": config.cell, "hidden": list(config.hidden_sizes),
            "epochs_per_s_off": round(median_off, 3), "epochs_per_s_on": round(median_on, 3),
            "slowdown": round(1 - median_on / median_off, 4), "time_looking": round(spent / wall, 4),
            "looks_per_s": round(looks / wall, 3), "insight_compile_s": round(compile_s, 2)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--seconds", type=float, default=6.0, help="wall time of one block (default 6)")
    parser.add_argument("--rounds", type=int, default=4, help="blocks per mode (default 4)")
    parser.add_argument("--only", default="", help="comma-separated samples, e.g. sine_forecast.csv")
    args = parser.parse_args(argv)
    backend.configure("jax")
    results = []
    print(f"{'sample':22} {'cell':6} {'epochs/s off':>12} {'on':>8} {'slowdown':>9} {'looking':>8} {'looks/s':>8} "
          f"{'compile s':>9}")
    for sample in [s for s in SAMPLES if not args.only or s in args.only.split(",")]:
        r = measure(sample, args.seconds, args.rounds)
        results.append(r)
        print(f"{r['sample']:22} {r['cell']:6} {r['epochs_per_s_off']:12.3f} {r['epochs_per_s_on']:8.3f} "
              f"{100 * r['slowdown']:8.1f}% {100 * r['time_looking']:7.2f}% {r['looks_per_s']:8.3f} "
              f"{r['insight_compile_s']:9.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"backend": backend.describe(), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
