"""InsightViews: the window's three docks that look inside the run, and what they replay.

*Saliency over time*, *State trajectories* and *Recurrent matrix* (gui.plots.saliency, .trajectory,
.spectrum) show the engine.insights.Insight the run computes (fetched as below) and the spectral
radii on the Diagnostics dock. Insights are kept in a bounded
``SnapshotStore`` (evenly thinned), so the views follow the hidden-state panel's epoch scrubber:
scrubbing back shows the insight nearest to the replayed epoch, the live end the newest one.
Drawing is one view per ~120 ms tick and only for docks that are shown (a dock made visible
catches up), so a look never costs the window more than one short paint. The run looks only while
one of the three docks is shown: every ~0.5 s a job on the worker (``worker.submit``, one in flight
at most) sets ``run.insights.enabled`` (the Run then looks after epochs, at its own cadence), looks
itself when that cadence allows (a paused or ended run too), and returns a copy of the newest look if it is newer
than the one shown. The first look compiles the saliency graph (seconds), which nobody should pay
for a view they never open.
"""

from __future__ import annotations

import functools
import logging

from PyQt5 import QtCore

from engine.insights import InsightSeries
from gui.plots.saliency import SaliencyView
from gui.plots.snapshots import SnapshotStore
from gui.plots.spectrum import SpectrumView
from gui.plots.trajectory import TrajectoryView

log = logging.getLogger(__name__)


def insight_job(looking: bool, seen: tuple, step, run):
    """On the worker thread, between epochs: (run identity, a copy of the newest Insight unless it is
    the one ``seen`` = (run identity, epoch, step), else None). Turns the run's looking on or off,
    sets the explained ``step`` (None = the last) and looks when the cadence allows (at once for a
    new step), so a paused or ended run is looked at too."""
    if run is None:
        return None, None
    run.insights.enabled = looking
    changed = run.insights.set_step(step)
    if looking:  # paused, ended, or between epochs: the same cadence as the Run's own looks (the first at once)
        run.insights.look_if_due(force=run.insights.latest is None or changed)
    latest = run.insights.latest
    newer = latest is not None and seen != (id(run), latest.epoch, latest.step)
    return id(run), (latest.copy() if looking and newer else None)


