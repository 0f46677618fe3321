"""TextTimeAxis: a heatmap's time axis labelled with the probe's characters (text data).

Each step t is labelled with the character read at t, whitespace drawn as a sign (␣ ↵ ⇥, from
``engine.text_pattern.visible_char``). When the steps are too close for a label each, every k-th
step is labelled, k chosen from the pixels per step so labels never touch; zooming in shows more.
Without characters it is the ordinary ReadableAxisItem (numbers).
"""

from __future__ import annotations

import math

from engine.text_pattern import tick_stride, visible_char
from gui.plots.axis import ReadableAxisItem


class TextTimeAxis(ReadableAxisItem):
    """A time axis whose ticks are characters when ``set_characters`` gave it some."""

    CHAR_GAP_LINES = 1.15  # label spacing in text heights (characters are short labels)

    def __init__(self, orientation, **kwargs):
        self._chars: list[str] = []
        super().__init__(orientation, **kwargs)

    def set_characters(self, chars) -> None:
        """The character of each step (None or empty: numeric ticks again)."""
        chars = [visible_char(str(c)) for c in (chars or [])]
        if chars != self._chars:
            self._chars = chars
            self.picture = None
            self.update()

    def characters(self) -> list[str]:
        return list(self._chars)

    def _char_gap_px(self) -> float:
        return self._min_gap_px() / self.MIN_GAP_LINES * self.CHAR_GAP_LINES \
            if self.orientation in ("left", "right") else 14.0

    def tickValues(self, minVal, maxVal, size):
        if not self._chars:
            return super().tickValues(minVal, maxVal, size)
        lo, hi = sorted((float(minVal), float(maxVal)))
        first, last = max(0, math.ceil(lo)), min(len(self._chars) - 1, math.floor(hi))
        if last < first or size <= 0:
            return []
        stride = tick_stride(max(hi - lo, 1e-9), size, self._char_gap_px())
        start = first + (-first) % stride  # multiples of the stride: labels do not jump on pan
        return [(float(stride), list(range(start, last + 1, stride)))]

    def tickStrings(self, values, scale, spacing):
        if not self._chars:
            return super().tickStrings(values, scale, spacing)
        out = []
        for v in values:
            t = int(round(v))
            out.append(self._chars[t] if 0 <= t < len(self._chars) else "")
        return out
