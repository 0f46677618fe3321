"""A training step compiled ahead of the run that will use it.

A structural change (hidden sizes, cell, layers) needs a new model, and a new shape needs XLA's
compile of the training step: about a second on its own (README.md, "Latency of structural
changes"). When the user is asked whether to end the run in progress for such a change, the
answer takes a second or more to give; :func:`training_step` spends that time compiling the step
of the configuration asked about. It builds a :class:`engine.training.Trainer` of that
configuration and compiles its training step, so every process-wide cache the next trainer of
that configuration reads is filled: the function cache (the graph, ``engine.function_cache``), the
stored step (``engine.step_store``), and JAX's compiled executable for the new shapes. The trainer
itself is returned as new for the run to take when the user says "yes" (unless compiling meant
running it once). A "no" keeps the caches for a later change; nothing of the run in progress is
touched. Call it on the thread that builds trainers (the training worker's).
"""

from __future__ import annotations

import time

from engine import backend, step_store
from engine.training import Trainer, TrainingConfig


def training_step(config: TrainingConfig, dataset) -> tuple[Trainer | None, float]:
    """Compile the training step a Trainer of ``config`` on ``dataset`` will use.

    Returns the trainer and the seconds it took. The trainer is as new (no step taken: its step
    was compiled ahead, a stored step or a backend that compiles when the function is made), so
    the run it was made for may take it; None when compiling meant taking a step (JAX without the
    step store compiles on the first call)."""
    start = time.perf_counter()
    trainer = Trainer(config, dataset)
    trainer.require_data("compiling a training step ahead")
    trainer._ensure_training_functions()
    if not compiles_on_first_call(trainer.f_train):
        return trainer, time.perf_counter() - start
    x, mask, y = trainer._train.batch(list(range(trainer.batch_size)))
    float(trainer.f_train(x, mask, y)[0])  # this trainer's weights take the step; it is not returned
    return None, time.perf_counter() - start


def compiles_on_first_call(step) -> bool:
    """PyTensor's own JAX function: jitted, compiled by XLA on its first call."""
    return not isinstance(step, step_store.StoredStep) and backend.info().name == "jax"
