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
           "MAX_WINDOW", "MAX_TRAJECTORY_SEQUENCES", "MAX_TRAJECTORY_VALUES", "MAX_SPECTRUM_UNITS",
           "INSIGHT_BUDGET_BYTES", "MAX_STORED_CLASS_NAMES", "MAX_CLASS_NAME_CHARS", "hidden_sizes_problem"]

MAX_LAYERS = 8  # stacked recurrent layers
MAX_HIDDEN_UNITS = 4096  # units in one layer
MAX_BATCH_SIZE = 65536  # sequences per minibatch
MAX_EPOCHS = 10_000_000  # epochs of one run, counted across resumes
MAX_EMBEDDING_SIZE = 4096  # text inputs: width of the character embedding
MAX_WINDOW = 1_000_000  # BPTT / forecast window in steps (the loaders' longest numeric sequence)

# The views that look inside (engine.insights): bounded, whatever the model and data.
MAX_TRAJECTORY_SEQUENCES = 50  # validation sequences in the state-space trajectory (the probe first)
MAX_TRAJECTORY_VALUES = 1 << 16  # sequences x steps x units kept per trajectory (128 KB as float16)
MAX_SPECTRUM_UNITS = 1024  # eigenvalues of U per layer up to this size (np.linalg.eigvals is O(H^3))
INSIGHT_BUDGET_BYTES = 4 << 20  # a run folder's insights/ stays within about this size
# run.json names the classes (an opened folder's trajectory legend) within a few KB:
MAX_STORED_CLASS_NAMES = 256  # the first this many class names
MAX_CLASS_NAME_CHARS = 40  # each cut to this many characters


def hidden_sizes_problem(sizes) -> str | None:
    """What is wrong with a tuple of layer sizes (positive ints assumed), or None if it fits."""
    if len(sizes) > MAX_LAYERS:
        return f"{len(sizes)} layers is too many; use at most {MAX_LAYERS}"
    for size in sizes:
        if size > MAX_HIDDEN_UNITS:
            return f"{size} units in one layer is too many; each layer takes 1 to {MAX_HIDDEN_UNITS} units"
    return None
