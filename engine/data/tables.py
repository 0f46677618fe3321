"""Delimited numeric tables (CSV / TSV / whitespace, the UCR archive layout) read as sequences.

``sniff`` decides from the file's head (delimiter, decimal mark, header, index columns, layout);
here the file is streamed line by line, never held as one string: ``numpy.loadtxt`` parses the
lines in chunks of rows (float64, then a checked cast to float32), and if it refuses them a
careful parser re-reads the file to say which line and column is wrong, or to skip non-numeric
rows when asked. A line far longer than the head's lines is measured in pieces and refused
before it is held, so memory stays within a few times the file size on every path.

Layouts:
- ``columns``: the table is one sequence; each column a feature (index columns are not used).
- ``rows``: one row per sequence (univariate), trailing NaN / empty cells are padding.
- ``ucr``: like ``rows`` with the class label in the first column (UCR time-series archive).
"""

from __future__ import annotations

import bisect
import contextlib
import io
import re
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import DataError, data_error, display_name
from .files import decode_text
from .formats import Loaded, clean_nonfinite, nonfinite_note, to_float32_checked, too_long, trim_trailing_nan
from .options import Fix
from .sniff import HEAD_BYTES, TableSniff, looks_like_numeric_table, sniff_table, split_fields

__all__ = ["TableSniff", "sniff_table", "read_table", "looks_like_numeric_table", "HEAD_BYTES"]

_MIN_LINE_LIMIT = 1 << 20       # characters: a line may be this long whatever the head's lines are
_LINE_GROWTH = 16               # ... or this many times the longest line of the head
_CHUNK_VALUES = 1 << 20         # values the careful parser holds as Python floats before packing them
_SCAN_BLOCK = 1 << 23           # bytes per block when measuring line lengths
_DIRECT_ENCODINGS = {"utf-8", "cp1252", "latin-1"}   # \n is byte 10 and numpy can read the file itself
_CODECS = {"utf-8": "utf-8-sig", "utf-16-le": "utf-16", "utf-16-be": "utf-16", "utf-32-le": "utf-32",
           "utf-32-be": "utf-32"}


class _LineMap:
    """Row index -> line number, stored only where lines were skipped (blank, comment)."""

    def __init__(self):
        self._rows: list = []
        self._offsets: list = []
        self._next = None
        self.count = 0

    def add(self, n: int) -> None:
        if n != self._next:
            self._rows.append(self.count)
            self._offsets.append(n - self.count)
        self._next = n + 1
        self.count += 1

    def line(self, row: int) -> int | None:
        if not 0 <= row < self.count:
            return None
        k = bisect.bisect_right(self._rows, row) - 1
        return row + self._offsets[k]


class _Lines:
    """The data lines of a table as (line number, stripped text), streamed from the file.

    Decimal commas come out as points; a line longer than the limit raises a DataError saying
    how many fields it has, without holding more than one piece of it."""

    def __init__(self, path, sniff: TableSniff, open_binary, head_text: str | None = None):
        self.path = path
        self.sniff = sniff
        self._open_binary = open_binary
        self._head_text = head_text
        self.is_head = head_text is not None
        self.limit = max(_MIN_LINE_LIMIT, _LINE_GROWTH * sniff.longest_line)
        self.rows = _LineMap()
        self.skip_long = False       # skip_non_numeric: an over-long line is skipped, not refused
        self.skipped: list = []      # line numbers of the over-long lines skipped

    def _open(self):
        if self._head_text is not None:
            return io.StringIO(self._head_text)
        codec = _CODECS.get(self.sniff.encoding, self.sniff.encoding)
        return io.TextIOWrapper(self._open_binary(), encoding=codec, newline=None)

    def __iter__(self):
        self.rows, self.skipped = _LineMap(), []
        comma = self.sniff.decimal == ","
        with self._open() as f:
            n = 0
            while True:
                raw = f.readline(self.limit)
                if not raw:
                    return
                n += 1
                if len(raw) >= self.limit and not raw.endswith("\n"):
                    self._long_line(f, n, raw)
                    continue
                if n <= self.sniff.skip_lines:
                    continue
                s = raw.strip()
                if not s or s.startswith("#"):
                    continue
                self.rows.add(n)
                yield n, (s.replace(",", ".") if comma else s)

    def _long_line(self, f, n: int, piece: str) -> None:
        """Count the fields of an over-long line piece by piece, then refuse it."""
        if piece.lstrip().startswith("#") or n <= self.sniff.skip_lines:
            while piece and not piece.endswith("\n"):
                piece = f.readline(self.limit)
            return
        d = self.sniff.delimiter
        fields, chars, in_field = (1 if d is not None else 0), 0, False
        while piece:
            chars += len(piece)
            if d is not None:
                fields += piece.count(d)
            else:
                starts = len(re.findall(r"\S+", piece))
                fields += starts - (1 if in_field and piece[:1].strip() else 0)
                in_field = bool(piece[-1:].strip())
            if piece.endswith("\n"):
                break
            piece = f.readline(self.limit)
        if self.skip_long:
            self.skipped.append(n)
            return
        if fields != self.sniff.n_columns:
            raise data_error(self.path, f"has {fields:,} field(s) but {_reference(self.sniff)} has "
                             f"{self.sniff.n_columns}", _ragged_hint(), line=n, fixes=_SKIP)
        raise data_error(self.path, f"the line is {chars:,} characters long, far longer than the first lines "
                         f"({self.sniff.longest_line:,} at most), so a value in it is not a number",
                         "check that line", line=n)


