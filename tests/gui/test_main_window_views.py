"""The window's Text and Graph docks on a real (tiny) text run: wiring from the worker to the views."""
from __future__ import annotations

from engine.text_pattern import visible_char

TRAIN_TIMEOUT = 60_000


def test_a_text_run_fills_the_text_dock_the_time_axis_and_the_graph_dock(qtbot, make_window, tiny_config, tmp_path):
    data = tmp_path / "tiny.txt"
    data.write_text("the cat sat on the mat.\n" * 12)
    window = make_window(tiny_config.replace(epochs=50, window=16))
    window.open_paths([str(data)], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    assert window.docks["text"].isVisible()  # text data: the Text dock is raised
    run_id = window._run_id
    window.step_epoch()
    qtbot.waitUntil(lambda: window.loss_plot.point_count() == 1, timeout=TRAIN_TIMEOUT)
    qtbot.waitUntil(lambda: window.graph_view.graph is not None, timeout=TRAIN_TIMEOUT)
    window.flush_snapshot()
    chars = window.hidden_panel.displayed_text()
    report = window._last_report
    assert chars == report.probe_text and len(chars) == report.hidden[0].shape[0]
    assert window.hidden_panel.time_labels(0) == [visible_char(c) for c in chars]
    assert [c for c, _ in window.text_view.char_colors()] == chars
    graph = window.graph_view.graph
    assert graph.name == "f_train" and "Scan" in dict(graph.op_counts) and window._run_id != run_id
    assert "f_train" in window.graph_view.header.text()
    _export_text_and_graph(window, tmp_path)


def _export_text_and_graph(window, tmp_path):
    """File ▸ Export plot holds the Text and Graph docks (and the insight docks) too."""
    from PyQt5 import QtGui

    from gui.plots import qimage_to_array

    titles = [a.text() for a in _export_menu(window).actions()]
    assert {"Text…", "Graph…", "Saliency over time…", "State trajectories…", "Recurrent matrix…"} <= set(titles)
    png = window.export_plot("text", str(tmp_path / "text.png"))
    image = qimage_to_array(QtGui.QImage(png))
    drawn = {tuple(int(v) for v in pixel) for pixel in image[..., :3].reshape(-1, 3)}
    backgrounds = {rgb for _, rgb in window.text_view.char_colors()}
    assert backgrounds <= drawn  # every character's colour is in the picture, all of the text
    assert image.shape[1] == 900 and window.last_error is None
    text = open(window.export_plot("graph", str(tmp_path / "graph.txt")), encoding="utf-8").read()
    assert window.graph_view.header.text() in text and "Scan" in text
    assert window.graph_view.graph.text.splitlines()[0] in text
    assert QtGui.QImage(window.export_plot("graph", str(tmp_path / "graph.png"))).width() > 100
    assert QtGui.QImage(window.export_plot("saliency", str(tmp_path / "saliency.png"))).width() > 100
    assert window.export_plot("text", str(tmp_path / "text.svg")) == ""
    assert ".png" in window.last_error  # said, not written as something else


def _export_menu(window):
    file_menu = window.menuBar().actions()[0].menu()
    return next(a.menu() for a in file_menu.actions() if a.menu() is not None and "Export" in a.text())
