"""File ▸ Export plot: every dock that draws something, in the file types that fit it.

The plots (loss, hidden states, diagnostics, predictions and the three insight docks) go through
``gui.plots.export_plot`` (PNG or SVG; hover read-outs hidden). The Text dock is written as a PNG
of its caption and coloured probe text, the whole text at the chosen width (not only the part
scrolled into view; the selection highlight is the mouse's, not the picture's). The Graph dock is
text: the header, the op counts and PyTensor's print as ``.txt``, or a PNG of the dock as shown.
"""

from __future__ import annotations

import os

from PyQt5 import QtCore, QtGui

from gui.plots import export_plot
from gui.plots.export import save_png, write_export

EXPORTS = (("loss", "Loss"), ("hidden", "Hidden states"), ("diagnostics", "Diagnostics"),
           ("predictions", "Predictions"), ("saliency", "Saliency over time"),
           ("trajectory", "State trajectories"), ("spectrum", "Recurrent matrix"), ("text", "Text"),
           ("graph", "Graph"))
IMAGE_FILTERS = "PNG image (*.png);;SVG image (*.svg)"
FILTERS = {"text": "PNG image (*.png)", "graph": "Text (*.txt);;PNG image (*.png)"}
DEFAULT_EXTENSIONS = {"graph": ".txt"}
TEXT_WIDTH = 900  # px of the Text dock's PNG
TEXT_MARGIN = 8


def filters(key: str) -> str:
    return FILTERS.get(key, IMAGE_FILTERS)


def default_name(key: str) -> str:
    return key + DEFAULT_EXTENSIONS.get(key, ".png")


def _extension(path: str, key: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    allowed = [part.split(")")[0] for part in filters(key).replace("*", "").split("(")[1:]]
    if ext not in allowed:
        raise ValueError(f"cannot export the {dict(EXPORTS)[key]} dock to {path!r}: use a "
                         f"{' or '.join(allowed)} file name")
    return ext


def export_dock(window, key: str, path) -> str:
    """Write dock ``key`` of ``window`` to ``path``; ValueError (wrong type, nothing to show) or
    OSError (the file) with a message for the user."""
    path = os.fspath(path)
    if key == "text":
        _extension(path, key)
        save_png(text_image(window.text_view), path)
    elif key == "graph":
        if _extension(path, key) == ".txt":
            write_export(path, graph_text(window.graph_view).encode("utf-8"))
        else:
            save_png(window.graph_view.grab().toImage(), path)
    else:
        widgets = {"loss": window.loss_plot, "hidden": window.hidden_panel, "diagnostics": window.diagnostics,
                   "predictions": window.predictions, **window.insight_views.views}
        export_plot(widgets[key], path)
    return path


def text_image(view, width: int = TEXT_WIDTH) -> QtGui.QImage:
    """The Text dock's caption above its coloured characters, all of them, ``width`` px wide."""
    if view.isVisible():
        view.redraw()  # a tabbed-away dock may not have drawn the newest epoch yet
    if not view.char_colors():
        raise ValueError(f"the Text dock has no text to export: {view.info_label.text()}")
    document = view.text.document().clone()
    document.setDefaultFont(view.text.font())
    document.setTextWidth(width - 2 * TEXT_MARGIN)
    caption = view.info_label.text()
    metrics = QtGui.QFontMetrics(view.info_label.font())
    caption_rect = metrics.boundingRect(QtCore.QRect(0, 0, width - 2 * TEXT_MARGIN, 1000),
                                        QtCore.Qt.TextWordWrap, caption)
    top = TEXT_MARGIN + caption_rect.height() + TEXT_MARGIN
    height = int(top + document.size().height() + TEXT_MARGIN)
    image = QtGui.QImage(width, height, QtGui.QImage.Format_RGB32)
    image.fill(view.text.palette().color(QtGui.QPalette.Base))
    painter = QtGui.QPainter(image)
    try:
        painter.setPen(view.text.palette().color(QtGui.QPalette.Text))
        painter.setFont(view.info_label.font())
        painter.drawText(QtCore.QRect(TEXT_MARGIN, TEXT_MARGIN, width - 2 * TEXT_MARGIN, caption_rect.height()),
                         QtCore.Qt.TextWordWrap, caption)
        painter.translate(TEXT_MARGIN, top)
        document.drawContents(painter)
    finally:
        painter.end()
    return image


def graph_text(view) -> str:
    """The Graph dock as text: its header, the op counts, then PyTensor's print."""
    graph = view.graph
    if graph is None:
        raise ValueError("the Graph dock has no graph to export yet: it appears after a run's first epoch")
    counts = view.op_counts()
    width = max([len(name) for name in counts] + [7])
    rows = [f"{'op type':<{width}}  graph  in scans"]
    rows += [f"{name:<{width}}  {outer:>5}  {inner:>8}" for name, (outer, inner) in counts.items()]
    return "\n".join([view.header.text(), "", *rows, "", graph.text.rstrip("\n"), ""])
