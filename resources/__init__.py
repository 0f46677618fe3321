"""Qt-free access to the bundled sample data and icons.

Paths only: the GUI turns icon paths into QIcons (this package never imports Qt). Unknown names
raise a ValueError that lists the known ones (as napari's ``resources/_icons.py`` does).
"""

from __future__ import annotations

import os

__all__ = ["SAMPLES_DIR", "ICONS_DIR", "HELP_DIR", "DESKTOP_FILE", "DEFAULT_DATASET", "sample_path",
           "icon_path", "help_path", "default_dataset_path", "list_samples", "list_icons"]

_HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES_DIR = os.path.join(_HERE, "samples")
ICONS_DIR = os.path.join(_HERE, "icons")
HELP_DIR = os.path.join(_HERE, "help")  # offline help pages (Markdown), shown by the Help menu
DESKTOP_FILE = os.path.join(_HERE, "rnn-scope.desktop")  # template for Linux application menus
DEFAULT_DATASET = "sine_forecast.csv"

# Files in samples/ that are not data sets.
_NOT_SAMPLES = {"README.md", "make_samples.py", "words_COPYRIGHT.txt", "__init__.py"}
_SAMPLE_EXTENSIONS = {".csv", ".tsv", ".txt", ".ts", ".npy", ".npz"}
_ICON_EXTENSIONS = (".svg", ".png", ".ico")


def list_samples() -> list[str]:
    """File names of the bundled data sets, sorted."""
    if not os.path.isdir(SAMPLES_DIR):
        return []
    return sorted(name for name in os.listdir(SAMPLES_DIR)
                  if name not in _NOT_SAMPLES and os.path.splitext(name)[1].lower() in _SAMPLE_EXTENSIONS)


def list_icons() -> list[str]:
    """File names of the bundled icons, sorted."""
    if not os.path.isdir(ICONS_DIR):
        return []
    return sorted(name for name in os.listdir(ICONS_DIR) if name.lower().endswith(_ICON_EXTENSIONS))


def _find(name: str, known: list[str], folder: str, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} name must be a non-empty string, got {name!r}; known: {', '.join(known)}")
    if name in known:
        return os.path.join(folder, name)
    matches = sorted((k for k in known if os.path.splitext(k)[0] == name),
                     key=lambda k: (os.path.splitext(k)[1].lower() != ".svg", k))
    if matches:
        return os.path.join(folder, matches[0])
    raise ValueError(f"unknown {what} {name!r}; known {what}s: {', '.join(known) or '(none)'}")


def sample_path(name: str) -> str:
    """Absolute path of a bundled data set, by file name (``"waveforms_TRAIN.tsv"``) or stem."""
    return _find(name, list_samples(), SAMPLES_DIR, "sample")


def icon_path(name: str) -> str:
    """Absolute path of a bundled icon, by file name (``"rnnscope.svg"``) or stem (SVG preferred)."""
    return _find(name, list_icons(), ICONS_DIR, "icon")


def help_path(name: str) -> str:
    """Absolute path of a bundled help page, by file name or stem (``"getting_started"``)."""
    known = sorted(os.listdir(HELP_DIR)) if os.path.isdir(HELP_DIR) else []
    return _find(name, known, HELP_DIR, "help page")


def default_dataset_path() -> str:
    """The data set the app opens with: noisy multi-frequency sines, task forecast."""
    return sample_path(DEFAULT_DATASET)
