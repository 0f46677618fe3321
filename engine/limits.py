"""The largest model and run RNN Scope accepts: declared once, used everywhere.

``TrainingConfig`` validates against these, so every way a config is made (the command line, the
window's controls, a checkpoint's saved config) meets the same limits with the same message. The
window's controls and the command-line parser import them for their ranges instead of keeping
their own numbers. No heavy imports: ``main.py --help`` reads this module.

Without a limit ``--hidden 100000`` asks for 40 GB for one Elman layer's 100000 x 100000 float32
recurrent matrix before anything else is checked.
"""

from __future__ import annotations

__all__ = ["MAX_LAYERS", "MAX_HIDDEN_UNITS", "MAX_BATCH_SIZE", "MAX_EPOCHS", "MAX_EMBEDDING_SIZE",
           "MAX_WINDOW", "hidden_sizes_problem"]

MAX_LAYERS = 8  # stacked recurrent layers
MAX_HIDDEN_UNITS = 4096  # units in one layer
MAX_BATCH_SIZE = 65536  # sequences per minibatch
MAX_EPOCHS = 10_000_000  # epochs of one run, counted across resumes
MAX_EMBEDDING_SIZE = 4096  # text inputs: width of the character embedding
MAX_WINDOW = 1_000_000  # BPTT / forecast window in steps (the loaders' longest numeric sequence)


def hidden_sizes_problem(sizes) -> str | None:
    """What is wrong with a tuple of layer sizes (positive ints assumed), or None if it fits."""
    if len(sizes) > MAX_LAYERS:
        return f"{len(sizes)} layers is too many; use at most {MAX_LAYERS}"
    for size in sizes:
        if size > MAX_HIDDEN_UNITS:
            return f"{size} units in one layer is too many; each layer takes 1 to {MAX_HIDDEN_UNITS} units"
    return None
