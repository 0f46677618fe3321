"""Dialogs: dataset preview before loading, error messages, confirmations.

Error messages are shown *non-blocking* (``QMessageBox.open``): a worker error arriving while
another dialog is up must not nest event loops, and tests can inspect the open box.
Confirmations block (``exec_``) because the caller needs the answer; tests monkeypatch
:func:`confirm`.
"""

from __future__ import annotations

import logging

from PyQt5 import QtCore, QtGui, QtWidgets

from engine.names import FORMATS, TASKS

log = logging.getLogger(__name__)

AUTO = "auto"


def show_error(parent, title: str, text: str) -> QtWidgets.QMessageBox:
    """A window-modal error box that does not block the caller; returns the box. The same
    message while its box is still open is not stacked in a second box (they piled up and kept
    the window from closing until each was dismissed)."""
    for open_box in (parent.findChildren(QtWidgets.QMessageBox, "errorBox") if parent is not None else []):
        if open_box.isVisible() and open_box.windowTitle() == title and open_box.text() == text:
            open_box.raise_()
            return open_box
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Critical)
    box.setWindowTitle(title)
    box.setText(text)
    box.setStandardButtons(QtWidgets.QMessageBox.Ok)
    box.setAttribute(QtCore.Qt.WA_DeleteOnClose)
    box.setObjectName("errorBox")
    box.open()
    return box


def show_warning(parent, title: str, text: str) -> QtWidgets.QMessageBox:
    box = show_error(parent, title, text)
    box.setIcon(QtWidgets.QMessageBox.Warning)
    return box


def confirm(parent, title: str, text: str) -> bool:
    """Yes/No question; True for Yes."""
    answer = QtWidgets.QMessageBox.question(
        parent, title, text, QtWidgets.QMessageBox.Yes | QtWidgets.QMessageBox.No, QtWidgets.QMessageBox.Yes
    )
    return answer == QtWidgets.QMessageBox.Yes


# Preview fields listed under the one-line description, when they say something.
_SUMMARY_FIELDS = ("feature_names", "target_names", "class_names", "delimiter", "has_header", "index_column",
                   "encoding")
MAX_LISTED_NAMES = 20  # a longer list of names is left to the rows view


def summary_lines(preview) -> list[str]:
    """The lines the dialog shows for an ``engine.data.Preview``: description, details, loading notes."""
    lines = [preview.describe()]
    for name in _SUMMARY_FIELDS:
        value = getattr(preview, name, None)
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value)) if len(value) <= MAX_LISTED_NAMES else None
        if value is not None and value != "":
            lines.append(f"{name.replace('_', ' ')}: {value}")
    lines.extend(str(note) for note in preview.notes or [])
    return lines


