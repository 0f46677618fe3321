"""What the command-line flags mean: one table for the window and headless mode.

The window (``gui.app``) and headless mode (``gui.headless``) both turn the parsed flags into a
``TrainingConfig`` with :func:`config_changes`, so a flag means the same in both; Qt-free and
light, so neither imports the other for it.
"""

from __future__ import annotations

import os

# args attribute -> TrainingConfig field (only the ones given on the command line are passed)
CONFIG_FLAGS = {
    "cell": "cell",
    "hidden": "hidden_sizes",
    "optimizer": "optimizer",
    "lr": "learning_rate",
    "batch_size": "batch_size",
    "epochs": "epochs",
    "seed": "seed",
    "backend": "backend",
    "dtype": "dtype",
    "patience": "patience",
}


def config_changes(args) -> dict:
    """TrainingConfig fields for the flags given on the command line (and ``$RNNSCOPE_BACKEND``)."""
    changes = {}
    for arg, field in CONFIG_FLAGS.items():
        value = getattr(args, arg, None)
        if value is not None:
            changes[field] = tuple(value) if field == "hidden_sizes" else value
    if "backend" not in changes and os.environ.get("RNNSCOPE_BACKEND"):
        changes["backend"] = os.environ["RNNSCOPE_BACKEND"].strip().lower()
    return changes


def flag_for(option: str) -> str:
    """The command-line spelling of a config field, e.g. ``hidden_sizes`` -> ``--hidden``."""
    for arg, name in CONFIG_FLAGS.items():
        if name == option:
            return "--" + arg.replace("_", "-")
    raise KeyError(option)
