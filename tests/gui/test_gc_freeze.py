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
