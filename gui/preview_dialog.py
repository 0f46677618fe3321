"""The preview dialog: a file's first rows, what RNN Scope reads in them, and every loading option.

The option boxes are built from ``engine.data.options.OPTIONS`` (each option with a dialog label
gets one control, labelled as declared there), so the dialog offers exactly what the loader can
do, and a ``DataError``'s advice (``error.render("dialog")``) names controls that exist.

A file that cannot be read with the current options is not a dead end: the dialog shows the
error, highlights the controls its ``fixes`` name and offers each fix as a button; any change
re-runs the preview. The window opens this dialog for every error an option can fix, also when
the full load (on the worker thread) fails after a head-only preview (``initial_error``).
"""

from __future__ import annotations

import logging

from PyQt5 import QtCore, QtGui, QtWidgets

from engine.data.loading import MULTI_FILE
from engine.data.options import DEFAULTS, OPTIONS, Fix
from engine.names import FORMATS, TASKS
from gui.cli_flags import parse_columns
from gui.suggested import PreviewSuggestion

log = logging.getLogger(__name__)

AUTO = "auto"
HIGHLIGHT = "background-color: #fff3b0;"  # a control that would fix the error shown
HEAD_BYTES = 64 * 1024  # what is shown of a file that cannot be previewed
# Choices of the options shown as a list; AUTO means "leave it to the loader" (None).
CHOICES = {
    "format": (AUTO, *FORMATS),
    "task": (AUTO, *TASKS),
    "delimiter": (AUTO, ",", ";", "|", "tab", "whitespace"),
    "decimal": (AUTO, ".", ","),
    "has_header": (AUTO, "yes", "no"),
    "layout": (AUTO, "columns", "rows"),
    "nonfinite": ("reject", "drop", "interpolate"),
    "multi_file": MULTI_FILE,
}
COLUMN_LISTS = ("target_column", "index_columns")  # "a,b" / "2" / "none" (index_columns: [] = none)
PLACEHOLDERS = {"target_column": "auto (name or number; several: a,b)",
                "index_columns": "auto (none = no index column)",
                "max_vocab": "512",
                "size_limit": "1073741824 (1 GB)",
                "frame": "1 (as in the file; the suggestion may choose more)"}
# A default typed in on purpose is a choice: "steps per frame" 1 keeps the data as in the file, where
# leaving it empty lets the suggestion frame a long series (gui.suggested.frame_as_suggested).
TYPED_DEFAULTS = ("frame",)
# Summary fields listed under the one-line description, when they say something.
_SUMMARY_FIELDS = ("feature_names", "target_names", "class_names", "delimiter", "has_header", "index_column",
                   "encoding", "decimal")
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


def dialog_keys() -> list[str]:
    """The options the dialog has a control for, in the engine's order."""
    return [key for key, option in OPTIONS.items() if option.label]


def _word(key: str, value) -> str:
    """An option value as the dialog's control shows it."""
    if value is None:
        return AUTO if key in CHOICES else ""
    if key == "has_header":
        return "yes" if value else "no"
    if key == "delimiter":
        return {"\t": "tab", " ": "whitespace"}.get(value, value)
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value)) if value else "none"
    return str(value)


def raw_head(path, rows: int = 12) -> str:
    """The first lines of ``path`` as text, for a file the loader refused (empty if unreadable)."""
    from engine.data import DataError
    from engine.data.files import decode_text, read_bytes

    try:
        text, _ = decode_text(read_bytes(path, HEAD_BYTES), path, partial=True)
    except (DataError, OSError) as exc:
        log.debug("no head to show for %s: %s", path, exc)
        return ""
    return "\n".join(text.splitlines()[:rows])


