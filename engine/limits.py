"""The engine's size limits, declared once.

Everything that decides how much memory a run takes is bounded here, and every door checks the
same numbers: ``TrainingConfig`` (so the window, the command line and the Python API refuse the
same settings), the checkpoint reader (a crafted file must not allocate beyond them) and the
window's controls (which show them as ranges). Standard library only, like ``engine.names``.
"""

MAX_LAYERS = 8  # stacked recurrent layers
MAX_UNITS = 4096  # hidden units per layer (also the widest character embedding)
MAX_EPOCHS = 1_000_000  # epochs of one run, counted across resumes
MAX_WINDOW = 1_000_000  # BPTT / forecast window in steps (the loaders' longest numeric sequence)
MAX_BATCH_SIZE = 65_536  # sequences per minibatch
MAX_VOCABULARY = 1 << 20  # characters, classes, features or targets named in a dataset

# Checkpoint files (engine.checkpoint): bounds checked before anything is read or allocated.
MAX_CHECKPOINT_BYTES = 16 << 30  # uncompressed size of all arrays together
MAX_ARRAYS = 1024  # arrays in one checkpoint (parameters + optimizer state)
MAX_ARRAY_DIMS = 4  # dimensions of one stored array
MAX_DEFLATE_RATIO = 64  # a compressed member may expand at most this much (zip bombs)
