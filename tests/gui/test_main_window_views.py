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
