"""The File ▸ Open recent list: datasets opened before (one entry = the paths opened together), in QSettings."""

from __future__ import annotations

import json
import os

from PyQt5 import QtCore, QtWidgets

MAX_RECENT = 8


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

    def add(self, paths) -> None:
        entry = [os.path.abspath(p) for p in paths]
        entries = [e for e in self.entries() if e != entry]
        entries.insert(0, entry)
        self.settings.setValue("recent_files", json.dumps(entries[:MAX_RECENT]))
        self.settings.setValue("last_dir", os.path.dirname(entry[0]))
        self.rebuild_menu()

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