_SKIP = (Fix("skip_non_numeric", True),)


def _reference(sniff: TableSniff) -> str:
    return "the header" if sniff.header is not None else f"line {sniff.first_data_line}"


def _ragged_hint() -> str:
    return "every row needs the same number of fields (in 'rows' layout pad short rows with NaN), or {fix}"


# ----------------------------------------------------------------------------------- parsing
@dataclass
class _Table:
    values: np.ndarray          # float32 (rows, used columns); for ucr without the label column
    labels: list | None         # ucr: raw label strings
    lines: _Lines               # the source, to find line numbers when a message needs them
    rows: _LineMap | None = None  # row -> line number (found on first use after a fast parse)
    skipped: int = 0
    first_skipped: int | None = None

    def line_of(self, row: int) -> int | None:
        if self.rows is None:
            for _ in self.lines:
                pass
            self.rows = self.lines.rows
        return self.rows.line(row)


def _checked(chunk: np.ndarray, path, sniff: TableSniff, rows: _LineMap, first_row: int, policy: str):
    """A float64 chunk as float32; under "reject" a value too large for float32 is an error."""
    names = _value_names(sniff)
    return to_float32_checked(chunk, path, lambda t, j: (rows.line(first_row + t), f"(column {names[j]!r})"),
                              policy)


def _value_names(sniff: TableSniff) -> list:
    cols = sniff.used_columns[1:] if sniff.layout == "ucr" else sniff.used_columns
    return [sniff.column_names[j] for j in cols]


def _short_lines(open_binary, limit: int) -> bool:
    """True when no line of the file (split on ``\n``) is longer than ``limit`` bytes, so numpy
    may read the file itself. One vectorised pass over the bytes, a block at a time."""
    with open_binary() as f:
        offset, last = 0, -1                     # last: offset of the previous newline
        while True:
            block = f.read(_SCAN_BLOCK)
            if not block:
                return offset - last - 1 <= limit
            newlines = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10) + offset
            if newlines.size:
                if newlines[0] - last - 1 > limit or (newlines.size > 1 and np.diff(newlines).max() - 1 > limit):
                    return False
                last = int(newlines[-1])
            elif offset + len(block) - last - 1 > limit:
                return False
            offset += len(block)


def _loadtxt_source(sniff: TableSniff, lines: _Lines, open_binary):
    """(what numpy.loadtxt reads, lines to skip): the file itself when its lines are plain and
    short, else the streamed lines (decimal commas, other encodings, over-long or CR-only lines)."""
    if sniff.decimal == "." and sniff.encoding in _DIRECT_ENCODINGS and not lines.is_head and \
            _short_lines(open_binary, lines.limit):
        return io.TextIOWrapper(open_binary(), encoding=_CODECS.get(sniff.encoding, sniff.encoding),
                                newline=None), sniff.skip_lines
    return contextlib.closing(s for _, s in lines), 0


