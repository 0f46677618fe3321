"""Desktop entry point: ``run_gui(args) -> int`` (called by main.py after argument parsing)."""

from __future__ import annotations

import logging
import os
import sys
import time

from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001  (PyQt5 before pyqtgraph)

APP_NAME = "RNN Scope"
ORG_NAME = "RNN Scope"
ICON_NAME = "rnnscope"
EXIT_DEADLINE_S = 2.0  # closing the window during training must end the process this fast

log = logging.getLogger(__name__)


def make_application(argv=None) -> QtWidgets.QApplication:
    """The QApplication with names set for QSettings (reuses an existing one, e.g. in tests)."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        QtCore.QCoreApplication.setAttribute(QtCore.Qt.AA_EnableHighDpiScaling, True)
        app = QtWidgets.QApplication(list(argv if argv is not None else sys.argv[:1]))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationDisplayName(APP_NAME)
    icon = app_icon()
    if icon is not None:
        app.setWindowIcon(icon)
    from gui.plots.style import configure

    configure()  # pyqtgraph's global options, before any plot is built
    return app


def app_icon() -> QtGui.QIcon | None:
    """QIcon from the Qt-free ``resources.icon_path``; None (and a log line) if it is missing."""
    try:
        import resources

        path = resources.icon_path(ICON_NAME)
    except Exception as exc:  # an icon is cosmetic: never fail the launch for it
        log.info("no window icon: %s", exc)
        return None
    icon = QtGui.QIcon(os.fspath(path))
    return None if icon.isNull() else icon


def config_from_args(base, args):
    """``base`` TrainingConfig with every flag the user gave on the command line applied."""
    from gui.cli_flags import config_changes

    changes = config_changes(args)
    return base.replace(**changes) if changes else base


def setup_window(args):
    """Create the window, apply the flags, queue loading/checkpoint/start; returns the window."""
    from gui import backend_warmup, gc_freeze

    gc_freeze.pause_for_launch()  # back at the first training report (gui.worker_tools), or after at most:
    QtCore.QTimer.singleShot(int(gc_freeze.LAUNCH_PAUSE_MAX_S * 1000), gc_freeze.resume_after_launch)
    backend_warmup.start()  # PyTensor and JAX imported while the window's modules are (gui.backend_warmup)
    from gui.main_window import MainWindow

    window = MainWindow()
    try:
        config = config_from_args(window.controls.config(), args)
    except ValueError as exc:  # restored settings + flags that do not fit together
        window._error("Invalid settings", str(exc))
        config = None
    if config is not None:
        window.controls.set_config(config)
        from gui.cli_flags import config_changes

        window.controls.mark_explicit(config_changes(args))  # flags win over a dataset's suggestion
        window._reset_hidden_panel(config)

    from gui.cli_flags import dataset_paths, load_options, saliency_step

    window.insight_views.choose_step(saliency_step(args))  # the Saliency dock's step, as headless's

    files, notes = dataset_paths(args)
    for note in notes:
        log.info(note)
    options = load_options(args)
    if not (getattr(args, "files", None) or getattr(args, "sample", None)):  # no file named: the last one
        files, restored, note = window.recent.startup_dataset(files)
        options = {**restored, **options}  # data flags given now still win
        if note:
            log.info(note)
            window._after_load.append(lambda: window._show_status(note))
    checkpoint = getattr(args, "checkpoint", None)
    start = bool(getattr(args, "start", False))
    test = getattr(args, "test", None)
    if test:  # --test FILE: the window's test set, loaded after the training data
        window._after_load.append(lambda: window.open_test_set(test))
    if checkpoint:
        window._after_load.append(lambda: window.open_checkpoint(checkpoint, start=start))
    elif start:
        window._after_load.append(window.start)
    # --run DIR (several allowed): each in the Runs dock, the last one shown in the main panels (once the
    # data given with it has loaded: loading data ends what the panels show), the others overlaid.
    folders = getattr(args, "run", None) or []
    data_given = bool(getattr(args, "files", None) or getattr(args, "sample", None))
    if data_given or not folders:  # a run folder alone needs no data: its predictions reload its own
        window.open_paths(files, preview=False, options=options)
    for folder in folders[:-1]:
        window.open_run_folder(folder, show=False)
    if folders and data_given:
        window._after_load.append(lambda: window.open_run_folder(folders[-1]))
    elif folders:
        window.open_run_folder(folders[-1])
    return window


def run_gui(args) -> int:
    """Show the window and run the event loop; returns the process exit code."""
    from engine import backend

    backend.configure()  # idempotent: main.py did it before the heavy imports
    app = make_application()
    window = setup_window(args)
    window.show()
    from gui import sigint

    quit_on_sigint = sigint.install(app, window)
    log.info("window open (Ctrl+C in this terminal closes it)")
    code = app.exec_()
    if quit_on_sigint is not None:
        quit_on_sigint.uninstall()
    return _finish(code)


def _finish(code: int) -> int:
    """Wait briefly for a worker still compiling; if it will not end in time, exit hard.

    A running compile cannot be interrupted, and destroying a running QThread aborts the
    process ("QThread: Destroyed while thread is still running"), so the last resort keeps the
    promise of a prompt exit with ``os._exit`` after flushing our own output.
    """
    from gui.main_window import CLOSE_TIMEOUT_MS, lingering_workers

    # closeEvent has already waited CLOSE_TIMEOUT_MS of the exit deadline
    deadline = time.monotonic() + max(0.0, EXIT_DEADLINE_S - CLOSE_TIMEOUT_MS / 1000)
    workers = lingering_workers()
    for worker in workers:
        remaining_ms = int(max(0.0, deadline - time.monotonic()) * 1000)
        worker.shutdown(timeout_ms=remaining_ms)
    if lingering_workers():
        log.warning("training thread still compiling at exit; leaving without waiting for it")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
