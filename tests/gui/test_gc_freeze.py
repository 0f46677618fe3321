"""gui.gc_freeze: the worker's graphs out of the collector's sight, one collection per interval."""

from gui import gc_freeze


def _recording(monkeypatch):
    calls = []
    monkeypatch.setattr(gc_freeze.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc_freeze.gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(gc_freeze.gc, "collect", lambda *args: calls.append("collect"))
    clock = [1000.0]
    monkeypatch.setattr(gc_freeze.time, "monotonic", lambda: clock[0])
    return calls, clock


def test_the_old_runs_are_collected_after_the_new_run_reports_not_before_it_compiles(monkeypatch):
    calls, clock = _recording(monkeypatch)
    freezer = gc_freeze.GarbageFreezer()
    freezer.thaw()  # nothing frozen yet: nothing to do
    freezer.release()
    assert calls == []
    freezer.freeze()  # the first run compiled
    freezer.thaw()  # a new run starts compiling: the old graphs stay frozen meanwhile
    assert calls == ["freeze"]
    freezer.release()  # its first training report: old graphs handed back and collected
    assert calls == ["freeze", "unfreeze", "collect"]
    freezer.release()  # later step reports: nothing more to do
    freezer.freeze()  # its first epoch
    assert calls == ["freeze", "unfreeze", "collect", "freeze"]


def test_restarts_in_quick_succession_share_one_collection_and_lose_no_garbage(monkeypatch):
    calls, clock = _recording(monkeypatch)
    freezer = gc_freeze.GarbageFreezer()
    freezer.freeze()
    freezer.thaw()
    freezer.release()
    freezer.freeze()
    assert calls == ["freeze", "unfreeze", "collect", "freeze"]
    clock[0] += 1.0
    freezer.thaw()  # a restart right after: shares the last collection
    freezer.release()
    freezer.freeze()  # the first epoch of a run whose steps were not reported collects what is due
    assert calls == ["freeze", "unfreeze", "collect", "freeze", "freeze"]
    clock[0] += gc_freeze.GC_MIN_INTERVAL_S
    freezer.thaw()
    freezer.freeze()  # later: everything frozen since is released and collected, then frozen again
    assert calls == ["freeze", "unfreeze", "collect", "freeze", "freeze", "unfreeze", "collect", "freeze"]


def test_the_launch_pause_turns_the_collector_back_on_once_and_leaves_a_collector_off_alone():
    import gc

    try:
        gc_freeze.pause_for_launch()
        assert not gc.isenabled()
        gc_freeze.pause_for_launch()  # main.py, then setup_window: one pause
        gc_freeze.resume_after_launch()
        assert gc.isenabled()
        gc.disable()  # someone else's choice later: a second resume does not undo it
        gc_freeze.resume_after_launch()
        assert not gc.isenabled()
        gc.enable()
        gc.disable()  # off before the launch: the launch does not turn it on
        gc_freeze.pause_for_launch()
        gc_freeze.resume_after_launch()
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc_freeze.resume_after_launch()


def test_a_launch_without_the_collector_has_it_back_at_the_first_training_report(qtbot, make_window, forecast_csv,
                                                                                 tiny_config):
    """Issue 10's launch latency: the collections the launch's imports and window build trigger
    cost ~0.1-0.3 s of it; the collector is off until the first training report."""
    import gc

    from tests.gui.test_main_window import TRAIN_TIMEOUT

    window = make_window(tiny_config.replace(epochs=10_000))
    window.open_paths([forecast_csv], preview=False)
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=10_000)
    try:
        gc_freeze.pause_for_launch()
        window.toggle_run()
        assert not gc.isenabled()  # compiling: still off
        qtbot.waitUntil(gc.isenabled, timeout=TRAIN_TIMEOUT)
        # (no launch timer here: only the first report turns it back on)
        qtbot.waitUntil(lambda: window.run_marks.running_count() + window.loss_plot.point_count() >= 1,
                        timeout=TRAIN_TIMEOUT)
    finally:
        gc.enable()
        gc_freeze.resume_after_launch()
