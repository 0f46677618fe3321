"""TrainingConfig: everything that defines a training run, validated on creation.

Its fields are what run.json's ``config`` and a checkpoint's settings hold; the live ones
(``engine.names.LIVE_SETTINGS``) change through ``Trainer.update``, the rest need a new run.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from engine import limits
from engine.names import BACKENDS, CELLS, DTYPES, OPTIMIZERS


def is_positive_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value > 0


def is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


FLOAT32_MAX = float(np.finfo(np.float32).max)


def beyond_float32(name: str, value, dtype: str) -> str | None:
    """Why a float setting cannot be a float32 shared value (None if it can): 1e39 is finite
    here and inf in the model, so every step is refused and nothing trains."""
    if dtype == "float32" and value is not None and abs(float(value)) > FLOAT32_MAX:
        return f"{name} {value!r} is too large for float32 (at most {FLOAT32_MAX:.1e})"
    return None


@dataclass
class TrainingConfig:
    """Everything that defines a training run (validated on creation)."""

    cell: str = "elman"  # recurrent cell: "elman" (the tutorial's), "gru" or "lstm"
    hidden_sizes: tuple = (64,)  # one hidden size per stacked layer, e.g. (64, 32)
    optimizer: str = "adam"  # "sgd" | "momentum" | "rmsprop" | "adam"
    learning_rate: float = 3e-3  # step size; can be changed while training
    momentum: float = 0.9  # momentum / rmsprop decay / adam beta1, in [0, 1)
    batch_size: int = 32  # sequences per minibatch (the last one is padded)
    clip_norm: float | None = 5.0  # global gradient-norm clip; None or 0 = off
    epochs: int = 100  # epochs to train (counted across resumes)
    validation_fraction: float = 0.2  # share of sequences held out for validation
    seed: int = 0  # initial weights, split and shuffling: same seed, same losses
    dtype: str = "float32"  # "float32" (fast) | "float64" (for gradient checks)
    backend: str = "jax"  # "jax" | "c" | "numba"
    window: int | None = None  # BPTT / forecast window in steps; None = dataset default
    embedding_size: int = 32  # text inputs only: width of the character embedding
    patience: int | None = None  # early stopping: epochs without a lower validation loss; None/0 = off

    def __post_init__(self):
        if isinstance(self.hidden_sizes, (int, np.integer)) and not isinstance(self.hidden_sizes, bool):
            self.hidden_sizes = (self.hidden_sizes,)
        if isinstance(self.hidden_sizes, (list, tuple)):
            self.hidden_sizes = tuple(int(h) if isinstance(h, (np.integer,)) else h for h in self.hidden_sizes)
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {', '.join(CELLS)}, got {self.cell!r}")
        if (not isinstance(self.hidden_sizes, tuple) or not self.hidden_sizes
                or not all(is_positive_int(h) for h in self.hidden_sizes)):
            raise ValueError(f"hidden_sizes must be positive integers, got {self.hidden_sizes!r}")
        problem = limits.hidden_sizes_problem(self.hidden_sizes)
        if problem:
            raise ValueError(f"hidden_sizes: {problem}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if not is_number(self.learning_rate) or not math.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if not is_number(self.momentum) or not 0 <= self.momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not is_positive_int(self.batch_size):
            raise ValueError(f"batch_size must be a positive integer, got {self.batch_size!r}")
        if self.batch_size > limits.MAX_BATCH_SIZE:
            raise ValueError(f"batch_size {self.batch_size} is too large; use at most {limits.MAX_BATCH_SIZE}")
        if self.clip_norm is not None and (not is_number(self.clip_norm) or not self.clip_norm >= 0
                                           or not math.isfinite(self.clip_norm)):
            raise ValueError(f"clip_norm must be a positive number, or None/0 to turn clipping off, "
                             f"got {self.clip_norm!r}")
        if not is_positive_int(self.epochs):
            raise ValueError(f"epochs must be a positive integer, got {self.epochs!r}")
        if self.epochs > limits.MAX_EPOCHS:
            raise ValueError(f"epochs {self.epochs} is too many; use at most {limits.MAX_EPOCHS}")
        if not is_number(self.validation_fraction) or not 0 < self.validation_fraction < 1:
            raise ValueError(f"validation_fraction must be between 0 and 1 (exclusive), "
                             f"got {self.validation_fraction!r}")
        if not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        for name in ("learning_rate", "clip_norm"):
            problem = beyond_float32(name, getattr(self, name), self.dtype)
            if problem:
                raise ValueError(problem)
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.window is not None and not (is_positive_int(self.window) and self.window >= 2):
            raise ValueError(f"window must be an integer >= 2, or None for the dataset default, "
                             f"got {self.window!r}")
        if self.window is not None and self.window > limits.MAX_WINDOW:
            raise ValueError(f"window {self.window} is too long; use at most {limits.MAX_WINDOW} steps")
        if not is_positive_int(self.embedding_size):
            raise ValueError(f"embedding_size must be a positive integer, got {self.embedding_size!r}")
        if self.embedding_size > limits.MAX_EMBEDDING_SIZE:
            raise ValueError(f"embedding_size {self.embedding_size} is too large; "
                             f"use at most {limits.MAX_EMBEDDING_SIZE}")
        if self.patience is not None and not (self.patience == 0 or is_positive_int(self.patience)):
            raise ValueError(f"patience must be a positive number of epochs, or None/0 for no early stopping, "
                             f"got {self.patience!r}")

    def replace(self, **changes) -> "TrainingConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden_sizes"] = list(self.hidden_sizes)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainingConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known settings are {sorted(known)}")
        d = dict(d)
        if "hidden_sizes" in d and isinstance(d["hidden_sizes"], list):
            d["hidden_sizes"] = tuple(d["hidden_sizes"])
        return cls(**d)
