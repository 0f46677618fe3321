"""What a spin box does with a typed value it cannot hold, said in words.

Qt's spin box treats a typed number beyond its limits as unfinished input: on Enter or focus-out
it silently puts the last value back, so 99999 typed into "batch size" just turns into 32 again.
Here the typed text is remembered; when the spin box threw it away, a number beyond a limit is set
to that limit and a text that is not a number is refused, and either way ``notify(name, text)``
says what happened (the controls show it under the tree).
"""

from __future__ import annotations

import math

from PyQt5 import QtCore


def _number(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _shown(value: float, integer: bool) -> str:
    return str(int(value)) if integer else f"{value:g}"


class TypedValueGuard(QtCore.QObject):
    """Watches one spin box (pyqtgraph's SpinBox) of the parameter ``name``, titled ``title``."""

    def __init__(self, spin, name: str, title: str, notify, parent=None):
        super().__init__(parent)
        self._spin, self._name, self._title, self._notify = spin, name, title, notify
        self._typed: str | None = None
        spin.lineEdit().textEdited.connect(self._remember)
        spin.editingFinished.connect(self._check)  # runs after the spin box kept or reverted the text

    def _remember(self, text: str) -> None:
        self._typed = text

    def _check(self) -> None:
        typed, self._typed = self._typed, None
        if typed is None or not typed.strip():
            return
        spin = self._spin
        integer = bool(spin.opts.get("int"))
        value = _number(typed)
        current = _shown(float(spin.value()), integer)
        if value is None:
            self._notify(self._name, f"{self._title} {typed.strip()!r} is not a number; kept {current}.")
            return
        low, high = spin.opts["bounds"]
        if low is not None and value < low:
            limit, side = float(low), "smallest"
        elif high is not None and value > high:
            limit, side = float(high), "largest"
        else:
            return
        shown = _shown(limit, integer)
        spin.setValue(int(limit) if integer else limit)  # the change first: it clears the message line
        self._notify(self._name, f"{self._title} {_shown(value, integer)} is beyond the {side} allowed "
                                 f"value, {shown}: set to {shown}.")


def guard_typed_values(params, notify, parent) -> list[TypedValueGuard]:
    """A guard on every int/float control of the tree ``params`` (two levels: groups, controls)."""
    guards = []
    for group in params.children():
        for param in group.children():
            if param.type() not in ("int", "float") or param.opts.get("readonly"):
                continue
            for item in list(param.items):
                spin = getattr(item, "widget", None)
                if spin is not None and hasattr(spin, "lineEdit") and "bounds" in getattr(spin, "opts", {}):
                    guards.append(TypedValueGuard(spin, param.name(), param.opts.get("title", param.name()),
                                                  notify, parent))
    return guards
