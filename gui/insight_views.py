"""InsightViews: the window's three docks that look inside the run, and what they replay.

*Saliency over time*, *State trajectories* and *Recurrent matrix* (gui.plots.saliency, .trajectory,
.spectrum) show the engine.insights.Insight that the worker sends (``sigInsight``, at its inference
cadence) and the spectral radii on the Diagnostics dock. Insights are kept in a bounded
``SnapshotStore`` (evenly thinned), so the views follow the hidden-state panel's epoch scrubber:
scrubbing back shows the insight nearest to the replayed epoch, the live end the newest one.
Drawing is one view per ~120 ms tick and only for docks that are shown (a dock made visible
catches up), so a look never costs the window more than one short paint; and the worker looks
only while one of the three docks is shown (``worker.look_inside``): the first look compiles the
saliency graph (seconds), which nobody should pay for a view they never open.
"""

from __future__ import annotations

import logging

from PyQt5 import QtCore

from engine.insights import InsightSeries
from gui.plots.saliency import SaliencyView
from gui.plots.snapshots import SnapshotStore
from gui.plots.spectrum import SpectrumView
from gui.plots.trajectory import TrajectoryView

log = logging.getLogger(__name__)

DRAW_INTERVAL_MS = 120
MAX_KEPT = 200  # insights the scrubber can replay
BUDGET_BYTES = 48 << 20
DOCKS = (("saliency", "Saliency over time"), ("trajectory", "State trajectories"), ("spectrum", "Recurrent matrix"))


class InsightViews(QtCore.QObject):
    """Owns the three insight widgets (``views[key]``) for window ``window`` (see the module docstring)."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.views = {"saliency": SaliencyView(), "trajectory": TrajectoryView(), "spectrum": SpectrumView()}
        self.store = SnapshotStore(MAX_KEPT, BUDGET_BYTES)
        self.series = InsightSeries()
        self.run_id = None
        self._pending: set = set()
        self._shown_epoch = None  # epoch of the insight on display (None: nothing yet)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(DRAW_INTERVAL_MS)
        self.timer.timeout.connect(self._draw_one)
        self.timer.start()
        window.hidden_panel.scrubber.valueChanged.connect(lambda _value: self._follow_scrubber())

    def dock_specs(self) -> list:
        """(key, title, widget) for gui.window_menus.build_docks."""
        return [(key, title, self.views[key]) for key, title in DOCKS]

    def watch(self, docks: dict) -> None:
        """Look inside only while one of the docks is shown (no compile, no cost for nobody)."""
        for key, _ in DOCKS:
            docks[key].visibilityChanged.connect(lambda _visible: self._update_looking())

    def looking(self) -> bool:
        return any(self._visible(key) for key, _ in DOCKS)

    def _update_looking(self) -> None:
        worker = getattr(self.window, "worker", None)
        if worker is None:
            return
        looking = self.looking()
        if looking and not worker.look_inside:
            worker.look_inside = True
            worker.request_predictions()  # a look at the current epoch, also when paused or ended
        worker.look_inside = looking

    # ----- arrivals (GUI thread)
    def take(self, run_id: int, insight) -> None:
        """An Insight of run ``run_id`` (worker.sigInsight); one of a replaced run is dropped."""
        if run_id != self.window._run_id:
            return
        if run_id != self.run_id:
            self.clear()
            self.run_id = run_id
        self.store.add(insight)
        self.series.add(insight)
        self._configure(insight)
        self._pending = set(self.views) | {"diagnostics"}

    def _configure(self, insight) -> None:
        dataset = self.window.dataset
        if dataset is None:
            return
        saliency = self.views["saliency"]
        saliency.task = dataset.task
        saliency.vocabulary = list(dataset.vocabulary) if dataset.task == "next_token" else None
        self.views["trajectory"].class_names = list(dataset.class_names or [])

    def clear(self) -> None:
        self.store.clear()
        self.series = InsightSeries()
        self.run_id = None
        self._shown_epoch = None
        self._pending.clear()
        for view in self.views.values():
            view.clear()

    # ----- which insight is on display
    def displayed(self):
        """(insight, live): the one nearest the scrubber's epoch, or the newest when it is live."""
        panel = self.window.hidden_panel
        snap = panel.displayed_snapshot()
        live = snap is None or snap is panel.snapshots.latest
        if live or not self.store.frames():
            return self.store.latest, True
        return self.store.nearest(snap.epoch), False

    def _follow_scrubber(self) -> None:
        insight, _ = self.displayed()
        if insight is not None and insight.epoch != self._shown_epoch:
            self._pending |= set(self.views)

    # ----- drawing
    def _visible(self, key: str) -> bool:
        dock = getattr(self.window, "docks", {}).get(key)
        return dock is not None and dock.isVisible() and not dock.visibleRegion().isEmpty()

    def _draw_one(self) -> None:
        for key in list(self._pending):
            if key == "diagnostics" or self._visible(key) or not hasattr(self.window, "docks"):
                self.draw(key)
                return

    def draw(self, key: str) -> None:
        self._pending.discard(key)
        if key == "diagnostics":
            self.window.diagnostics.set_radius_series(self.series.epochs, self.series.radii)
            return
        insight, live = self.displayed()
        if insight is None:
            return
        try:
            self.views[key].show_insight(insight, live=live)
            if key == "saliency":
                self.views[key].set_series(self.series.epochs, self.series.horizons)
        except Exception as exc:  # an insight of a model that was just replaced: the next one fits
            log.warning("%s view not drawn: %s", key, exc)
        self._shown_epoch = insight.epoch

    def draw_all(self) -> None:
        """Everything pending now, shown or not (tests, exports)."""
        for key in list(self._pending):
            self.draw(key)
