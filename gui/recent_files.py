"""The File ▸ Open recent list: datasets opened before (one entry = the paths opened together), in QSettings."""

from __future__ import annotations

import json
import os

from PyQt5 import QtCore, QtWidgets

MAX_RECENT = 8
LAST_DATASET_KEY = "last_dataset"  # {"paths": [...], "options": {...}} of the dataset open last


class RecentFiles:
    """Recently opened datasets and the last folder, kept in ``settings`` and shown in ``menu``."""

    def __init__(self, settings: QtCore.QSettings, menu: QtWidgets.QMenu, open_paths):
        self.settings = settings
        self.menu = menu
        self._open_paths = open_paths  # called with an entry's paths when the user picks it
        self.rebuild_menu()

    def entries(self) -> list[list[str]]:
        text = self.settings.value("recent_files", "")
        try:
            entries = json.loads(str(text)) if text else []
        except ValueError:  # a hand-edited or foreign settings file: start a new list
            entries = []
        return [list(map(str, e)) for e in entries if isinstance(e, list) and e][:MAX_RECENT]

    def add(self, paths, options: dict | None = None) -> None:
        """``paths`` were opened (with the loading ``options``): first in the list, and the dataset
        the next launch reopens (see :meth:`startup_dataset`)."""
        entry = [os.path.abspath(p) for p in paths]
        entries = [e for e in self.entries() if e != entry]
        entries.insert(0, entry)
        self.settings.setValue("recent_files", json.dumps(entries[:MAX_RECENT]))
        self.settings.setValue("last_dir", os.path.dirname(entry[0]))
        self.settings.setValue(LAST_DATASET_KEY, json.dumps({"paths": entry, "options": dict(options or {})}))
        self.rebuild_menu()

    def last_dataset(self) -> tuple[list[str], dict] | None:
        """The paths and loading options of the dataset open when the last session ended."""
        text = self.settings.value(LAST_DATASET_KEY, "")
        try:
            record = json.loads(str(text)) if text else None
            paths = [str(p) for p in record["paths"]] if record else []
            options = dict(record.get("options") or {})
        except (ValueError, TypeError, KeyError, AttributeError):  # hand-edited or foreign settings
            return None
        return (paths, options) if paths else None

    def startup_dataset(self, default: list[str]) -> tuple[list[str], dict, str]:
        """What a launch with no file named opens: the last session's dataset if its files still
        exist, else ``default`` (the bundled sample); with options and a status-bar note."""
        last = self.last_dataset()
        if last is None:
            return list(default), {}, ""
        paths, options = last
        names = " + ".join(os.path.basename(p) for p in paths)
        missing = [p for p in paths if not os.path.isfile(p)]
        if missing:
            return list(default), {}, (f"The last session's dataset {missing[0]} no longer exists: "
                                       f"opened the bundled sample instead")
        return paths, options, f"reopened {names}, the dataset of the last session (File ▸ Open recent for others)"

    def last_dir(self) -> str:
        return str(self.settings.value("last_dir", "") or os.getcwd())

    def rebuild_menu(self) -> None:
        self.menu.clear()
        entries = self.entries()
        for entry in entries:
            label = " + ".join(os.path.basename(p) for p in entry)
            action = self.menu.addAction(label)
            action.setToolTip("\n".join(entry))
            action.triggered.connect(lambda _c=False, e=entry: self._open_paths(e))
        self.menu.setEnabled(bool(entries))
