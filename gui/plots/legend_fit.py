"""A plot legend that stays inside its view box when the plot is narrow (a 1024x700 window).

pyqtgraph anchors a legend at a fixed offset from a corner; a legend wider than the room left of
that corner reached past the view box and the axis cut its names at the left ("dation"). Here the
legend keeps its top-right place while it fits, moves to the top-left corner when only the whole
width holds it, and is hidden when even that is too narrow (the hover readout still names the
curves), shown again once the plot is wide enough.
"""

from __future__ import annotations

MARGIN = 10  # px between the legend and the view box's edges, as pyqtgraph's offset=(-10, 10)


class LegendFit:
    """Keeps ``legend`` (a pg.LegendItem whose parent is ``view_box``) inside ``view_box``."""

    def __init__(self, legend, view_box):
        self.legend = legend
        self.view_box = view_box
        self.place = None  # "right", "left" or "hidden": where it was put last
        self._fitting = False  # anchoring moves the legend, which signals geometryChanged again
        view_box.sigResized.connect(self.fit)
        view_box.geometryChanged.connect(self.fit)  # also a change Qt makes without a resize event to the box
        legend.geometryChanged.connect(self.fit)  # its size follows its names (items added, removed)

    def fit(self, *_args) -> None:
        if self._fitting:
            return
        self._fitting = True
        try:
            self._fit()
        finally:
            self._fitting = False

    def _fit(self) -> None:
        legend, room = self.legend, self.view_box.width()
        width = legend.width()
        place = "right" if width + 2 * MARGIN <= room else "left" if width + 2 <= room else "hidden"
        legend.setVisible(place != "hidden" and bool(legend.items))
        if place == self.place:
            return
        self.place = place
        if place == "right":
            legend.anchor((1, 0), (1, 0), (-MARGIN, MARGIN))
        elif place == "left":
            legend.anchor((0, 0), (0, 0), (1, MARGIN))
