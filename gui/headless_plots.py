"""Headless PNGs: ``loss.png``, ``hidden_layer{l}.png``, for text ``text_layer{l}.png`` (the probe
text coloured by the layer's most selective unit) and the insight views (``saliency.png``,
``trajectory.png``, ``spectrum_layer{l}.png``), drawn by the window's own plot widgets.

Qt runs on its offscreen platform, so no display is needed, but Qt's graphics libraries (libGL,
fontconfig, ...) are. :func:`plots_problem` finds out before training whether they load here;
:func:`render_pngs` encodes each PNG in memory and writes it through an
:class:`~gui.out_folder.OutFolder` (temp name, checked, fsynced, renamed).
"""

from __future__ import annotations

import math
import os
import sys

from gui.out_folder import OutFolder

__all__ = ["plots_problem", "render_pngs", "png_bytes", "FALLBACK_PACKAGES"]

# What a slim Debian/Ubuntu image lacks for Qt's offscreen platform, when ldd cannot say.
FALLBACK_PACKAGES = ("libgl1", "libegl1", "libfontconfig1", "libxkbcommon0", "libdbus-1-3", "libglib2.0-0")

# Harmless notes the offscreen platform prints; they would bury the progress output.
_QUIET_QT_MESSAGES = ("propagateSizeHints", "XDG_RUNTIME_DIR")


def plots_problem() -> str | None:
    """Why the PNGs cannot be drawn here (one line with the ``apt-get`` fix), or None if they can."""
    from gui import qt_env

    try:
        from PyQt5 import QtGui, QtWidgets  # noqa: F401  (what drawing needs: libGL, fontconfig, ...)
        import pyqtgraph  # noqa: F401
    except ImportError as exc:
        missing = qt_env.missing_libraries("offscreen")
        fix = qt_env.apt_line(missing) if missing else "sudo apt-get install -y " + " ".join(FALLBACK_PACKAGES)
        return (f"cannot draw the PNGs: Qt's graphics libraries do not load ({exc}); install them with "
                f"'{fix}', or pass --no-plots to train without PNGs")
    missing = qt_env.missing_libraries("offscreen")
    if missing:
        return (f"cannot draw the PNGs: Qt's offscreen platform needs {', '.join(missing)}; install them "
                f"with '{qt_env.apt_line(missing)}', or pass --no-plots to train without PNGs")
    return None


def _qt_message(mode, context, message) -> None:
    if not any(note in message for note in _QUIET_QT_MESSAGES):
        sys.stderr.write(message + "\n")


def _ensure_qapp():
    # Only rendering the PNGs needs Qt; offscreen unless the user chose a platform.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt5 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance()
    if app is None:
        QtCore.qInstallMessageHandler(_qt_message)
        app = QtWidgets.QApplication([sys.argv[0] if sys.argv else "rnn-scope"])
    from gui.plots.style import configure

    configure()  # pyqtgraph's global options, before any plot is built
    return app


def _loss_plot(history: list[dict], title: str):
    from gui.plots import LossPlot

    plot = LossPlot()
    plot.resize(900, 540)
    if title:
        plot.plot_item.setTitle(title)
    epochs = [h.get("epoch") for h in history]
    train = [h.get("train_loss") if h.get("train_loss") is not None else math.nan for h in history]
    val = [h.get("val_loss") if h.get("val_loss") is not None else math.nan for h in history]
    plot.extend(epochs, train, val)
    previous_lr = None
    for h in history:
        lr = h.get("learning_rate")
        if previous_lr is not None and lr is not None and lr != previous_lr:
            plot.add_marker(h["epoch"], f"lr {previous_lr:.3g} -> {lr:.3g}")
        previous_lr = lr if lr is not None else previous_lr
    for h in history:
        if h.get("skipped_steps"):
            plot.mark_refused(h["epoch"], int(h["skipped_steps"]))
    return plot


def png_bytes(image) -> bytes:
    """A QImage encoded as PNG in memory: the file is then written (and checked) by the OutFolder,
    so a full disk is an error naming the file rather than libpng's "Write Error" and a cut PNG."""
    from gui.plots.export import png_bytes as encode  # Qt loads only once plots_problem() passed

    return encode(image)


