"""Step speed through the stored training step (engine.step_store) against PyTensor's own function.

    python benchmarks/bench_step_store.py [--steps N] [--rounds R]

Two trainers of the same model on the same data in one process: one trains through PyTensor's
compiled function (the store off), the other through the stored step (a ``jax.export`` of that
function, bound to its shared variables). Their calls are timed in alternating rounds of N steps
on the same batches, so a change in machine load hits both alike; it prints steps/s (median of
the rounds) and the ratio. Workloads: a dispatch-bound one (batch 1, as W1a of bench_engine.py)
and a compute-bound one (W3's sine forecasting, batch 16). One compute thread, pinned to one core.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import backend  # noqa: E402

WORKLOADS = {  # name: (sequences, length, inputs, hidden, classes or 0 for forecasting, batch)
    "batch 1, hidden 128, T=50": (64, 50, 16, 128, 10, 1),
    "batch 16, hidden 32, T=200": (64, 200, 1, 32, 0, 16),
}


def _dataset(n, length, n_in, classes):
    import numpy as np

    from engine.data import SequenceDataset

    rng = np.random.default_rng(0)
    if classes:
        labels = rng.integers(0, classes, n)
        seqs = [rng.standard_normal((length, n_in)).astype(np.float32) + 0.1 * lab for lab in labels]
        return SequenceDataset(sequences=seqs, labels=labels, task="classify_sequence",
                               class_names=[str(c) for c in range(classes)], name="blobs")
    t = np.arange(length)
    seqs = [np.sin(0.1 * t + p)[:, None] for p in rng.uniform(0, 6.3, n)]
    return SequenceDataset(sequences=seqs, task="forecast", name="sine")


def _trainer(dataset, hidden, batch, store: bool):
    from engine import step_store
    from engine.training import Trainer, TrainingConfig

    os.environ[step_store.ENV_SWITCH] = "on" if store else "off"
    trainer = Trainer(TrainingConfig(hidden_sizes=(hidden,), batch_size=batch, learning_rate=1e-3), dataset)
    trainer._ensure_training_functions()
    assert isinstance(trainer.f_train, step_store.StoredStep) == store
    return trainer


def _round(trainer, batches) -> float:
    import numpy as np

    start = time.perf_counter()
    out = None
    for idx in batches:
        out = trainer.f_train(*trainer._train.batch(idx))
    float(np.asarray(out[0]))
    return len(batches) / (time.perf_counter() - start)


def measure(name, spec, steps, rounds) -> tuple[float, float]:
    import numpy as np

    n, length, n_in, hidden, classes, batch = spec
    dataset = _dataset(n, length, n_in, classes)
    plain, stored = _trainer(dataset, hidden, batch, False), _trainer(dataset, hidden, batch, True)
    rng = np.random.default_rng(0)
    batches = [rng.choice(plain._train.n, batch, replace=False) for _ in range(steps)]
    rates = {"pytensor": [], "stored": []}
    _round(plain, batches[:5]), _round(stored, batches[:5])  # warm: first calls compile
    for _ in range(rounds):
        rates["pytensor"].append(_round(plain, batches))
        rates["stored"].append(_round(stored, batches))
    a, b = statistics.median(rates["pytensor"]), statistics.median(rates["stored"])
    print(f"{name}: PyTensor's function {a:,.0f} steps/s, stored step {b:,.0f} steps/s "
          f"(stored / PyTensor {b / a:.3f})", flush=True)
    return a, b


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="bench-step-store-")  # a fresh store
    backend.configure()
    print(f"load average {os.getloadavg()[0]:.2f}; {args.rounds} alternating rounds of {args.steps} steps")
    for name, spec in WORKLOADS.items():
        measure(name, spec, args.steps, args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
