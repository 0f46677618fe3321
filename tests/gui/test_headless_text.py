"""Headless mode on text: text_layer<l>.png, the probe text coloured by the most selective unit."""
import argparse
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PyQt5 import QtGui  # noqa: E402

from gui import headless  # noqa: E402
from gui.plots import qimage_to_array  # noqa: E402


def test_a_text_run_writes_a_coloured_text_png_per_layer(tmp_path, capsys):
    data = tmp_path / "tiny.txt"
    data.write_text("the cat sat on the mat.\nthe dog sat on the log.\n" * 6)
    out = tmp_path / "out"
    args = argparse.Namespace(files=[str(data)], cell="gru", hidden=(6, 4), lr=0.01, optimizer="adam",
                              batch_size=4, epochs=1, seed=0, backend=None, dtype=None, out=str(out),
                              checkpoint=None, start=False, headless=True, overwrite=False, no_plots=False,
                              quiet=True, json=False)
    assert headless.run_headless(args) == 0
    printed = capsys.readouterr().out
    for layer in (1, 2):
        path = out / f"text_layer{layer}.png"
        assert path.exists() and f"text_layer{layer}.png" in printed
        image = QtGui.QImage(str(path))
        assert not image.isNull() and image.width() >= 800 and image.height() >= 120
        rgb = qimage_to_array(image)[..., :3].astype(np.int32)
        # coloured backgrounds: many distinct colours, not a plain black-on-white page
        assert len(np.unique(rgb.reshape(-1, 3) // 8, axis=0)) > 20