class PreviewDialog(QtWidgets.QDialog):
    """Shows ``engine.data.preview(paths, **options)`` and lets the user adjust the options.

    ``options()`` is what to pass to ``load_sequences`` (only the non-automatic choices).
    ``error`` holds the message (``render("dialog")``) if the files cannot be read with them,
    ``fixes`` the error's ``Fix`` values and ``highlighted`` the option keys they name.
    ``initial_error``: an error the full load gave with ``initial_options`` (shown until an option changes).
    """

    def __init__(self, paths, parent=None, *, preview_fn=None, initial_options=None, initial_error=None):
        super().__init__(parent)
        self.setWindowTitle("Open sequences – preview")
        self.setObjectName("previewDialog")
        self.resize(900, 640)
        self.paths = [str(p) for p in paths]
        self.error: str | None = None
        self.fixes: tuple = ()
        self.highlighted: list[str] = []
        self.preview = None
        if preview_fn is None:
            from engine.data import preview as preview_fn
        self._preview_fn = preview_fn
        self._initial_error = initial_error
        self._applying = False

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
        layout.addLayout(self.fix_row)
        self.suggested = PreviewSuggestion()  # engine.suggest for the previewed data (gui.suggested)
        layout.addWidget(self.suggested)
        layout.addWidget(self.buttons)
        if initial_options:
            self.set_options(initial_options)
        self.refresh()

    # ------------------------------------------------------------------ the option controls
    def _build_option_boxes(self) -> QtWidgets.QGridLayout:
        """One control per option with a dialog label (engine.data.options), two per row so the
        file's rows keep the room; every change re-runs the preview."""
        self.boxes: dict[str, QtWidgets.QWidget] = {}
        self.labels: dict[str, QtWidgets.QLabel] = {}
        grid = QtWidgets.QGridLayout()
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        for i, key in enumerate(dialog_keys()):
            box, label = self._option_box(key), QtWidgets.QLabel(OPTIONS[key].label)
            label.setToolTip(OPTIONS[key].doc)
            self.boxes[key], self.labels[key] = box, label
            row, column = divmod(i, 2)
            grid.addWidget(label, row, 2 * column)
            grid.addWidget(box, row, 2 * column + 1)
        # the names the rest of the code and the tests use for the common ones
        self.format_box, self.task_box = self.boxes["format"], self.boxes["task"]
        self.target_edit, self.header_box = self.boxes["target_column"], self.boxes["has_header"]
        self.layout_box, self.nonfinite_box = self.boxes["layout"], self.boxes["nonfinite"]
        return grid

    def _option_box(self, key: str) -> QtWidgets.QWidget:
        option = OPTIONS[key]
        if key in CHOICES:
            box = QtWidgets.QComboBox()
            box.addItems(list(CHOICES[key]))
            box.currentIndexChanged.connect(self._changed)
        elif isinstance(option.default, bool):
            box = QtWidgets.QCheckBox()
            box.toggled.connect(self._changed)
        else:
            box = QtWidgets.QLineEdit()
            box.setPlaceholderText(PLACEHOLDERS.get(key, AUTO))
            box.editingFinished.connect(self._changed)
        box.setObjectName(f"option_{key}")
        box.setToolTip(option.doc)
        return box

    def _build_preview_views(self) -> None:
        """What the preview shows: a summary, the first rows as text, the error and its fixes."""
        self.summary = QtWidgets.QLabel()
        self.summary.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.summary.setWordWrap(True)
        self.summary.setObjectName("previewSummary")
        self.rows = QtWidgets.QPlainTextEdit()
        self.rows.setReadOnly(True)
        self.rows.setLineWrapMode(QtWidgets.QPlainTextEdit.NoWrap)
        self.rows.setFont(QtGui.QFontDatabase.systemFont(QtGui.QFontDatabase.FixedFont))
        self.message = QtWidgets.QLabel()
        self.message.setObjectName("previewError")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(QtCore.Qt.TextSelectableByMouse)
        self.message.setStyleSheet("color: #b00020;")
        self.fix_row = QtWidgets.QHBoxLayout()
        self.fix_buttons: list[QtWidgets.QPushButton] = []

    def value(self, key: str):
        """The option as ``load_sequences`` takes it (None / the default when automatic)."""
        box = self.boxes[key]
        if isinstance(box, QtWidgets.QCheckBox):
            return box.isChecked()
        if isinstance(box, QtWidgets.QComboBox):
            text = box.currentText()
            if text == AUTO:
                return None
            return (text == "yes") if key == "has_header" else text
        text = box.text().strip()
        if not text:
            return OPTIONS[key].default
        if key in COLUMN_LISTS:
            return parse_columns(text)
        return int(text) if text.isdigit() else text

    def set_value(self, key: str, value) -> None:
        box = self.boxes[key]
        if isinstance(box, QtWidgets.QCheckBox):
            box.setChecked(bool(value))
        elif isinstance(box, QtWidgets.QComboBox):
            index = box.findText(_word(key, value))
            if index >= 0:
                box.setCurrentIndex(index)
        else:
            default = value == OPTIONS[key].default and key not in TYPED_DEFAULTS
            box.setText("" if value is None or default else _word(key, value))

    def set_options(self, options: dict) -> None:
        """Show ``options`` (load_sequences keywords) in the controls, with one preview at the end."""
        self._applying = True
        try:
            for key, value in options.items():
                if key in self.boxes:
                    self.set_value(key, value)
        finally:
            self._applying = False

    def options(self) -> dict:
        """Keyword options for ``load_sequences``/``preview`` (automatic and default choices left out)."""
        options = {}
        for key in self.boxes:
            try:
                value = self.value(key)
            except ValueError:
                continue
            if value is not None and (value != DEFAULTS[key] or key in TYPED_DEFAULTS and self.boxes[key].text()):
                options[key] = value
        return options

    def apply_fix(self, fix: Fix) -> None:
        """Set the option a fix names and preview again (what a fix button does)."""
        self.set_value(fix.key, fix.value)
        self._changed()

    # ------------------------------------------------------------------ the preview
    def _changed(self, *_args) -> None:
        if self._applying:
            return
        self._initial_error = None  # the options differ now from the ones the full load refused
        self.refresh()

    def refresh(self) -> None:
        """Re-run the preview with the current options; an error is shown with its fixes, Open disabled."""
        target = self.paths if len(self.paths) > 1 else self.paths[0]
        try:
            self.preview = self._preview_fn(target, rows=10, **self.options())
        except Exception as exc:
            self.preview = None
            self.suggested.show_dataset(None)
            self._show_error(exc, can_open=False)
            self.rows.setPlainText(raw_head(self.paths[0]))
            self.summary.setText("The file cannot be read with these options:")
            return
        self.rows.setPlainText(self.preview.head)
        self.summary.setText("\n".join(summary_lines(self.preview)))
        self.suggested.show_dataset(self.dataset())
        if self._initial_error is not None:  # the head is fine, the whole file was not
            self._show_error(self._initial_error, can_open=True)
            return
        self._show_error(None, can_open=True)

    def _show_error(self, exc, *, can_open: bool) -> None:
        self.error = _message(exc) if exc is not None else None
        self.fixes = tuple(Fix(*f) for f in getattr(exc, "fixes", ()) or ())
        self.message.setText(self.error or "")
        self.buttons.button(QtWidgets.QDialogButtonBox.Open).setEnabled(can_open)
        self._highlight([f.key for f in self.fixes if f.key in self.boxes])

    def _highlight(self, keys: list[str]) -> None:
        """Mark the controls that would fix the error and offer each fix as a button."""
        self.highlighted = list(dict.fromkeys(keys))
        for key, box in self.boxes.items():
            on = key in self.highlighted
            box.setStyleSheet(HIGHLIGHT if on else "")
            font = self.labels[key].font()
            font.setBold(on)
            self.labels[key].setFont(font)
        for button in self.fix_buttons:
            self.fix_row.removeWidget(button)
            button.deleteLater()
        self.fix_buttons = []
        for fix in self.fixes:
            if fix.key not in self.boxes:
                continue
            button = QtWidgets.QPushButton(f'{OPTIONS[fix.key].label}: {_word(fix.key, fix.value) or "none"}')
            button.setObjectName("fixButton")
            button.setToolTip("Set this option and preview again")
            button.clicked.connect(lambda _c=False, f=fix: self.apply_fix(f))
            self.fix_row.addWidget(button)
            self.fix_buttons.append(button)
        if self.highlighted:
            self.boxes[self.highlighted[0]].setFocus()

    def dataset(self):
        """The dataset the preview already loaded with the chosen options (None if it did not)."""
        return getattr(self.preview, "dataset", None) if self.preview is not None else None


def _message(exc) -> str:
    """A loading error in the dialog's words (its fixes named by the controls' labels)."""
    render = getattr(exc, "render", None)
    if render is not None:
        return render("dialog")
    return str(exc) or type(exc).__name__
