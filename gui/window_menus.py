"""The window's layout: docks, actions, menus and toolbar (what each one calls lives in gui.main_window)."""

from __future__ import annotations

from PyQt5 import QtGui, QtWidgets
from PyQt5.QtCore import Qt

from gui.dock_export import EXPORTS
from gui.help import install_help_menu
from gui.window_geometry import fit_to_screen

SMOOTHING_WINDOWS = (0, 5, 20, 100)


def build_docks(w) -> None:
    """The docks (``w.docks[key]``) in their first-launch layout (QSettings restores the user's)."""
    w.docks: dict[str, QtWidgets.QDockWidget] = {}
    specs = [
        ("controls", "Controls", w.controls, Qt.LeftDockWidgetArea),
        ("loss", "Loss", w.loss_plot, Qt.RightDockWidgetArea),
        ("hidden", "Hidden states", w.hidden_panel, Qt.RightDockWidgetArea),
        ("diagnostics", "Diagnostics", w.diagnostics, Qt.RightDockWidgetArea),
        ("predictions", "Predictions", w.predictions, Qt.RightDockWidgetArea),
        ("runs", "Runs", w.runs_panel, Qt.RightDockWidgetArea),
        ("text", "Text", w.text_view, Qt.RightDockWidgetArea),
        ("graph", "Graph", w.graph_view, Qt.RightDockWidgetArea),
        *[(key, title, widget, Qt.RightDockWidgetArea) for key, title, widget in w.insight_views.dock_specs()],
    ]
    for key, title, widget, area in specs:
        dock = QtWidgets.QDockWidget(title, w)
        dock.setObjectName(f"dock_{key}")
        dock.setWidget(widget)
        w.addDockWidget(area, dock)
        w.docks[key] = dock
    w.runs_panel.read_when_in_view(w.docks["runs"])  # not at launch while it is a tab behind Diagnostics
    w.splitDockWidget(w.docks["loss"], w.docks["hidden"], Qt.Horizontal)
    w.splitDockWidget(w.docks["loss"], w.docks["diagnostics"], Qt.Vertical)
    w.splitDockWidget(w.docks["hidden"], w.docks["predictions"], Qt.Vertical)
    fit_to_screen(w)  # first launch: the screen's available geometry, not a fixed 1560 x 960
    w.tabifyDockWidget(w.docks["diagnostics"], w.docks["runs"])  # a tab next to Diagnostics
    w.tabifyDockWidget(w.docks["diagnostics"], w.docks["graph"])  # the compiled training step
    for key, _, _ in w.insight_views.dock_specs():  # tabs next to Predictions
        w.tabifyDockWidget(w.docks["predictions"], w.docks[key])
    w.docks["predictions"].raise_()
    w.insight_views.watch(w.docks)
    w.docks["diagnostics"].raise_()
    w.tabifyDockWidget(w.docks["predictions"], w.docks["text"])  # text data: the coloured probe text
    w.docks["predictions"].raise_()


