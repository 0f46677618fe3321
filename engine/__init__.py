"""RNN Scope's engine: pure computation (NumPy + PyTensor), never Qt.

Importing it changes nothing in the host process (no environment variable, no compile folder,
no warnings filter): an application that wants RNN Scope's process set-up (one compute thread,
JAX on the CPU, compiled code in RNN Scope's cache) calls ``engine.backend.configure()`` before it
imports NumPy or JAX, as the app, headless mode, the benchmarks and the tests do. Heavier modules
load on first use, so ``import engine`` stays cheap.
"""
from engine import backend  # noqa: F401  (no side effects: see engine.backend.configure)

__version__ = "0.1.0"

_LAZY = {
    "RNN": "engine.tutorial",
    "Trainer": "engine.training",
    "TrainingConfig": "engine.training",
    "EpochReport": "engine.training",
    "load_sequences": "engine.data",
    "SequenceDataset": "engine.data",
    "DataError": "engine.data",
    "CheckpointError": "engine.checkpoint",
}

__all__ = ["backend", "__version__", *_LAZY]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
