"""Qt-free store of hidden-state snapshots: what the epoch scrubber can replay, in bounded memory.

A snapshot is one epoch's hidden states (and gates) of the probe sequence, per layer (T, H).
The store keeps the latest one plus an evenly thinned set of earlier ones: when it is full it
drops every other snapshot and from then on keeps half as many of the new ones, so the kept
epochs stay spread over the whole run whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.names import GATE_NAMES  # noqa: F401  (gate order as in EpochReport.gates; hidden.py uses it)


@dataclass
class Snapshot:
    epoch: int
    hidden: list  # per layer (T, H) float32
    gates: list  # per layer {name: (T, H)}
    text: list | None = None  # text data: the probe's character at each step (len T), else None

    @property
    def nbytes(self) -> int:
        return sum(h.nbytes for h in self.hidden) + sum(a.nbytes for g in self.gates for a in g.values())

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        return tuple(h.shape[1] for h in self.hidden)


def clean_image(array) -> np.ndarray:
    """(T, H) float32, non-finite values kept: the heatmap marks them (they are news, not zeros)."""
    array = np.asarray(array, dtype=np.float32)
    if array.ndim != 2:
        raise ValueError(f"a hidden-state snapshot must be 2-D (time, units), got shape {array.shape}")
    return array


def cell_from_gates(gates: list[dict]) -> str | None:
    """The cell type whose gates these are (None when the names fit no cell)."""
    keys = set()
    for g in gates or []:
        keys |= set(g or {})
    for cell, names in GATE_NAMES.items():
        if names and keys == set(names):
            return cell
    return "elman" if not keys else None


def make_snapshot(epoch: int, hidden, gates=None, text=None) -> tuple[Snapshot, str]:
    """A checked Snapshot and its cell type; ValueError for shapes or gate names that do not fit.
    ``text``: the probe's characters (one per step, as ``EpochReport.probe_text``) or None."""
    hidden = [clean_image(h) for h in hidden]
    gates = [{k: clean_image(v) for k, v in (g or {}).items()} for g in (gates or [{}] * len(hidden))]
    if len(gates) != len(hidden):
        raise ValueError(f"got hidden states for {len(hidden)} layers but gates for {len(gates)}")
    cell = cell_from_gates(gates)
    if cell is None:
        raise ValueError(f"unknown gate names {sorted(set().union(*gates))}; "
                         "expected GRU {z, r} or LSTM {i, f, o, c}")
    if text is not None:
        text = [str(ch) for ch in text]
        if hidden and len(text) != hidden[0].shape[0]:
            raise ValueError(f"got {len(text)} characters for {hidden[0].shape[0]} time steps")
    return Snapshot(int(epoch), hidden, gates, text), cell


class SnapshotStore:
    """The latest snapshot plus at most ``max_snapshots`` earlier ones within ``budget_bytes``."""

    def __init__(self, max_snapshots: int, budget_bytes: int):
        if max_snapshots < 2:
            raise ValueError(f"max_snapshots must be >= 2, got {max_snapshots}")
        self.max_snapshots = int(max_snapshots)
        self.budget_bytes = int(budget_bytes)
        self.clear()

    def clear(self) -> None:
        self._kept: list[Snapshot] = []
        self.latest: Snapshot | None = None
        self._stride = 1
        self._offered = 0

    def add(self, snap: Snapshot) -> None:
        if self.latest is not None and self.latest.epoch == snap.epoch:
            # the same epoch again (the draw timer repeating): replace, do not store twice
            if self._kept and self._kept[-1] is self.latest:
                self._kept[-1] = snap
            self.latest = snap
            return
        self.latest = snap
        limit = max(2, min(self.max_snapshots, self.budget_bytes // max(1, snap.nbytes)))
        if self._offered % self._stride == 0:
            self._kept.append(snap)
        self._offered += 1
        if len(self._kept) > limit:
            self._kept = self._kept[::2]
            self._stride *= 2

    def frames(self) -> list[Snapshot]:
        """Every snapshot that can be replayed, oldest first (kept ones plus the latest)."""
        frames = list(self._kept)
        if self.latest is not None and (not frames or frames[-1] is not self.latest):
            frames.append(self.latest)
        return frames

    def epochs(self) -> list[int]:
        return [s.epoch for s in self.frames()]

    def nearest(self, epoch: int) -> Snapshot | None:
        frames = self.frames()
        if not frames:
            return None
        return min(frames, key=lambda s: abs(s.epoch - epoch))

    def nearest_index(self, epoch: int) -> int:
        epochs = np.array(self.epochs())
        return int(np.argmin(np.abs(epochs - epoch)))
