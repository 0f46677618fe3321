"""RNN Scope's engine: pure computation (NumPy + PyTensor), never Qt.

``engine.backend`` is imported first so compute is limited to one thread before NumPy or JAX
start. Heavier modules load on first use, so ``import engine`` stays cheap.
"""
from engine import backend  # noqa: F401  (side effect: thread limits, PyTensor flags)

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
