"""The Text dock of a window with characters and 64 units, ten of them ranked (geometry tests)."""

import numpy as np
from PyQt5 import QtWidgets


def show_ranked_text(window):
    """The Text dock raised over ~100 characters, a span selected and 10 units ranked; returns its view."""
    text = list("the cat sat on the mat. " * 4)
    rng = np.random.default_rng(0)
    hidden = (rng.normal(size=(len(text), 64)) * 0.6).astype(np.float32)  # 64 units: 10 ranked rows
    window.hidden_panel.reset((64,), "elman")
    window.hidden_panel.set_snapshot(1, [hidden], [{}], text=text)
    window.docks["text"].raise_()
    view = window.text_view
    view.refresh()
    view.select_span(4, 7)
    assert len(view.rank_selection()) == 10
    QtWidgets.QApplication.processEvents()
    return view
