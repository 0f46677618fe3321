"""SnapshotStore: plain data, no widget: bounded, evenly thinned, the latest always replayable."""
import numpy as np
import pytest

from gui.plots.snapshots import SnapshotStore, make_snapshot


def _snap(epoch, t=4, h=3):
    return make_snapshot(epoch, [np.full((t, h), epoch / 1000, dtype=np.float32)])[0]


def test_store_thins_evenly_and_keeps_the_latest():
    store = SnapshotStore(max_snapshots=10, budget_bytes=1 << 20)
    for epoch in range(1, 101):
        store.add(_snap(epoch))
    epochs = store.epochs()
    assert epochs[-1] == 100 and epochs[0] == 1
    assert len(epochs) <= 11  # ten kept plus the latest
    gaps = np.diff(epochs[:-1])
    assert gaps.min() == gaps.max()  # evenly spread over the run
    assert store.nearest(50).epoch in epochs and abs(store.nearest(50).epoch - 50) <= gaps.max()


def test_store_replaces_a_repeated_epoch_and_respects_the_byte_budget():
    store = SnapshotStore(max_snapshots=100, budget_bytes=3 * _snap(0).nbytes)
    store.add(_snap(1))
    again = _snap(1)
    store.add(again)
    assert store.epochs() == [1] and store.latest is again
    for epoch in range(2, 30):
        store.add(_snap(epoch))
    assert len(store.frames()) <= 4  # the budget holds three, plus the latest
    store.clear()
    assert store.frames() == [] and store.nearest(3) is None


def test_make_snapshot_keeps_nonfinite_and_names_the_cell():
    hidden = [np.array([[np.nan, 1.0], [np.inf, -1.0]])]
    snap, cell = make_snapshot(7, hidden, [{"z": np.zeros((2, 2)), "r": np.ones((2, 2))}], text=["a", "\n"])
    assert cell == "gru" and snap.layer_sizes == (2,) and snap.hidden[0].dtype == np.float32
    # non-finite values are news the heatmap marks (magenta), not zeros
    assert np.isnan(snap.hidden[0][0, 0]) and np.isinf(snap.hidden[0][1, 0])
    assert snap.text == ["a", "\n"]
    with pytest.raises(ValueError, match="unknown gate names"):
        make_snapshot(1, hidden, [{"q": np.zeros((2, 2))}])
    with pytest.raises(ValueError, match="max_snapshots"):
        SnapshotStore(max_snapshots=1, budget_bytes=100)
