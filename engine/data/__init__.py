"""Sequence data for RNN Scope: loaders, SequenceDataset, DataError, windowing, padded arrays.

Qt-free (numpy only). The contract is in docs/ARCHITECTURE.md (engine.data)::

    ds = load_sequences("sunspots.csv")          # or a list of files
    split = ds.split(validation_fraction=0.2, seed=0)
    split.train.x, split.train.mask, split.train.y  # padded, example-major (N, T, ...)
    # engine.batches.TimeMajor turns them into the fixed-shape time-major batches training uses

Modules (one noun each; the map is in docs/ARCHITECTURE.md): ``errors`` (DataError), ``files``
(careful file access), ``options`` (the loading options, their CLI flags and dialog labels),
``formats`` (Loaded, value cleaning), ``sniff`` (what a table's head says), ``tables`` (streamed
CSV/TSV/UCR reading), ``ts``, ``npy`` (.npy/.npz), ``text``, ``dataset`` (SequenceDataset, Split,
Arrays), ``loading``
(load_sequences, preview).
"""

from __future__ import annotations

import importlib

# Names resolved on first use (PEP 562), so that importing a light submodule (``options``, the
# loading options main.py's --help lists; ``errors``) does not import NumPy through this package.
_LAZY = {
    "TASKS": "dataset", "Arrays": "dataset", "SequenceDataset": "dataset", "Split": "dataset",
    "DataError": "errors",
    "FORMATS": "loading", "Preview": "loading", "load_sequences": "loading", "preview": "loading",
}

__all__ = ["TASKS", "FORMATS", "DataError", "load_sequences", "preview", "Preview", "SequenceDataset", "Split",
           "Arrays"]


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
