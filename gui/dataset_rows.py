"""The Controls' read-only Dataset rows (file, sequences, lengths, frames, inputs, outputs), fitted
to the value column: a text that does not fit shows its count before a list ("5 feature(s)") or
is elided, and its tooltip carries the full text. Refitted when the column is resized, so a wide
dock shows whole texts and a 1024x700 window readable ones ("5 feature(s): value@0, v" was cut,
with no tooltip holding the rest).
"""

from __future__ import annotations

from PyQt5 import QtCore

LENGTHS_TIP = "Time steps per sequence: shortest / median / longest"
FRAMES_TIP = "Frames per sequence × steps per frame: the network reads k consecutive steps at once"
ROWS = ("file", "sequences", "lengths", "frames", "inputs", "outputs")
TIPS = {
    "file": "The open sequence file(s); File ▸ Open (Ctrl+O) or drop files on the window",
    "sequences": "How many sequences the file holds (training and validation together)",
    "lengths": LENGTHS_TIP, "frames": FRAMES_TIP,
    "inputs": "What the network reads at each time step", "outputs": "What the network predicts"}
GAP = 8  # px kept free between a row's text and the column's edge


def fitted(fm, text: str, room: int) -> str:
    """``text`` if it fits ``room`` pixels, else the part before its list, else elided."""
    if fm.horizontalAdvance(text) <= room:
        return text
    head = text.split(":", 1)[0]
    return head if fm.horizontalAdvance(head) <= room else fm.elidedText(text, QtCore.Qt.ElideRight, room)


class DatasetRows(QtCore.QObject):
    """The rows of ``panel`` (a ControlPanel), their full texts kept here and refitted on resize."""

    def __init__(self, panel, min_room):
        super().__init__(panel)
        self.panel = panel
        self._min_room = min_room  # () -> px the value column always has (ControlPanel.minimum_width's)
        self.texts = {name: ("", TIPS[name]) for name in ROWS}
        panel.tree.viewport().installEventFilter(self)
        panel.tree.header().sectionResized.connect(lambda *_: self.fit())

    def show(self, texts: dict) -> None:
        """``texts``: summary_texts' keys (a row's text and, as ``<row>_tip``, its tip)."""
        self.texts = {name: (texts.get(name, ""), texts.get(f"{name}_tip") or TIPS[name]) for name in ROWS}
        self.fit()

    def room(self) -> int:
        tree = self.panel.tree
        return max(self._min_room(), tree.viewport().width() - tree.columnWidth(0) - GAP)

    def fit(self) -> None:
        fm, room, panel = self.panel.tree.fontMetrics(), self.room(), self.panel
        applying, panel._applying = panel._applying, True  # not a user's change
        try:
            for name, (text, tip) in self.texts.items():
                shown = fitted(fm, text, room)
                param = panel._param(name)
                if param.value() != shown:
                    param.setValue(shown)
                param.setOpts(tip=f"{text}\n{tip}" if shown != text else tip)
        finally:
            panel._applying = applying

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QtCore.QEvent.Resize:
            self.fit()
        return False