DRAW_INTERVAL_MS = 120
POLL_INTERVAL_MS = 500  # how often a shown dock asks the worker for the newest look (one job in flight at most)
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
        self.stored = False  # the looks shown were read from a run folder (none of them is live)
        self._asked_step = None  # --saliency-step, until the first look tells whether the probe has it
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(DRAW_INTERVAL_MS)
        self.timer.timeout.connect(self._draw_one)
        self.timer.start()
        self._run_key = None  # identity of the run the shown insights belong to
        self._asking = False  # a job is in flight
        self._was_looking = False
        self.poll_timer = QtCore.QTimer(self)
        self.poll_timer.setInterval(POLL_INTERVAL_MS)
        self.poll_timer.timeout.connect(self.ask)
        self.poll_timer.start()
        window.hidden_panel.scrubber.valueChanged.connect(lambda _value: self._follow_scrubber())
        self.views["saliency"].sigStepChosen.connect(lambda _step: self.ask())  # the next look explains it

    def choose_step(self, step: int | None) -> None:
        """``--saliency-step`` at start: the Saliency dock explains ``step`` (None: the last). The
        probe is not known yet; the first look says so if it has no such step (the last is then
        explained, as the engine clips it)."""
        spin = self.views["saliency"].step_spin
        spin.setMaximum(max(spin.maximum(), -1 if step is None else step))
        spin.setValue(-1 if step is None else step)
        self._asked_step = step

    def _check_asked_step(self, insight) -> None:
        asked, self._asked_step = self._asked_step, None
        if asked is not None and insight.step != asked:
            # short: the status bar's permanent widgets leave ~65 characters at 1600 px; the
            # dock's box shows the step explained instead
            why = ("a classifier predicts once" if self.window.dataset is not None
                   and self.window.dataset.task == "classify_sequence"
                   else f"the probe has {insight.saliency.size} steps")
            self.window._show_status(f"--saliency-step {asked} refused: {why}")

    def dock_specs(self) -> list:
        """(key, title, widget) for gui.window_menus.build_docks."""
        return [(key, title, self.views[key]) for key, title in DOCKS]

    def watch(self, docks: dict) -> None:
        """A dock shown asks at once (no wait for the next poll)."""
        for key, _ in DOCKS:
            docks[key].visibilityChanged.connect(lambda visible: self.ask() if visible else None)

    def looking(self) -> bool:
        return any(self._visible(key) for key, _ in DOCKS)

    def ask(self) -> None:
        """Send the worker the job (see ``insight_job``) when one of the docks is shown, or once
        more after they were hidden (to turn the run's looking off)."""
        window = self.window
        looking = self.looking()
        if self._asking or not hasattr(window, "worker") or not (looking or self._was_looking):
            return
        if getattr(window, "run_view", None) is not None and window.run_view.reader is not None:
            return  # a run folder is shown: its stored looks are on display (show_stored)
        self._was_looking = looking
        self._asking = True
        latest = self.store.latest
        seen = (self._run_key, *((latest.epoch, latest.step) if latest is not None else (None, None)))
        run_id = window._run_id
        step = self.views["saliency"].chosen_step()
        window._submit(functools.partial(insight_job, looking, seen, step),
                       lambda result, error: self._answered(run_id, result, error))

    def _answered(self, run_id: int, result, error) -> None:
        self._asking = False
        if error is not None or result is None:
            return
        key, insight = result
        if key is not None and key != self._run_key:
            self.clear()
            self._run_key = key
        if insight is not None:
            self.take(run_id, insight)

    # ----- arrivals (GUI thread)
    def take(self, run_id: int, insight) -> None:
        """An Insight of the window's run ``run_id``; one of a replaced run is dropped."""
        if run_id != self.window._run_id:
            return
        self.stored = False
        if run_id != self.run_id:
            self.store.clear()
            self.series = InsightSeries()
            self.run_id = run_id
        self.store.add(insight)
        self.series.add(insight)
        self._configure(insight)
        self._check_asked_step(insight)
        self._pending = set(self.views) | {"diagnostics"}

    def show_stored(self, insights, series=None, *, task=None, vocabulary=None, class_names=()) -> None:
        """Looks read from a run folder (gui.run_view), added to the ones shown: replayed with the
        scrubber as a live run's are; ``series`` (engine.insights.InsightSeries, the newest file's)
        replaces the horizon and radii (None: built from the looks); ``class_names`` are run.json's
        (none in an older folder: the classes are numbered)."""
        self.run_id = self.window._run_id
        self.stored = True
        for insight in sorted(insights, key=lambda i: i.epoch):
            self.store.add(insight)
            if series is None:
                self.series.add(insight)
        if series is not None:
            self.series = series
        saliency = self.views["saliency"]
        saliency.task = task or saliency.task
        saliency.vocabulary = vocabulary
        saliency.set_step_choice(False, "a run folder's looks are replayed as they were computed")
        self.views["trajectory"].class_names = list(class_names or [])
        self._pending = set(self.views) | {"diagnostics"}

    def _configure(self, insight) -> None:
        dataset = self.window.dataset
        if dataset is None:
            return
        saliency = self.views["saliency"]
        saliency.task = dataset.task
        saliency.set_step_choice(dataset.task != "classify_sequence",
                                 "a classifier predicts once, after the last step" if dataset.task ==
                                 "classify_sequence" else "")
        saliency.vocabulary = list(dataset.vocabulary) if dataset.task == "next_token" else None
        self.views["trajectory"].class_names = list(dataset.class_names or [])

    def clear(self) -> None:
        self.store.clear()
        self.series = InsightSeries()
        self.run_id = None
        self.stored = False
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
            self.views[key].show_insight(insight, live=live, stored=self.stored)
            if key == "saliency":
                self.views[key].set_series(self.series.epochs, self.series.horizons)
        except Exception as exc:  # an insight of a model that was just replaced: the next one fits
            log.warning("%s view not drawn: %s", key, exc)
        self._shown_epoch = insight.epoch

    def draw_all(self) -> None:
        """Everything pending now, shown or not (tests, exports)."""
        for key in list(self._pending):
            self.draw(key)
