"""Shared checks for the plot tests: rendered images, random snapshots, drawn tick labels."""
import numpy as np
from PyQt5 import QtGui

from gui.plots import qimage_to_array
from gui.plots.axis import plain_label


def not_blank(image: QtGui.QImage) -> float:
    """Spread of the RGB values of a rendered image (0 for a single flat colour)."""
    assert not image.isNull() and image.width() > 10 and image.height() > 10
    return float(qimage_to_array(image)[..., :3].astype(np.float32).std())


def random_snapshot(rng, lengths_sizes, cell="elman"):
    hidden = [np.tanh(rng.normal(size=(t, h))).astype(np.float32) for t, h in lengths_sizes]
    names = {"elman": (), "gru": ("z", "r"), "lstm": ("i", "f", "o", "c")}[cell]
    gates = [{g: (rng.uniform(size=h.shape) if g != "c" else 3 * rng.normal(size=h.shape)).astype(np.float32)
              for g in names} for h in hidden]
    return hidden, gates


def label_values(labels):
    return [float(plain_label(text)) for _, text in labels]


def drawn_labels(axis, qtbot):
    """Tick labels once the axis has had a paint to size itself to them (as on screen)."""
    axis.labelled_ticks()
    qtbot.wait(20)
    return axis.labelled_ticks()


def assert_apart(labels):
    """Tick label rectangles (sorted along the axis) do not touch each other."""
    rects = sorted((rect for rect, _ in labels), key=lambda r: r.center().y())
    for upper, lower in zip(rects, rects[1:]):
        assert upper.bottom() <= lower.top(), f"labels overlap: {upper} and {lower}"
