"""Command-line flags -> TrainingConfig fields: one table, read the same way by the window and headless.

Qt-free and light (no engine import), so ``gui.app`` and ``gui.headless`` both use it without
importing each other.
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


def flag_for(field: str) -> str:
    """The command-line flag that sets a TrainingConfig field, e.g. ``hidden_sizes`` -> ``--hidden``."""
    for arg, config_field in CONFIG_FLAGS.items():
        if config_field == field:
            return "--" + arg.replace("_", "-")
    raise KeyError(f"no command-line flag sets {field!r}; flags set {', '.join(CONFIG_FLAGS.values())}")