def _fast_parse(path, sniff: TableSniff, lines: _Lines, open_binary, policy: str) -> _Table | None:
    """numpy.loadtxt (float32). None if it refuses the rows, or under "reject" when a value came
    out infinite (inf, or beyond float32): the careful parser then says where and why."""
    # No usecols: it would switch off loadtxt's check that every row has the same number of
    # fields. Columns we do not use (an index, a trailing empty one, the UCR label) go through a
    # converter instead and are dropped afterwards.
    labels: list = []

    def ignore(_):
        return 0.0

    def label(s):
        labels.append(s.strip().strip('"'))
        return 0.0

    converters = {j: ignore for j in range(sniff.n_columns) if j not in sniff.used_columns}
    if sniff.layout == "ucr":
        converters[sniff.used_columns[0]] = label
    kw = dict(delimiter=sniff.delimiter, ndmin=2, comments="#", dtype=np.float32, converters=converters or None)
    if sniff.delimiter is not None:
        kw["quotechar"] = '"'
    try:
        source, skip = _loadtxt_source(sniff, lines, open_binary)
        with source as f, warnings.catch_warnings():
            warnings.simplefilter("ignore")      # "input contained no data", float32 overflow: checked below
            table = np.loadtxt(f, skiprows=skip, **kw)
    except (DataError, UnicodeDecodeError):
        raise
    except (ValueError, IndexError, TypeError):
        return None
    if table.shape[0] == 0 or table.shape[1] != sniff.n_columns:
        return None
    keep = sniff.used_columns[1:] if sniff.layout == "ucr" else sniff.used_columns
    values = table if len(keep) == table.shape[1] else table[:, keep]
    if policy == "reject" and np.isinf(values).any():
        return None
    return _Table(values=values, labels=labels if sniff.layout == "ucr" else None, lines=lines)


def _row_values(fields: list, value_cols: list):
    """The floats of one row, or (bad field, column) for the first cell that is not a number."""
    values = []
    for j in value_cols:
        f = fields[j]
        if f == "" or f == "?":
            values.append(np.nan)
            continue
        try:
            values.append(float(f))
        except ValueError:
            return None, (f, j)
    return values, None


def _slow_parse(path, sniff: TableSniff, lines: _Lines, options) -> _Table:
    """Line by line, so every problem is reported with its line and column."""
    names = sniff.column_names
    skip_bad = bool(options.get("skip_non_numeric"))
    ucr = sniff.layout == "ucr"
    value_cols = sniff.used_columns[1:] if ucr else sniff.used_columns
    chunks, pending, labels, kept = [], [], [], _LineMap()
    skipped, first_skipped = 0, None
    lines.skip_long = skip_bad
    for n, s in lines:
        fields = split_fields(s, sniff.delimiter)
        values, bad = None, None
        if len(fields) != sniff.n_columns:
            if not skip_bad:
                raise data_error(path, f"has {len(fields)} field(s) but {_reference(sniff)} has {sniff.n_columns}",
                                 _ragged_hint(), line=n, fixes=_SKIP)
        else:
            values, bad = _row_values(fields, value_cols)
        if values is None:
            if not skip_bad:
                f, j = bad
                shown = f if len(f) <= 30 else f[:27] + "..."
                raise data_error(path, f"{shown!r} is not a number (column {names[j]!r})", "remove it, or {fix}",
                                 line=n, fixes=_SKIP)
            skipped += 1
            first_skipped = first_skipped or n
            continue
        if ucr:
            labels.append(fields[sniff.used_columns[0]].strip('"'))
        pending.append(values)
        kept.add(n)
        if len(pending) * max(len(value_cols), 1) >= _CHUNK_VALUES:
            chunks.append(_checked(np.array(pending), path, sniff, kept, kept.count - len(pending),
                                   options["nonfinite"]))
            pending = []
    if lines.skipped:
        skipped += len(lines.skipped)
        first_skipped = min(lines.skipped[0], first_skipped or lines.skipped[0])
    if pending:
        chunks.append(_checked(np.array(pending), path, sniff, kept, kept.count - len(pending), options["nonfinite"]))
    if not chunks:
        if skipped:
            raise data_error(path, f"no numeric rows left after skipping {skipped} row(s)",
                             "check the delimiter and the columns")
        raise data_error(path, "contains no data rows", "add numbers below the header")
    values = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    return _Table(values=values, labels=labels if ucr else None, lines=lines, rows=kept, skipped=skipped,
                  first_skipped=first_skipped)


def _parse(path, sniff: TableSniff, options, open_binary, head_text) -> _Table:
    """Fast parse, else the careful one; a file that is not valid text in the head's encoding
    past the head is read again as Windows-1252 / Latin-1."""
    for fallback in (None, "cp1252", "latin-1"):
        if fallback is not None:
            sniff.encoding = fallback
        lines = _Lines(path, sniff, open_binary, head_text)
        try:
            table = None
            if not options.get("skip_non_numeric"):
                table = _fast_parse(path, sniff, lines, open_binary, options["nonfinite"])
            return table if table is not None else _slow_parse(path, sniff, _Lines(path, sniff, open_binary,
                                                                                   head_text), options)
        except UnicodeDecodeError:
            if fallback == "latin-1":
                raise
    raise AssertionError("unreachable")


