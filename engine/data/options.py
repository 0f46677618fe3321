"""The loading options, declared once: keyword, default, headless flag and preview-dialog label.

``load_sequences(path, **options)`` takes these keywords; ``main.py`` turns its flags into them and
the preview dialog its controls. A :class:`~engine.data.errors.DataError` that an option can fix
carries that option as :class:`Fix` values, and each front end renders the advice in its own words
with :func:`render`::

    try:
        load_sequences(path)
    except DataError as exc:
        print(render(exc, "cli"))     # '...; clean the file, or pass --nonfinite drop or --nonfinite interpolate'
        # the window: render(exc, "dialog") -> '... or choose "drop" or "interpolate" for "missing / ...'
        # exc.fixes -> (Fix("nonfinite", "drop"), Fix("nonfinite", "interpolate")): the controls to offer

``str(exc)`` is the Python-API wording (``pass nonfinite="drop"``). Nothing here imports numpy.
"""

from __future__ import annotations

import shlex
from typing import NamedTuple

__all__ = ["Option", "OPTIONS", "DEFAULTS", "Fix", "STYLES", "NONFINITE_POLICIES", "render", "render_fixes",
           "fill_hint", "cli_flag", "dialog_label"]

STYLES = ("api", "cli", "dialog")
NONFINITE_POLICIES = ("reject", "drop", "interpolate")  # the values of the "nonfinite" option


class Option(NamedTuple):
    key: str            # the load_sequences keyword
    default: object
    flag: str | None    # the headless flag (None: not offered on the command line)
    label: str | None   # the preview dialog's label for the control (None: not in the dialog)
    doc: str


OPTIONS: dict[str, Option] = {o.key: o for o in (
    Option("format", None, "--format", "format", 'csv, ucr, ts, text, npy, npz; None detects it'),
    Option("task", None, "--task", "task", "classify_sequence, next_token, forecast; None infers it"),
    Option("target_column", None, "--target-column", "target column",
           "forecast target(s): a column name or index, or a list of them; None = every feature"),
    Option("index_columns", None, "--index-columns", "index columns",
           "columns that are an index (dates, year/quarter, 0..n-1), not features: names or indices; "
           "[] = use every column as a feature; None detects them"),
    Option("delimiter", None, "--delimiter", "delimiter", "',', ';', '|', 'tab' or 'whitespace'; None detects it"),
    Option("decimal", None, "--decimal", "decimal separator", "'.' or ','; None detects a decimal comma"),
    Option("has_header", None, "--header/--no-header", "header row", "True, False; None detects it"),
    Option("layout", None, "--layout", "layout", "columns (one sequence) or rows (one row per sequence)"),
    Option("nonfinite", "reject", "--nonfinite", "missing / non-finite values", "reject, drop or interpolate"),
    Option("skip_non_numeric", False, "--skip-non-numeric", "skip non-numeric rows",
           "skip rows that are not numbers instead of refusing the file"),
    Option("multi_file", "sequences", "--multi-file", "several files",
           "sequences (each file its sequences), append (rows appended into one series), "
           "merge (files of different datasets combined on purpose)"),
    Option("label_from_folder", False, "--label-from-folder", "label from folder",
           "each file's class is the name of its folder"),
    Option("max_vocab", 512, "--max-vocab", "maximum vocabulary",
           "text: characters kept, the rarer ones become <unk>; None keeps every character"),
    Option("size_limit", 1 << 30, "--size-limit", "size limit (bytes)",
           "bytes a file (or an .npz member, uncompressed) may hold, checked before reading"),
    Option("frame", 1, "--frame", "steps per frame",
           "classification: k consecutive steps as one time step (k times shorter sequences, k times the "
           "inputs); 1 = as in the file"),
    Option("max_length", 1_000_000, "--max-length", "maximum sequence length", "steps per numeric sequence"),
)}

DEFAULTS = {key: o.default for key, o in OPTIONS.items()}

# Values shown by name rather than as Python literals.
_VALUE_WORDS = {("delimiter", "\t"): "tab", ("delimiter", None): "whitespace", ("delimiter", " "): "whitespace"}


class Fix(NamedTuple):
    """Setting ``key`` to ``value`` would get past the error."""
    key: str
    value: object


def cli_flag(key: str) -> str | None:
    return OPTIONS[key].flag


def dialog_label(key: str) -> str | None:
    return OPTIONS[key].label


def _word(key: str, value) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) if value else "none"
    return _VALUE_WORDS.get((key, value), str(value))


def _cli(fix: Fix) -> str:
    if fix.key == "has_header":
        return "--header" if fix.value else "--no-header"
    flag = OPTIONS[fix.key].flag
    if isinstance(fix.value, bool):
        return flag if fix.value else f"leave out {flag}"
    return f"{flag} {shlex.quote(_word(fix.key, fix.value))}"


def _api(fix: Fix) -> str:
    return f"{fix.key}={fix.value!r}"


def _dialog(key: str, values: list) -> str:
    label = OPTIONS[key].label or key.replace("_", " ")
    if key == "has_header":
        values = ["yes" if v else "no" for v in values]
    elif all(isinstance(v, bool) for v in values):
        return f'tick "{label}"' if values[0] else f'untick "{label}"'
    shown = " or ".join(f'"{_word(key, v)}"' for v in values)
    return f'choose {shown} for "{label}"'


def render_fixes(fixes, style: str = "api") -> str:
    """The advice for ``fixes`` in one front end's words ('' when there are none)."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; choose one of {', '.join(STYLES)}")
    fixes = [Fix(*f) for f in fixes]
    if not fixes:
        return ""
    if style == "dialog":
        keys = list(dict.fromkeys(f.key for f in fixes))
        return " or ".join(_dialog(k, [f.value for f in fixes if f.key == k]) for k in keys)
    one = _cli if style == "cli" else _api
    return "pass " + " or ".join(one(f) for f in fixes)


def fill_hint(template: str | None, fixes, style: str = "api") -> str:
    """``template`` with ``{fix}`` replaced by the advice (appended when it has no ``{fix}``)."""
    advice = render_fixes(fixes, style)
    if not template:
        return advice
    return template.format(fix=advice) if "{fix}" in template else f"{template}, or {advice}"


def render(error, style: str = "api") -> str:
    """The message of a DataError (or any exception) with its fixes named for ``style``.

    ``style``: "api" (keywords, the same as ``str(error)``), "cli" (flags), "dialog" (control labels).
    """
    template = getattr(error, "hint_template", None)
    fixes = getattr(error, "fixes", ())
    if not fixes:
        return str(error)
    hint = fill_hint(template, fixes, style)
    where = getattr(error, "where", None)
    return f"{where}: {error.problem}; {hint}" if where else f"{error.problem}; {hint}"