class PreviewDialog(QtWidgets.QDialog):
    """Shows ``engine.data.preview(paths, **options)`` and lets the user adjust the options.

    ``options()`` is what to pass to ``load_sequences`` (only the non-automatic choices).
    ``error`` holds the message if the file cannot even be previewed.
    """

    def __init__(self, paths, parent=None, *, preview_fn=None, initial_options=None):
        super().__init__(parent)
        self.setWindowTitle("Open sequences – preview")
        self.setObjectName("previewDialog")
        self.resize(760, 560)
        self.paths = [str(p) for p in paths]
        self.error: str | None = None
        self.preview = None
        if preview_fn is None:
            from engine.data import preview as preview_fn
        self._preview_fn = preview_fn

        files = QtWidgets.QLabel("\n".join(self.paths))
        files.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        files.setWordWrap(True)

        form = self._build_option_boxes()
        self._build_preview_views()

        self.buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.Open | QtWidgets.QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(files)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.rows, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

        for box in (self.format_box, self.task_box, self.header_box, self.layout_box, self.nonfinite_box):
            box.currentIndexChanged.connect(self.refresh)
        self.target_edit.editingFinished.connect(self.refresh)
        if initial_options:
            self.set_options(initial_options)
        self.refresh()

    def _build_option_boxes(self) -> QtWidgets.QFormLayout:
        """The loading options, one row each; every change re-runs the preview."""
        self.format_box = QtWidgets.QComboBox()
        self.format_box.addItems([AUTO, *FORMATS])
        self.task_box = QtWidgets.QComboBox()
        self.task_box.addItems([AUTO, *TASKS])
        self.target_edit = QtWidgets.QLineEdit()
        self.target_edit.setPlaceholderText("auto (e.g. a column name or number)")
        self.header_box = QtWidgets.QComboBox()
        self.header_box.addItems([AUTO, "yes", "no"])
        self.layout_box = QtWidgets.QComboBox()
        self.layout_box.addItems([AUTO, "columns", "rows"])
        self.nonfinite_box = QtWidgets.QComboBox()
        self.nonfinite_box.addItems(["reject", "drop", "interpolate"])

        form = QtWidgets.QFormLayout()
        form.addRow("format", self.format_box)
        form.addRow("task", self.task_box)
        form.addRow("target column", self.target_edit)
        form.addRow("header row", self.header_box)
        form.addRow("layout", self.layout_box)
        form.addRow("missing / non-finite values", self.nonfinite_box)
        return form

    def _build_preview_views(self) -> None:
        """What the preview shows: a summary, the first rows as text, and the error if any."""
        self.summary = QtWidgets.QLabel()
        self.summary.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.summary.setWordWrap(True)
        self.summary.setObjectName("previewSummary")
        self.rows = QtWidgets.QPlainTextEdit()
        self.rows.setReadOnly(True)
        self.rows.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        self.rows.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.message = QtWidgets.QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")

    def set_options(self, options: dict) -> None:
        for key, box in (("format", self.format_box), ("task", self.task_box), ("layout", self.layout_box),
                         ("nonfinite", self.nonfinite_box)):
            if key in options and options[key] is not None:
                index = box.findText(str(options[key]))
                if index >= 0:
                    box.setCurrentIndex(index)
        if options.get("target_column") is not None:
            self.target_edit.setText(str(options["target_column"]))
        if options.get("has_header") is not None:
            self.header_box.setCurrentIndex(1 if options["has_header"] else 2)

    def options(self) -> dict:
        """Keyword options for ``load_sequences``/``preview`` (automatic choices left out)."""
        options = {}
        if self.format_box.currentText() != AUTO:
            options["format"] = self.format_box.currentText()
        if self.task_box.currentText() != AUTO:
            options["task"] = self.task_box.currentText()
        target = self.target_edit.text().strip()
        if target:
            options["target_column"] = int(target) if target.isdigit() else target
        if self.header_box.currentText() != AUTO:
            options["has_header"] = self.header_box.currentText() == "yes"
        if self.layout_box.currentText() != AUTO:
            options["layout"] = self.layout_box.currentText()
        if self.nonfinite_box.currentText() != "reject":
            options["nonfinite"] = self.nonfinite_box.currentText()
        return options

    def refresh(self) -> None:
        """Re-run the preview with the current options; a DataError is shown, Open disabled."""
        target = self.paths if len(self.paths) > 1 else self.paths[0]
        try:
            self.preview = self._preview_fn(target, rows=10, **self.options())
        except Exception as exc:
            self.preview = None
            self.error = str(exc) or type(exc).__name__
            self.message.setText(self.error)
            self.buttons.button(QtWidgets.QDialogButtonBox.Open).setEnabled(False)
            return
        self.error = None
        self.message.setText("")
        self.buttons.button(QtWidgets.QDialogButtonBox.Open).setEnabled(True)
        self.rows.setPlainText(self.preview.head)
        self.summary.setText("\n".join(summary_lines(self.preview)))

    def dataset(self):
        """The dataset the preview already loaded with the chosen options (None if it did not)."""
        return getattr(self.preview, "dataset", None) if self.preview is not None else None
