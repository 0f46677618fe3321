"""The Help menu: Getting started, Keyboard Shortcuts, About RNN Scope.

Everything is offline: the Getting started page is bundled (``resources/help``), the shortcut
list is read from the window's own actions (so it cannot drift from what the keys do), and the
About box reads versions from package metadata, so opening it never imports JAX on the GUI
thread. ``install_help_menu(window)`` is the one hook ``gui.main_window`` calls.
"""
from __future__ import annotations

import html
import logging
import platform
from importlib import metadata

from PyQt5 import QtCore, QtGui, QtWidgets
from PyQt5.QtCore import Qt

APP_NAME = "RNN Scope"
VERSIONED = {"pytensor": "PyTensor", "jax": "JAX", "jaxlib": "jaxlib", "numpy": "NumPy",
             "pyqtgraph": "pyqtgraph"}  # distribution -> label


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def log_files() -> list[str]:
    """Files the logging system writes to (e.g. from ``--log-file``), root and RNN Scope loggers."""
    paths = []
    for name in (None, "rnnscope", "gui", "engine"):
        for handler in logging.getLogger(name).handlers:
            path = getattr(handler, "baseFilename", None)
            if path and path not in paths:
                paths.append(path)
    return paths


def _backend_line() -> str:
    from engine import backend

    if backend.selected() is not None:
        return backend.describe()
    return f"{backend.requested_backend()} (loaded when training starts)"


def about_rows() -> list[tuple[str, str]]:
    """(label, value) rows of the About box: versions, backend, where things are kept."""
    import engine
    from engine import backend

    settings = QtCore.QSettings()
    rows = [("Version", engine.__version__), ("Python", platform.python_version())]
    rows += [(label, _version(dist)) for dist, label in VERSIONED.items()]
    rows += [("Qt", f"{QtCore.QT_VERSION_STR} (PyQt5 {QtCore.PYQT_VERSION_STR})"),
             ("Backend", _backend_line()),
             ("Settings", settings.fileName()),
             ("Compile cache", str(backend.cache_dir())),
             ("Log", ", ".join(log_files()) or "no log file: messages go to the terminal (stderr)")]
    return rows


def shortcut_rows(window) -> list[tuple[str, str]]:
    """(what, keys) for every action of the window that has a shortcut, in menu order."""
    rows, seen = [], set()
    for action in window.findChildren(QtWidgets.QAction):
        keys = action.shortcut().toString(QtGui.QKeySequence.NativeText)
        text = action.text().replace("&", "").rstrip("…").strip()
        if keys and (text, keys) not in seen:
            seen.add((text, keys))
            rows.append((text, keys))
    return rows


def _table(rows) -> str:
    cells = "".join(f"<tr><td><b>{html.escape(a)}</b>&nbsp;&nbsp;</td><td>{html.escape(b)}</td></tr>"
                    for a, b in rows)
    return f"<table cellspacing='2'>{cells}</table>"


class HelpDialog(QtWidgets.QDialog):
    """A read-only page (HTML or Markdown) with a Close button; not modal, so training goes on."""

    def __init__(self, title: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName(f"help_{title.lower().replace(' ', '_')}")
        self.browser = QtWidgets.QTextBrowser()
        self.browser.setOpenExternalLinks(False)  # offline: nothing opens a browser
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(620, 520)

    def show_page(self, text: str, markdown: bool = False) -> None:
        if markdown:
            self.browser.setMarkdown(text)
        else:
            self.browser.setHtml(text)
        self.show()
        self.raise_()
        self.activateWindow()


class HelpMenu(QtCore.QObject):
    """Owns the Help menu's actions and its three dialogs (created on first use)."""

    def __init__(self, window: QtWidgets.QMainWindow):
        super().__init__(window)
        self.window = window
        self.dialogs: dict[str, HelpDialog] = {}
        self.menu = window.menuBar().addMenu("&Help")
        self.act_getting_started = self._add("&Getting started", self.show_getting_started, "F1")
        self.act_shortcuts = self._add("&Keyboard shortcuts", self.show_shortcuts, "Ctrl+/")
        self.menu.addSeparator()
        self.act_about = self._add(f"&About {APP_NAME}", self.show_about)
        self.act_about.setMenuRole(QtWidgets.QAction.AboutRole)

    def _add(self, text, slot, shortcut=None) -> QtWidgets.QAction:
        action = QtWidgets.QAction(text, self.window)
        if shortcut:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ApplicationShortcut)
        action.triggered.connect(lambda _checked=False: slot())
        self.menu.addAction(action)
        return action

    def _dialog(self, title: str) -> HelpDialog:
        if title not in self.dialogs:
            self.dialogs[title] = HelpDialog(title, self.window)
        return self.dialogs[title]

    def show_getting_started(self) -> HelpDialog:
        import resources

        with open(resources.help_path("getting_started.md"), encoding="utf-8") as f:
            text = f.read()
        dialog = self._dialog("Getting started")
        dialog.show_page(text, markdown=True)
        return dialog

    def show_shortcuts(self) -> HelpDialog:
        rows = shortcut_rows(self.window)
        rows.append(("Trace a hidden unit", "click its row in a heatmap"))
        dialog = self._dialog("Keyboard shortcuts")
        dialog.show_page(f"<h3>Keyboard shortcuts</h3>{_table(rows)}")
        return dialog

    def show_about(self) -> HelpDialog:
        dialog = self._dialog(f"About {APP_NAME}")
        dialog.show_page(
            f"<h2>{APP_NAME}</h2><p>Watch a recurrent neural network learn.<br>"
            f"MIT License, © RNN Scope developers.</p>{_table(about_rows())}")
        return dialog


def install_help_menu(window: QtWidgets.QMainWindow) -> HelpMenu:
    """Add the Help menu to ``window``'s menu bar (call it after the other menus)."""
    return HelpMenu(window)
