"""Command-line flags -> TrainingConfig fields and loading options: one table, read the same way by
the window and headless mode.

:func:`config_changes` (a ``TrainingConfig``), :func:`load_options` (``load_sequences`` options,
issue 10's data flags) and :func:`dataset_paths` (the files to open) are all the two modes use, so
a flag means the same in both. :func:`flag_for` names the flag of a field or option, for messages.

The data flags are the loading options that ``engine.data.options.OPTIONS`` gives a flag (declared
there once, with the dialog's labels); ``main.py`` builds its "data" group from the same table.
Qt-free, so ``gui.app`` and ``gui.headless`` both use it without importing each other.
"""

from __future__ import annotations

import functools
import os

__all__ = ["CONFIG_FLAGS", "config_changes", "load_flags", "load_options", "flag_for", "dataset_paths",
           "saliency_step"]

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


def saliency_step(args) -> int | None:
    """``--saliency-step N``: the 0-based step whose prediction the saliency explains, None for the
    probe's last (the default, or -1). Whether the probe has that step is checked once its data is
    known (headless refuses before training; the window says so at its first look)."""
    value = getattr(args, "saliency_step", None)
    return None if value is None or int(value) == -1 else int(value)


@functools.lru_cache(maxsize=1)
def load_flags() -> dict:
    """args attribute -> load_sequences option, for every option engine.data.options gives a flag."""
    from engine.data.options import OPTIONS

    return {_dest(o.flag): key for key, o in OPTIONS.items() if o.flag}


def _dest(flag: str) -> str:
    return flag.split("/")[0].lstrip("-").replace("-", "_")  # "--header/--no-header" -> "header"


def parse_columns(text: str):
    """``--target-column price`` / ``2`` / ``a,b`` / ``none`` -> "price" / 2 / ["a", "b"] / []."""
    if text.strip().lower() == "none":
        return []
    parts = [int(p) if p.strip().isdigit() else p.strip() for p in str(text).split(",") if p.strip()]
    return parts[0] if len(parts) == 1 else parts


def load_options(args) -> dict:
    """``load_sequences`` keyword options for the data flags given (the rest stay automatic)."""
    options = {}
    for arg, option in load_flags().items():
        if not hasattr(args, arg):  # the parser sets a data flag's attribute only when it is given
            continue
        value = getattr(args, arg)
        options[option] = parse_columns(value) if option in ("target_column", "index_columns") else value
    return options


def flag_for(field: str) -> str:
    """The flag that sets a TrainingConfig field or loading option: ``hidden_sizes`` -> ``--hidden``,
    ``has_header`` -> ``--header``."""
    for table in (CONFIG_FLAGS, load_flags()):
        for arg, name in table.items():
            if name == field:
                return "--" + arg.replace("_", "-")
    known = [*CONFIG_FLAGS.values(), *load_flags().values()]
    raise KeyError(f"no command-line flag sets {field!r}; flags set {', '.join(known)}")


def dataset_paths(args) -> tuple[list[str], list[str]]:
    """The files to open, and notes to show: FILEs, ``--sample``, bundled sample names, or the default.

    A FILE that does not exist but names a bundled sample (``rnn-scope words.txt`` run from any
    folder after ``pip install``) opens that sample; a file that exists always wins.
    """
    import resources

    files, notes = [], []
    for name in list(getattr(args, "files", None) or []):
        if not os.path.exists(name) and not os.path.dirname(name) and _is_sample(name):
            files.append(resources.sample_path(name))
            notes.append(f"{name}: no such file here, so the bundled sample {name} is opened")
        else:
            files.append(name)
    sample = getattr(args, "sample", None)  # the parser has resolved it to a path already
    if sample:
        files.append(os.fspath(sample))
    if not files:
        files = [os.fspath(resources.default_dataset_path())]
    return files, notes


def _is_sample(name: str) -> bool:
    import resources

    try:
        resources.sample_path(name)
    except ValueError:
        return False
    return True
