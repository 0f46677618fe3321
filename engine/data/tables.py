"""Delimited numeric tables: CSV / TSV / whitespace, and the UCR archive layout.

Sniffing looks at the head of the file only (delimiter, header, a leading date/index column,
layout). The full read goes through ``numpy.loadtxt`` (fast C parser, reads the file in
chunks); if that refuses the file, a careful Python parser re-reads it to say exactly which
line and column is wrong, or to skip non-numeric rows when asked.

Layouts:
- ``columns``: the table is one sequence; each column a feature (a leading date/index column is
  recognised and not used).
- ``rows``: one row per sequence (univariate), trailing NaN / empty cells are padding.
- ``ucr``: like ``rows`` with the class label in the first column (UCR time-series archive).
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import data_error, display_name
from .files import decode_text, read_bytes
from .formats import Loaded, clean_nonfinite, nonfinite_note, too_long, trim_trailing_nan

__all__ = ["TableSniff", "sniff_table", "read_table", "looks_like_numeric_table", "HEAD_BYTES"]

HEAD_BYTES = 256 * 1024
_SAMPLE_LINES = 50
_CANDIDATE_DELIMITERS = ("\t", ",", ";", "|", None)   # None: runs of whitespace
INDEX_NAMES = {"", "index", "idx", "t", "time", "step", "timestep", "time_step", "date", "datetime",
               "timestamp", "year", "month", "day", "hour", "unnamed: 0", "#"}
_TIME_LIKE = re.compile(r"^\d{1,4}[-/.:]\d{1,2}([-/.:T ]\d{1,4})*([.,]\d+)?(Z|[+-]\d{2}:?\d{2})?$"
                        r"|^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
                        r"|^\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?$"
                        r"|^\d{4}[-/]?[Qq]\d$|^\d{4}-\d{2}$|^[A-Za-z]{3,9}[ -]\d{1,4}([ ,-]+\d{2,4})?$")
_UCR_NAME = re.compile(r"_(TRAIN|TEST)(\.[A-Za-z0-9]+)?$", re.IGNORECASE)
_DELIMITER_NAMES = {",": ",", "comma": ",", "\t": "\t", "\\t": "\t", "tab": "\t", ";": ";", "semicolon": ";",
                    "|": "|", "pipe": "|", " ": None, "space": None, "whitespace": None}


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _int_value(s: str) -> int | None:
    """The integer a cell holds ("3", "3.0", "-1e0"), or None."""
    try:
        v = float(s)
    except ValueError:
        return None
    if not np.isfinite(v) or v != int(v) or abs(v) > 2 ** 53:
        return None
    return int(v)


def _is_number_or_empty(s: str) -> bool:
    return s == "" or _is_number(s)


def split_fields(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    if '"' in line:
        row = next(csv.reader([line], delimiter=delimiter), [])
    else:
        row = line.split(delimiter)
    return [f.strip() for f in row]


def _delimiter_option(value, path):
    if value is None:
        return "auto"
    key = value if value in _DELIMITER_NAMES else str(value).lower()
    if key not in _DELIMITER_NAMES:
        raise data_error(path, f"unknown delimiter {value!r}", "use ',', ';', '|', 'tab' or 'whitespace'")
    return _DELIMITER_NAMES[key]


@dataclass
class TableSniff:
    delimiter: str | None
    skip_lines: int                  # lines before the first data row (comments, blanks, header)
    header: list | None
    n_columns: int
    used_columns: list               # value columns (no index/label column, no trailing empty one)
    index_column: int | None
    layout: str                      # columns | rows | ucr
    first_data_line: int             # 1-based line number of the first data row
    estimated_rows: int
    encoding: str

    @property
    def column_names(self) -> list:
        if self.header:
            return [(self.header[j] if j < len(self.header) else "") or f"column {j + 1}"
                    for j in range(self.n_columns)]
        return [f"column {j + 1}" for j in range(self.n_columns)]


def _content_lines(lines):
    """(line_number, text) of non-blank, non-comment lines."""
    for n, raw in enumerate(lines, start=1):
        s = raw.strip()
        if s and not s.startswith("#"):
            yield n, s


def _choose_delimiter(sample: list[str]):
    best, best_score = None, None
    body = sample[1:] if len(sample) > 1 else sample
    for d in _CANDIDATE_DELIMITERS:
        counts = [len(split_fields(s, d)) for s in sample]
        mode = max(set(counts), key=counts.count)
        consistency = counts.count(mode) / len(counts)
        fields = [f for s in body for f in split_fields(s, d)]
        numeric = sum(_is_number_or_empty(f) for f in fields) / max(len(fields), 1)
        score = (mode > 1 and consistency == 1.0, round(numeric, 3), consistency, mode)
        if best_score is None or score > best_score:
            best, best_score = d, score
    if best_score[3] <= 1:           # one column whatever we split on
        return None if all(not any(c.isspace() for c in s) for s in sample) else ","
    return best


def looks_like_numeric_table(head_text: str) -> bool:
    """True when the first lines form a numeric table (a header and a first label / date
    column allowed). Used to tell numeric .txt files from prose."""
    sample = [s for _, s in _content_lines(head_text.splitlines()[:_SAMPLE_LINES * 2])][:_SAMPLE_LINES]
    if not sample:
        return False
    d = _choose_delimiter(sample)
    rows = [split_fields(s, d) for s in sample]
    body = rows[1:] if len(rows) > 1 and not all(_is_number_or_empty(f) for f in rows[0]) else rows
    if not body:
        return False
    ok = 0
    for r in body:
        values = r[1:] if len(r) > 1 else r
        if values and all(_is_number_or_empty(f) for f in values) and any(f for f in values):
            ok += 1
    return ok >= 0.9 * len(body)


def sniff_table(path, head: bytes, complete: bool, size: int, options, *, force_ucr=False,
                allow_ucr=True) -> TableSniff:
    text, encoding = decode_text(head, path, partial=not complete)
    lines = text.splitlines()
    if not complete and lines:
        lines = lines[:-1]           # the last line may be cut
    content = list(_content_lines(lines))
    if not content:
        if complete:
            raise data_error(path, "contains no data (only blank or comment lines)", "choose a file with numbers in it")
        if "\n" not in text and "\r" not in text:
            raise data_error(path, f"the first line is longer than {HEAD_BYTES // 1024} KB",
                             "put one time step per line (columns layout), or save long sequences as .npy")
        raise data_error(path, f"the first {HEAD_BYTES // 1024} KB contain no data line",
                         "remove the long preamble or choose another file")
    sample = [s for _, s in content[:_SAMPLE_LINES]]
    delimiter = _delimiter_option(options.get("delimiter"), path)
    if delimiter == "auto":
        delimiter = _choose_delimiter(sample)
    rows = [split_fields(s, delimiter) for s in sample]
    n_columns = max(set(len(r) for r in rows), key=[len(r) for r in rows].count)

    has_header = options.get("has_header")
    if has_header is None:
        has_header = False
        if len(rows) >= 2:
            for j, f in enumerate(rows[0]):
                if f and not _is_number(f):
                    col = [r[j] for r in rows[1:] if j < len(r)]
                    if col and sum(_is_number_or_empty(v) for v in col) > 0.5 * len(col):
                        has_header = True
                        break
            if not has_header and all(f and not _is_number(f) for f in rows[0]) and len(rows[0]) == n_columns \
                    and any(all(_is_number_or_empty(r[j]) for r in rows[1:] if j < len(r)) for j in range(n_columns)):
                has_header = True
    header = rows[0] if has_header else None
    if header is not None:
        header = [h.strip().strip('"').strip("'").lstrip("\ufeff") for h in header]
        if len(header) != n_columns and len(rows) > 1:
            n_columns = len(rows[1])
    data_rows = rows[1:] if has_header else rows
    first_line = content[1][0] if has_header and len(content) > 1 else content[0][0]
    if has_header and len(content) < 2:
        if complete:
            raise data_error(path, "has a header but no data rows", "add data below the header line")
    header_line = content[0][0] if has_header else None
    skip_lines = (header_line if has_header else content[0][0] - 1)

    # A trailing delimiter on every line makes an empty last column: ignore it.
    used = list(range(n_columns))
    if n_columns > 1 and data_rows and all(len(r) == n_columns and r[-1] == "" for r in data_rows) and \
            (header is None or not header[-1]):
        used = used[:-1]

    layout_option = options.get("layout")
    if layout_option not in (None, "columns", "rows"):
        raise data_error(path, f"unknown layout {layout_option!r}", "use 'columns' or 'rows' (one row per sequence)")

    col0 = [r[0] for r in data_rows if r]
    col0_numeric = bool(col0) and all(_is_number_or_empty(v) for v in col0)
    col0_time = bool(col0) and not col0_numeric and all(_TIME_LIKE.match(v) for v in col0 if v)
    col0_ints = [_int_value(v) for v in col0]
    col0_integers = bool(col0) and all(v is not None for v in col0_ints)
    rest_numeric = all(_is_number_or_empty(v) for r in data_rows for v in r[1:])
    index_column = None
    if len(used) >= 2 and not force_ucr:
        name = header[0].lower() if header else None
        if name is not None and name in INDEX_NAMES:
            index_column = 0
        elif col0_time:
            index_column = 0
        elif header is None and col0_integers and len(col0) >= 3 and layout_option != "rows":
            ints = col0_ints
            if ints[0] in (0, 1) and all(b - a == 1 for a, b in zip(ints, ints[1:])):
                index_column = 0

    if complete:
        estimated = len(content) - (1 if has_header else 0)
    else:
        mean_len = max(1.0, sum(len(s) + 1 for s in sample) / len(sample))
        estimated = int(size / mean_len)
    layout = "ucr" if force_ucr else layout_option
    if layout is None and allow_ucr:
        # UCR archive: no header, a class label first (integers, or names), numbers after it.
        ucr_named = bool(_UCR_NAME.search(os.path.basename(str(path))))
        few_labels = len(set(col0)) <= max(1, len(col0) // 2)
        label_like = rest_numeric and (ucr_named or col0_integers or (not col0_numeric and not col0_time))
        if index_column is None and header is None and len(used) >= 3 and label_like and (
                ucr_named or (not col0_numeric) or (len(used) >= 10 and few_labels)):
            layout = "ucr"
    if layout is None:
        # More values per row than rows (and many of them): one sequence per row.
        n_values = len(used) - (1 if index_column is not None else 0)
        layout = "rows" if n_values >= 20 and estimated < n_values else "columns"
    if index_column is not None:
        used = [j for j in used if j != index_column]
    return TableSniff(delimiter=delimiter, skip_lines=skip_lines, header=header, n_columns=n_columns,
                      used_columns=used, index_column=index_column, layout=layout, first_data_line=first_line,
                      estimated_rows=estimated, encoding=encoding)


# ----------------------------------------------------------------------------------- parsing
@dataclass
class _Table:
    values: np.ndarray          # (rows, used columns) float; for ucr without the label column
    labels: list | None         # ucr: raw label strings
    line_numbers: np.ndarray | None
    skipped: int = 0
    first_skipped: int | None = None


def _fast_parse(path, sniff: TableSniff, dtype) -> _Table | None:
    """numpy.loadtxt on the file itself (C parser, chunked). None if it refuses the file."""
    if sniff.encoding not in ("utf-8", "cp1252", "latin-1"):
        return None
    encoding = "utf-8-sig" if sniff.encoding == "utf-8" else sniff.encoding
    kw = dict(delimiter=sniff.delimiter, skiprows=sniff.skip_lines, ndmin=2, comments="#", encoding=encoding)
    if sniff.delimiter is not None:
        kw["quotechar"] = '"'
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")      # "input contained no data": handled below
            return _loadtxt(path, sniff, dtype, kw)
    except (ValueError, UnicodeDecodeError, IndexError, TypeError):
        return None
    except PermissionError:
        raise data_error(path, "permission denied", "make the file readable") from None
    except OSError as exc:
        raise data_error(path, f"cannot be read ({exc.strerror or exc})", "check that the file is accessible") \
            from None


def _loadtxt(path, sniff, dtype, kw) -> _Table | None:
    # No usecols: it would switch off loadtxt's check that every row has the same number of
    # fields. Columns we do not use (a date column, a trailing empty one, string labels) go
    # through a converter instead and are dropped afterwards.
    def ignore(_):
        return 0.0

    converters = {j: ignore for j in range(sniff.n_columns) if j not in sniff.used_columns}
    label_ids: dict = {}
    if sniff.layout == "ucr":
        try:
            table = np.loadtxt(path, dtype=np.float64, converters=converters or None, **kw)
        except ValueError:      # string class labels: number them while parsing
            label_col = sniff.used_columns[0]
            converters[label_col] = lambda s: float(label_ids.setdefault(s.strip().strip('"'), len(label_ids)))
            table = np.loadtxt(path, dtype=np.float64, converters=converters, **kw)
    else:
        table = np.loadtxt(path, dtype=dtype, converters=converters or None, **kw)
    if table.shape[0] == 0 or table.shape[1] != sniff.n_columns:
        return None
    if len(sniff.used_columns) != sniff.n_columns:
        table = table[:, sniff.used_columns]
    labels = None
    if sniff.layout == "ucr":
        if label_ids:
            names = {i: name for name, i in label_ids.items()}
            labels = [names[int(v)] for v in table[:, 0]]
        else:
            labels = table[:, 0].tolist()
        table = table[:, 1:]
    return _Table(values=table, labels=labels, line_numbers=None)


def _slow_parse(path, sniff: TableSniff, options, dtype) -> _Table:
    """Line by line, so every problem is reported with its line and column."""
    text, _ = decode_text(read_bytes(path), path)
    names = sniff.column_names
    skip_bad = bool(options.get("skip_non_numeric"))
    ucr = sniff.layout == "ucr"
    value_cols = sniff.used_columns[1:] if ucr else sniff.used_columns
    rows, line_numbers, labels = [], [], []
    skipped, first_skipped = 0, None
    what = "the header" if sniff.header is not None else f"line {sniff.first_data_line}"
    for n, raw in enumerate(io.StringIO(text), start=1):
        if n <= sniff.skip_lines:
            continue
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        fields = split_fields(s, sniff.delimiter)
        if n == 1 and fields:
            fields[0] = fields[0].lstrip("\ufeff")
        if len(fields) != sniff.n_columns:
            if skip_bad:
                skipped += 1
                first_skipped = first_skipped or n
                continue
            raise data_error(path, f"has {len(fields)} field(s) but {what} has {sniff.n_columns}",
                             "every row needs the same number of fields (in 'rows' layout pad short rows with NaN)"
                             ' or choose "skip non-numeric rows"', line=n)
        values = []
        bad = None
        for j in value_cols:
            f = fields[j]
            if f == "" or f == "?":
                values.append(np.nan)
                continue
            try:
                values.append(float(f))
            except ValueError:
                bad = (f, j)
                break
        if bad is not None:
            if skip_bad:
                skipped += 1
                first_skipped = first_skipped or n
                continue
            f, j = bad
            shown = f if len(f) <= 30 else f[:27] + "..."
            raise data_error(path, f"{shown!r} is not a number (column {names[j]!r})",
                             'remove it or choose "skip non-numeric rows"', line=n)
        if ucr:
            labels.append(fields[sniff.used_columns[0]])
        rows.append(values)
        line_numbers.append(n)
    if not rows:
        if skipped:
            raise data_error(path, f"no numeric rows left after skipping {skipped} row(s)",
                             "check the delimiter and the columns")
        raise data_error(path, "contains no data rows", "add numbers below the header")
    return _Table(values=np.array(rows, dtype=dtype), labels=labels if ucr else None,
                  line_numbers=np.array(line_numbers), skipped=skipped, first_skipped=first_skipped)


def _data_line_numbers(path, sniff: TableSniff) -> np.ndarray:
    """Line numbers of the data rows (after a successful fast parse, for messages only)."""
    text, _ = decode_text(read_bytes(path), path)
    out = []
    for n, raw in enumerate(io.StringIO(text), start=1):
        if n > sniff.skip_lines:
            s = raw.strip()
            if s and not s.startswith("#"):
                out.append(n)
    return np.array(out)


def _ucr_labels(raw: list, path, line_of) -> list:
    """UCR class labels: integers (1, 1.0, -1) or names; anything else is an error."""
    out = []
    raw = [v if isinstance(v, str) else repr(float(v)) for v in raw]
    all_numeric = all(_is_number(v) for v in raw)
    for i, v in enumerate(raw):
        v = v.strip().strip('"')
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


def read_table(path, options, head: bytes, complete: bool, size: int, *, force_ucr=False,
               allow_ucr=True) -> Loaded:
    """A delimited table as sequences. ``force_ucr``: format "ucr" was chosen; ``allow_ucr=False``:
    format "csv" was chosen, so the UCR layout is not guessed."""
    sniff = sniff_table(path, head, complete, size, options, force_ucr=force_ucr, allow_ucr=allow_ucr)
    dtype = np.float64 if sniff.layout != "columns" else np.float32
    if sniff.layout == "ucr" and len(sniff.used_columns) < 2:
        raise data_error(path, "a UCR file needs a label column and at least one value column",
                         "one sequence per row: label, value, value, ...")
    table = None
    if not options.get("skip_non_numeric"):
        table = _fast_parse(path, sniff, dtype)
    if table is None:
        table = _slow_parse(path, sniff, options, dtype)

    line_cache = {}

    def line_of(row: int) -> int:
        if table.line_numbers is None:
            if "lines" not in line_cache:
                line_cache["lines"] = _data_line_numbers(path, sniff)
            lines = line_cache["lines"]
        else:
            lines = table.line_numbers
        return int(lines[row]) if row < len(lines) else None

    names = sniff.column_names
    notes = []
    if table.skipped:
        notes.append(f"{display_name(path)}: skipped {table.skipped} row(s) that were not numeric "
                     f"(first at line {table.first_skipped})")
    policy = options["nonfinite"]
    counts: dict = {}
    values = table.values
    if values.size == 1 and sniff.layout == "columns":
        raise data_error(path, "contains a single value", "a sequence needs at least 2 steps")
    info = {"delimiter": sniff.delimiter, "has_header": sniff.header is not None, "encoding": sniff.encoding,
            "index_column": None if sniff.index_column is None else names[sniff.index_column]}
    if sniff.layout == "columns":
        feature_names = [names[j] for j in sniff.used_columns]
        if sniff.header is None:
            feature_names = ["value"] if len(feature_names) == 1 else feature_names
        seq = clean_nonfinite(values, policy, path,
                              lambda t, j: (line_of(t), f"(column {feature_names[j]!r})"), counts)
        if len(seq) > options["max_length"]:
            raise too_long(path, len(seq), options["max_length"])
        loaded = Loaded(path=str(path), format="csv", layout="columns", sequences=[seq.astype(np.float32)],
                        feature_names=feature_names, info=info)
    else:
        raw_labels = None
        if sniff.layout == "ucr":
            raw_labels = _ucr_labels(table.labels, path, line_of)
        sequences = []
        for i, row in enumerate(values):
            seq = trim_trailing_nan(row[:, None])
            if len(seq) == 0:
                raise data_error(path, "row has no values", "remove the empty row or fill it in", line=line_of(i))
            seq = clean_nonfinite(seq, policy, path, lambda t, j, _i=i: (line_of(_i), f"(step {t + 1})"), counts)
            if len(seq) > options["max_length"]:
                raise too_long(path, len(seq), options["max_length"], line=line_of(i))
            sequences.append(seq.astype(np.float32))
        loaded = Loaded(path=str(path), format="ucr" if sniff.layout == "ucr" else "csv", layout=sniff.layout,
                        sequences=sequences, labels=raw_labels, feature_names=["value"], info=info)
    note = nonfinite_note(path, counts)
    loaded.notes = notes + ([note] if note else [])
    return loaded
