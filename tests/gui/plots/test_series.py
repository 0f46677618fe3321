"""GrowableSeries: amortised growth, non-finite points dropped on the way in."""
import numpy as np

from gui.plots import GrowableSeries


def test_growable_series_amortised_and_drops_nonfinite():
    s = GrowableSeries(capacity=2)
    for i in range(1000):
        s.append(i, 1.0 / (i + 1))
    assert len(s) == 1000 and s._x.size < 4096  # doubled, not grown by one each time
    assert not s.append(1000, float("nan"))
    assert s.extend([1, 2, 3, 4], [1.0, np.inf, 3.0, None]) == 2  # None: a missing loss
    assert len(s) == 1002 and s.dropped == 3
    assert np.isfinite(s.y).all()