def _plot_image(plot):
    """The plot as a QImage through pyqtgraph's image exporter (what File > Export uses)."""
    import pyqtgraph.exporters

    image = pyqtgraph.exporters.ImageExporter(getattr(plot, "plot_item", plot)).export(toBytes=True)
    if image is None or image.isNull():
        raise RuntimeError("rendering a plot produced no image")
    return image


def _text_pngs(out: OutFolder, panel) -> list:
    """text_layer{l}.png: the probe text coloured by each layer's most selective unit."""
    from gui.plots import TextView

    view = TextView(panel)
    written = []
    for layer in range(len(panel.layer_sizes())):
        view.layer_combo.setCurrentIndex(layer)
        view._chosen = False  # the most selective unit of this layer
        image = view.render_image(900)
        written.append(out.write_bytes(f"text_layer{layer + 1}.png", png_bytes(image)))
    view.deleteLater()
    return written


def _insight_pngs(app, out: OutFolder, insights, dataset) -> list:
    """saliency.png, trajectory.png and spectrum_layer{l}.png of the run's newest look inside."""
    from gui.plots.saliency import SaliencyView
    from gui.plots.spectrum import SpectrumView
    from gui.plots.trajectory import TrajectoryView

    insight, written = insights.latest, []
    saliency, trajectory, spectrum = SaliencyView(), TrajectoryView(), SpectrumView()
    saliency.task = dataset.task
    saliency.vocabulary = list(dataset.vocabulary) if dataset.task == "next_token" else None
    trajectory.class_names = list(getattr(dataset, "class_names", None) or [])
    saliency.show_insight(insight, live=False)
    saliency.set_series(insights.series.epochs, insights.series.horizons)
    trajectory.show_insight(insight, live=False)
    spectrum.show_insight(insight, live=False)
    pngs = [("saliency.png", saliency, (900, 620)), ("trajectory.png", trajectory, (760, 640))]
    for name, view, size in pngs:
        view.resize(*size)
        view.show()
        app.processEvents()
        written.append(out.write_bytes(name, png_bytes(_plot_image(view.export_item()))))
    spectrum.resize(640, 640)
    spectrum.show()
    for layer in range(len(insight.spectra)):
        spectrum.layer_box.setCurrentIndex(layer)
        app.processEvents()
        written.append(out.write_bytes(f"spectrum_layer{layer + 1}.png", png_bytes(_plot_image(spectrum.export_item()))))
    for view in (saliency, trajectory, spectrum):
        view.close()
        view.deleteLater()
    return written


def render_pngs(out: OutFolder, history: list[dict], last_report, title: str = "", insights=None,
                dataset=None) -> list:
    """loss.png from the history, hidden_layer{l}.png from the last report's hidden states, and
    the insight PNGs when ``insights`` (a Run's engine.insights.InsightRecorder) has looked."""
    app = _ensure_qapp()
    from gui.plots import HiddenStatePanel

    written = []
    # the title holds the data set's name: a file name may carry bytes Qt cannot take as text
    title = title.encode("utf-8", "backslashreplace").decode("utf-8")
    loss_plot = _loss_plot(history, title)
    loss_plot.show()
    app.processEvents()
    loss_plot.labels.place()  # the marker labels for the plot's shown size, before the image is taken
    written.append(out.write_bytes("loss.png", png_bytes(_plot_image(loss_plot))))
    loss_plot.close()
    loss_plot.deleteLater()

    if last_report is not None and last_report.hidden:
        panel = HiddenStatePanel()
        panel.resize(900, 420 * len(last_report.hidden) + 200)
        panel.set_snapshot(last_report.epoch, last_report.hidden, last_report.gates,
                           getattr(last_report, "probe_text", None))
        panel.show()
        app.processEvents()
        for layer in range(len(last_report.hidden)):
            image = panel.render_layer_image(layer)
            written.append(out.write_bytes(f"hidden_layer{layer + 1}.png", png_bytes(image)))
        if panel.displayed_text():
            written.extend(_text_pngs(out, panel))
        panel.close()
        panel.deleteLater()
    if insights is not None and insights.latest is not None and dataset is not None:
        written.extend(_insight_pngs(app, out, insights, dataset))
    app.processEvents()
    return written