def make_action(window, text, slot, shortcut=None, tip=None, icon=None) -> QtWidgets.QAction:
    action = QtWidgets.QAction(text, window)
    if shortcut:
        action.setShortcut(QtGui.QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(f"{tip} ({shortcut})" if shortcut else tip)
    if icon is not None:
        action.setIcon(window.style().standardIcon(icon))
    action.triggered.connect(lambda _checked=False: slot())
    return action


def build_actions(w) -> None:
    """The ``act_*`` attributes of window ``w``."""
    sp = QtWidgets.QStyle
    w.act_open = make_action(w, "&Open…", w.open_dialog, "Ctrl+O", "Open sequence file(s)", sp.SP_DialogOpenButton)
    w.act_save_ckpt = make_action(w, "&Save checkpoint…", w.save_checkpoint_dialog, "Ctrl+S",
                                  "Save the current run's weights and history")
    w.act_load_ckpt = make_action(w, "&Load checkpoint…", w.load_checkpoint_dialog, "Ctrl+L",
                                  "Continue a saved run on the current dataset")
    w.act_export_csv = make_action(w, "Export loss &history (CSV)…", w.export_history_dialog, None,
                                   "Loss per epoch with hyperparameter changes")
    w.act_open_run = make_action(w, "Open r&un folder…", w.open_run_folder_dialog, "Ctrl+Shift+O",
                                 "Show a run folder (from headless mode, another machine, ...) in the Runs dock")
    w.act_runs_dir = make_action(w, "Runs f&older…", w.choose_runs_dir_dialog, None,
                                 "Where runs are kept and the Runs dock looks")
    w.act_quit = make_action(w, "&Quit", w.close, "Ctrl+Q")
    w.act_start = make_action(w, "&Start", w.toggle_run, "Space", "Start / pause / resume training", sp.SP_MediaPlay)
    w.act_step = make_action(w, "Step &one epoch", w.step_epoch, "F10", "Train one epoch, then pause",
                             sp.SP_MediaSeekForward)
    w.act_stop = make_action(w, "S&top", w.stop_run, "Shift+F5", "End this run", sp.SP_MediaStop)
    w.act_reset = make_action(w, "&Reset weights", w.reset_weights, "Ctrl+R",
                              "Fresh initial weights, same settings (new run)", sp.SP_BrowserReload)
    w.act_fork = make_action(w, "&Fork…", w.fork_dialog, "Ctrl+Shift+F",
                             "A new run from the latest or best checkpoint of this run (or the one selected in "
                             "the Runs dock), with changed settings")
    w.act_open_test = make_action(w, "Open &Test Set…", w.open_test_set_dialog, "Ctrl+T",
                                  "A second file scored on demand, never trained on (same loading rules)")
    w.act_score_test = make_action(w, "Score on t&est set", w.score_test_set, "Ctrl+E",
                                   "Score the best weights on the test set (run.json \"test\")")
    w.act_test_every = make_action(w, "Score test set e&very K epochs…", w.test_every_dialog, None,
                                   "Also score the test set every K epochs: its own curve, metrics.csv columns")
    w.act_log_y = QtWidgets.QAction("&Log-scale loss", w, checkable=True)
    w.act_log_y.toggled.connect(w.loss_plot.set_log_y)


def _build_file_menu(w, bar) -> None:
    file_menu = bar.addMenu("&File")
    file_menu.addAction(w.act_open)
    file_menu.addAction(w.act_open_test)
    w.recent_menu = file_menu.addMenu("Open &recent")
    file_menu.addAction(w.act_open_run)
    file_menu.addAction(w.act_runs_dir)
    file_menu.addSeparator()
    file_menu.addAction(w.act_save_ckpt)
    file_menu.addAction(w.act_load_ckpt)
    file_menu.addSeparator()
    file_menu.addAction(w.act_export_csv)
    export_menu = file_menu.addMenu("Export &plot (PNG/SVG/text)")
    for key, title in EXPORTS:
        export_menu.addAction(make_action(w, f"{title}…", lambda key=key: w.export_plot_dialog(key)))
    file_menu.addSeparator()
    file_menu.addAction(w.act_quit)


def _build_view_menu(w, bar) -> None:
    view_menu = bar.addMenu("&View")
    view_menu.addAction(w.act_log_y)
    smooth_menu = view_menu.addMenu("Loss &smoothing")
    group = QtWidgets.QActionGroup(w)
    for window in SMOOTHING_WINDOWS:
        action = QtWidgets.QAction("off" if window == 0 else f"{window} epochs", w, checkable=True)
        action.setChecked(window == 0)
        action.triggered.connect(lambda _c=False, n=window: w.loss_plot.set_smoothing(n))
        group.addAction(action)
        smooth_menu.addAction(action)
    view_menu.addSeparator()
    for dock in w.docks.values():
        view_menu.addAction(dock.toggleViewAction())


def build_menus_and_toolbar(w) -> None:
    bar = w.menuBar()
    _build_file_menu(w, bar)
    run_actions = (w.act_start, w.act_step, w.act_stop, w.act_reset)
    w.run_menu = bar.addMenu("&Run")  # gui.run_tools adds Restore best weights and Find learning rate
    for action in run_actions:
        w.run_menu.addAction(action)
    w.run_menu.addSeparator()
    w.run_menu.addAction(w.act_fork)
    w.run_menu.addAction(w.act_score_test)
    w.run_menu.addAction(w.act_test_every)
    _build_view_menu(w, bar)
    w.help_menu = install_help_menu(w)  # gui/help.py: Getting started, shortcuts, About
    w.toolbar = w.addToolBar("Run")
    w.toolbar.setObjectName("toolbar_run")
    w.toolbar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
    w.toolbar.addAction(w.act_open)
    w.toolbar.addSeparator()
    for action in run_actions:
        w.toolbar.addAction(action)
    w.toolbar.addAction(w.act_score_test)
