"""Help menu: Getting started, Keyboard shortcuts, About (versions, backend, where things are)."""
import logging

from PyQt5 import QtCore, QtGui, QtWidgets


def _menu(window, title):
    for action in window.menuBar().actions():
        if action.text().replace("&", "") == title:
            return action.menu()
    raise AssertionError(f"no {title} menu in {[a.text() for a in window.menuBar().actions()]}")


def _text(dialog):
    return dialog.browser.toPlainText()


def test_help_menu_is_last_and_has_the_three_pages(make_window):
    window = make_window()
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles[-1] == "Help"
    items = [a.text().replace("&", "") for a in _menu(window, "Help").actions() if not a.isSeparator()]
    assert items == ["Getting started", "Keyboard shortcuts", "About RNN Scope"]


def test_about_names_versions_backend_and_paths(make_window, tmp_path):
    import jax
    import numpy
    import pytensor

    from engine import backend

    window = make_window()
    handler = logging.FileHandler(tmp_path / "rnn-scope.log")
    logging.getLogger().addHandler(handler)
    try:
        window.help_menu.act_about.trigger()
        dialog = window.help_menu.dialogs["About RNN Scope"]
        assert dialog.isVisible() and not dialog.isModal()
        text = _text(dialog)
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    import engine

    for expected in (engine.__version__, pytensor.__version__, jax.__version__, numpy.__version__,
                     QtCore.QT_VERSION_STR, QtCore.PYQT_VERSION_STR,
                     QtCore.QSettings().fileName(), str(backend.cache_dir()),
                     str(tmp_path / "rnn-scope.log")):
        assert expected in text, expected
    assert ("JAX" in text) and ("Backend" in text)


def test_about_without_a_log_file_says_where_messages_go(qtbot, monkeypatch):
    from gui import help as help_module

    for name in (None, "rnnscope", "gui", "engine"):
        logger = logging.getLogger(name)
        monkeypatch.setattr(logger, "handlers", [h for h in logger.handlers
                                                 if not hasattr(h, "baseFilename")])
    assert help_module.log_files() == []
    assert "terminal" in dict(help_module.about_rows())["Log"]


def test_shortcuts_page_lists_the_windows_real_shortcuts(make_window):
    window = make_window()
    dialog = window.help_menu.show_shortcuts()
    text = _text(dialog)
    for action in (window.act_open, window.act_start, window.act_step, window.act_save_ckpt):
        keys = action.shortcut().toString(QtGui.QKeySequence.NativeText)
        assert keys and keys in text
        assert action.text().replace("&", "").rstrip("…") in text
    assert "Getting started" in text and "F1" in text


def test_getting_started_is_the_bundled_page_and_opens_with_f1(make_window, qtbot):
    window = make_window()
    window.activateWindow()
    window.help_menu.act_getting_started.trigger()
    dialog = window.help_menu.dialogs["Getting started"]
    assert dialog.isVisible()
    text = _text(dialog)
    assert text.startswith("Getting started with RNN Scope") and "Space" in text
    assert window.help_menu.act_getting_started.shortcut().toString() == "F1"
    links = dialog.browser.openExternalLinks()
    assert links is False  # offline: nothing starts a browser
    dialog.close()
    assert isinstance(dialog, QtWidgets.QDialog)
