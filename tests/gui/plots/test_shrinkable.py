"""Widgets that give way in a narrow dock (gui.plots.shrinkable)."""
from PyQt5 import QtCore, QtWidgets

from gui.plots.shrinkable import CompactRow, ElidedLabel, TurningSplitter, let_shrink


def _settle():
    for _ in range(3):
        QtWidgets.QApplication.processEvents()


def _in_a_dock(qtbot, widget):
    """``widget`` in a plain parent, as in a dock (a top-level QSplitter or layout sets its own minimum)."""
    holder = QtWidgets.QWidget()
    layout = QtWidgets.QVBoxLayout(holder)
    layout.setSizeConstraint(QtWidgets.QLayout.SetNoConstraint)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(widget)
    qtbot.addWidget(holder)
    holder.show()
    return holder


def test_an_elided_label_keeps_its_whole_text_and_shows_it_on_hover(qtbot):
    label = ElidedLabel("GRU · 2 layer(s), 64 + 32 units")
    label.setToolTip("the model")
    qtbot.addWidget(label)
    label.show()
    whole = label.sizeHint().width()
    assert label.minimumSizeHint().width() < whole
    label.resize(whole, label.height())
    _settle()
    assert label.toolTip() == "the model"  # it fits: only its own tip
    label.resize(whole // 2, label.height())
    _settle()
    assert label.text() == "GRU · 2 layer(s), 64 + 32 units"
    shown = QtWidgets.QLabel.text(label)
    assert shown.endswith("…") and label.fontMetrics().horizontalAdvance(shown) <= label.width()
    assert label.toolTip() == "GRU · 2 layer(s), 64 + 32 units\nthe model"


def test_a_compact_row_drops_its_captions_then_wraps_its_last_buttons(qtbot):
    row = CompactRow()
    combo = QtWidgets.QComboBox()
    combo.addItems(["a rather long layer name (32 units)"])
    let_shrink(combo)
    caption = row.add_caption("Layer", combo)
    row.add(combo)
    buttons = [QtWidgets.QPushButton("Rank units"), QtWidgets.QPushButton("Trace")]
    for button in buttons:
        row.add(button, wraps=True)
    holder = _in_a_dock(qtbot, row)
    wide = row.sizeHint().width() + 40
    holder.resize(wide, 60)
    _settle()
    assert caption.isVisible() and all(row.line.indexOf(b) >= 0 for b in buttons)
    narrow = row.minimumSizeHint().width()
    assert narrow < combo.sizeHint().width() + sum(b.sizeHint().width() for b in buttons)
    holder.resize(narrow, 80)
    _settle()
    assert all(row.second.indexOf(b) >= 0 for b in buttons)  # a second line
    assert all(b.width() >= b.minimumSizeHint().width() for b in buttons)  # whole buttons
    holder.resize(wide, 60)
    _settle()
    assert caption.isVisible() and all(row.line.indexOf(b) >= 0 for b in buttons)  # back on one line
    combo.hide()
    row.refit()
    assert not caption.isVisible()  # a caption goes with what it names


def test_a_turning_splitter_stacks_its_sides_when_narrow(qtbot):
    splitter = TurningSplitter()
    left, right = QtWidgets.QWidget(), QtWidgets.QWidget()
    left.setMinimumWidth(150)
    right.setMinimumWidth(200)
    splitter.addWidget(left)
    splitter.addWidget(right)
    assert splitter.minimumSizeHint().width() == 200  # its widest side, not both
    holder = _in_a_dock(qtbot, splitter)
    holder.resize(600, 300)
    _settle()
    assert splitter.orientation() == QtCore.Qt.Horizontal
    holder.resize(250, 400)
    _settle()
    assert splitter.orientation() == QtCore.Qt.Vertical and left.width() >= 150 and right.width() >= 200  # stacked, both whole
    holder.resize(600, 300)
    _settle()
    assert splitter.orientation() == QtCore.Qt.Horizontal
