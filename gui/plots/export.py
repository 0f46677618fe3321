"""Saving plots as PNG or SVG (pyqtgraph's exporters) and reading rendered images back as arrays.

Every file is encoded in memory and written by engine.atomic (temp file, size check, rename): a
full disk is an OSError naming the file and its previous version stays, never a cut PNG reported
as written (Qt's QImage.save streams into the target and libpng's "Write Error" names nothing).
"""

from __future__ import annotations

import os

import numpy as np
from PyQt5 import QtCore, QtGui, QtWidgets  # noqa: I001
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers pg.exporters.*)

from engine.atomic import write_bytes_atomically
from gui.plots import hover


def _resolve_item(target):
    if hasattr(target, "export_item"):
        return target.export_item()
    if isinstance(target, pg.PlotWidget):
        return target.getPlotItem()
    if isinstance(target, pg.GraphicsLayoutWidget):
        return target.ci
    if isinstance(target, pg.GraphicsView):
        return target.scene()
    if isinstance(target, (QtWidgets.QGraphicsItem, QtWidgets.QGraphicsScene)):
        return target
    raise TypeError(f"cannot export a {type(target).__name__}: pass a plot widget or a PlotItem")


def _check_size(item) -> None:
    rect = item.sceneBoundingRect() if hasattr(item, "sceneBoundingRect") else item.sceneRect()
    if rect.width() < 1 or rect.height() < 1:
        raise ValueError("the plot has no size yet: show or resize its widget before exporting")


def export_image(item, width: int | None = None) -> QtGui.QImage:
    _check_size(item)
    hover.hide_all(item)  # a read-out box is the mouse's, not the plot's
    exporter = pg.exporters.ImageExporter(item)
    if width:
        exporter.parameters()["width"] = int(width)
    image = exporter.export(toBytes=True)
    if image is None or image.isNull():
        raise RuntimeError("rendering the plot produced no image")
    return image


def export_plot(widget_or_plotitem, path, width: int | None = None) -> str:
    """Save a plot as PNG or SVG (chosen by the file extension) through pyqtgraph's exporters."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    item = _resolve_item(widget_or_plotitem)
    if ext == ".png":
        save_png(export_image(item, width), path)
    elif ext == ".svg":
        _check_size(item)
        hover.hide_all(item)
        write_export(path, pg.exporters.SVGExporter(item).export(toBytes=True))
    else:
        raise ValueError(f"cannot export to {path!r}: use a .png or .svg file name")
    return path


def png_bytes(image: QtGui.QImage) -> bytes:
    """A QImage encoded as PNG in memory."""
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.WriteOnly)
    if image.isNull() or not image.save(buffer, "PNG"):
        raise RuntimeError("Qt could not encode the image as PNG")
    data = bytes(buffer.data())
    buffer.close()
    return data


def save_png(image: QtGui.QImage, path) -> str:
    """``image`` as a PNG file at ``path``, whole or not at all (see write_export)."""
    return write_export(path, png_bytes(image))


def write_export(path, data: bytes) -> str:
    """``data`` as the file ``path``, atomically; the previous file stays on any failure. OSError
    "could not write PATH: REASON" (the OS's words: No space left on device, Permission denied...)."""
    path = os.fspath(path)
    try:
        write_bytes_atomically(path, data)
    except OSError as exc:
        raise OSError(f"could not write {path}: {exc.strerror or exc}") from None
    return path


def qimage_to_array(image: QtGui.QImage) -> np.ndarray:
    """(H, W, 4) uint8 copy of a QImage (RGBA), for tests and headless checks."""
    image = image.convertToFormat(QtGui.QImage.Format_RGBA8888)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    stride = image.bytesPerLine()
    array = np.frombuffer(ptr, dtype=np.uint8).reshape(image.height(), stride)
    return array[:, : image.width() * 4].reshape(image.height(), image.width(), 4).copy()
