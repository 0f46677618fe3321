"""gui.gc_freeze: the worker's graphs out of the collector's sight, one collection per interval."""

from gui import gc_freeze


def test_collector_is_frozen_after_a_compile_and_collected_at_most_once_per_interval(monkeypatch):
    freezer = gc_freeze.GarbageFreezer()
    calls = []
    monkeypatch.setattr(gc_freeze.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc_freeze.gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(gc_freeze.gc, "collect", lambda *args: calls.append("collect"))
    clock = [1000.0]
    monkeypatch.setattr(gc_freeze.time, "monotonic", lambda: clock[0])

    freezer.thaw()  # nothing frozen yet: nothing to do
    assert calls == []
    freezer.freeze()
    freezer.thaw()  # a new run: old graphs handed back and collected
    assert calls == ["freeze", "unfreeze", "collect"]
    freezer.freeze()
    clock[0] += 1.0
    freezer.thaw()  # a restart right after: shares the last collection
    assert calls == ["freeze", "unfreeze", "collect", "freeze"]
    clock[0] += gc_freeze.GC_MIN_INTERVAL_S
    freezer.thaw()  # later: everything frozen since is released and collected
    assert calls == ["freeze", "unfreeze", "collect", "freeze", "unfreeze", "collect"]