def _ucr_labels(raw: list, path, line_of) -> list:
    """UCR class labels: integers (1, 1.0, -1) or names; anything else is an error."""
    out = []
    all_numeric = all(_is_float(v) for v in raw)
    for i, v in enumerate(raw):
        if all_numeric:
            x = float(v)
            if not np.isfinite(x) or x != int(x):
                raise data_error(path, f"class label {v!r} is not an integer or a name",
                                 "UCR files need a class label (integer or name) in the first column",
                                 line=line_of(i))
            out.append(int(x))
        else:
            if v == "" or v.lower() == "nan":
                raise data_error(path, "missing class label", "put a class label in the first column",
                                 line=line_of(i))
            out.append(v)
    return out


def _is_float(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


# ----------------------------------------------------------------------------------- sequences
def _columns_sequence(path, sniff: TableSniff, table: _Table, options, counts: dict) -> Loaded:
    feature_names = _value_names(sniff)
    if sniff.header is None and len(feature_names) == 1:
        feature_names = ["value"]
    seq = clean_nonfinite(table.values, options["nonfinite"], path,
                          lambda t, j: (table.line_of(t), f"(column {feature_names[j]!r})"), counts)
    if len(seq) > options["max_length"]:
        raise too_long(path, len(seq), options["max_length"])
    return Loaded(path=str(path), format="csv", layout="columns", sequences=[seq], feature_names=feature_names)


def _row_sequences(path, sniff: TableSniff, table: _Table, options, counts: dict) -> Loaded:
    line_of = table.line_of
    raw_labels = _ucr_labels(table.labels, path, line_of) if sniff.layout == "ucr" else None
    sequences = []
    for i, row in enumerate(table.values):
        seq = trim_trailing_nan(row[:, None])
        if len(seq) == 0:
            raise data_error(path, "row has no values", "remove the empty row or fill it in", line=line_of(i))
        seq = clean_nonfinite(seq, options["nonfinite"], path, lambda t, j, _i=i: (line_of(_i), f"(step {t + 1})"),
                              counts)
        if len(seq) > options["max_length"]:
            raise too_long(path, len(seq), options["max_length"], line=line_of(i))
        sequences.append(seq)
    return Loaded(path=str(path), format="ucr" if sniff.layout == "ucr" else "csv", layout=sniff.layout,
                  sequences=sequences, labels=raw_labels, feature_names=["value"])


def _head_data_text(path, head: bytes) -> str:
    """The head as text without its last (possibly cut) line."""
    text, _ = decode_text(head, path, partial=True)
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[:cut + 1] if cut >= 0 else ""


def read_table(path, options, head: bytes, complete: bool, size: int, *, force_ucr=False,
               allow_ucr=True, open_binary=None, head_only=False) -> Loaded:
    """A delimited table as sequences. ``force_ucr``: format "ucr" was chosen; ``allow_ucr=False``:
    format "csv" was chosen, so the UCR layout is not guessed. ``open_binary()`` opens the file
    (a binary stream; default: the path). ``head_only``: read only the rows in ``head`` (a preview);
    ``info["estimated"]`` then says the counts are estimates."""
    sniff = sniff_table(path, head, complete, size, options, force_ucr=force_ucr, allow_ucr=allow_ucr)
    if sniff.layout == "ucr" and len(sniff.used_columns) < 2:
        raise data_error(path, "a UCR file needs a label column and at least one value column",
                         "one sequence per row: label, value, value, ...")
    estimated = head_only and not complete
    head_text = _head_data_text(path, head) if estimated else None
    table = _parse(path, sniff, options, open_binary or (lambda: open(path, "rb")), head_text)
    if table.values.size == 1 and sniff.layout == "columns" and not estimated:
        raise data_error(path, "contains a single value", "a sequence needs at least 2 steps")
    counts: dict = {}
    build = _columns_sequence if sniff.layout == "columns" else _row_sequences
    loaded = build(path, sniff, table, options, counts)
    names = sniff.column_names
    loaded.info = {"delimiter": sniff.delimiter, "decimal": sniff.decimal, "has_header": sniff.header is not None,
                   "encoding": sniff.encoding, "index_columns": [names[j] for j in sniff.index_columns],
                   "estimated": estimated, "estimated_rows": sniff.estimated_rows}
    notes = list(sniff.notes)
    if table.skipped:
        notes.append(f"{display_name(path)}: skipped {table.skipped} row(s) that were not numeric "
                     f"(first at line {table.first_skipped})")
    note = nonfinite_note(path, counts)
    loaded.notes = notes + ([note] if note else [])
    return loaded
