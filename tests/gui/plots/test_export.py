"""export_plot: PNG and SVG through pyqtgraph exporters, anything else refused; written atomically."""
import contextlib
import resource
import signal

import pytest
import numpy as np
from PyQt5 import QtGui

from gui.plots import export_plot
from gui.plots.export import save_png
from tests.gui.plots.helpers import not_blank


def test_export_png_and_svg(loss_plot, tmp_path):
    epochs = np.arange(1, 20)
    loss_plot.extend(epochs, np.exp(-epochs / 5), np.exp(-epochs / 6))
    png = export_plot(loss_plot, tmp_path / "loss.png")
    svg = export_plot(loss_plot.plot_item, tmp_path / "loss.svg")
    assert not_blank(QtGui.QImage(png)) > 5
    assert "<svg" in open(svg, encoding="utf-8").read(2000)
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        export_plot(loss_plot, tmp_path / "loss.jpg")


@contextlib.contextmanager
def _files_limited_to(nbytes: int):
    """Writes past ``nbytes`` fail with EFBIG (as a full disk fails with ENOSPC), for this process."""
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a killed process
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, old_limit[1]))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)


@pytest.mark.parametrize("name", ["loss.png", "loss.svg"])
def test_a_failed_write_keeps_the_previous_file_and_names_the_target(loss_plot, tmp_path, name):
    # issue 11: a plot cut at the disk's end was left in place of the previous one
    epochs = np.arange(1, 200)
    loss_plot.extend(epochs, np.exp(-epochs / 50), np.exp(-epochs / 60))
    (tmp_path / "plots").mkdir()
    target = tmp_path / "plots" / name
    target.write_bytes(b"the previous export")
    with _files_limited_to(4096), pytest.raises(OSError) as info:
        export_plot(loss_plot, target)
    assert str(info.value) == f"could not write {target}: File too large"
    assert target.read_bytes() == b"the previous export"
    assert sorted(p.name for p in target.parent.iterdir()) == [name]  # no cut temporary file either


def test_a_png_image_is_written_whole_or_not_at_all(tmp_path):
    folder = tmp_path / "pictures"
    folder.mkdir()
    image = QtGui.QImage(400, 300, QtGui.QImage.Format_RGB32)
    image.fill(QtGui.QColor(10, 200, 30))
    target = folder / "picture.png"
    save_png(image, target)
    assert QtGui.QImage(str(target)).size() == image.size()
    noise = np.random.default_rng(0).integers(0, 255, (300, 400, 4), dtype=np.uint8)
    image = QtGui.QImage(noise.data, 400, 300, 1600, QtGui.QImage.Format_RGB32).copy()
    with _files_limited_to(4096), pytest.raises(OSError, match="picture.png: File too large"):
        save_png(image, target)
    assert QtGui.QImage(str(target)).size() == image.size()  # the first one, whole
    assert sorted(p.name for p in folder.iterdir()) == ["picture.png"]
