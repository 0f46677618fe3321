"""What the head of a delimited table says about the whole file.

Each decision is its own function, made from the first lines only (``HEAD_BYTES``):

- the delimiter (Excel's ``sep=;`` first line wins, then the split that gives consistent numeric rows),
- the decimal mark (a decimal comma next to a ``;`` / tab / ``|`` / whitespace delimiter, or a
  one-column file whose rows all look like ``1,48``),
- the header row (including pandas' ``,0`` header whose empty first name is the index),
- the index columns (dates, calendar integers such as ``year`` / ``quarter``, a 0..n-1 counter),
  which are neither features nor targets,
- the layout (``columns``: one sequence; ``rows``: one row per sequence; ``ucr``: label first).
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass, field

import numpy as np

from .errors import data_error, display_name
from .files import decode_text
from .options import Fix

__all__ = ["TableSniff", "sniff_table", "looks_like_numeric_table", "split_fields", "HEAD_BYTES",
           "INDEX_NAMES", "CALENDAR_NAMES"]

HEAD_BYTES = 256 * 1024
_SAMPLE_LINES = 50
_CANDIDATE_DELIMITERS = ("\t", ",", ";", "|", None)   # None: runs of whitespace
# A first column with one of these names is an index whatever it holds.
INDEX_NAMES = {"", "index", "idx", "t", "time", "step", "timestep", "time_step", "date", "datetime",
               "timestamp", "unnamed: 0", "#", "obs", "period"}
# Integer columns with these names (anywhere in the table) are calendar parts, not measurements.
CALENDAR_NAMES = {"year", "yr", "quarter", "qtr", "month", "mon", "week", "weekday", "dayofweek", "day_of_week",
                  "day", "dayofyear", "day_of_year", "doy", "hour", "minute", "second"}
_TIME_LIKE = re.compile(r"^\d{1,4}[-/.:]\d{1,2}([-/.:T ]\d{1,4})*([.,]\d+)?(Z|[+-]\d{2}:?\d{2})?$"
                        r"|^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
                        r"|^\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?$"
                        r"|^\d{4}[-/]?[Qq]\d$|^\d{4}-\d{2}$|^[A-Za-z]{3,9}[ -]\d{1,4}([ ,-]+\d{2,4})?$")
_UCR_NAME = re.compile(r"_(TRAIN|TEST)(\.[A-Za-z0-9]+)?$", re.IGNORECASE)
_SEP_LINE = re.compile(r'^"?sep=(.|\\t|tab)"?$', re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"^[-+]?(\d+,\d*|,\d+)([eE][-+]?\d+)?$")
_INTEGER = re.compile(r"^[-+]?\d+$")
_DELIMITER_NAMES = {",": ",", "comma": ",", "\t": "\t", "\\t": "\t", "tab": "\t", ";": ";", "semicolon": ";",
                    "|": "|", "pipe": "|", " ": None, "space": None, "whitespace": None}
_DECIMAL_NAMES = {".": ".", "point": ".", "dot": ".", ",": ",", "comma": ","}


def is_number(s: str, decimal: str = ".") -> bool:
    if decimal == "," and "," in s:
        s = s.replace(",", ".")
    try:
        float(s)
        return True
    except ValueError:
        return False


def _number_or_empty(s: str, decimal: str = ".") -> bool:
    return s == "" or is_number(s, decimal)


def _int_value(s: str) -> int | None:
    """The integer a cell holds ("3", "3.0", "-1e0"), or None."""
    try:
        v = float(s)
    except ValueError:
        return None
    if not np.isfinite(v) or v != int(v) or abs(v) > 2 ** 53:
        return None
    return int(v)


def split_fields(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    if '"' in line:
        row = next(csv.reader([line], delimiter=delimiter), [])
    else:
        row = line.split(delimiter)
    return [f.strip() for f in row]


def _named_option(value, names: dict, path, what: str, choices: str):
    if value is None:
        return "auto"
    key = value if value in names else str(value).lower()
    if key not in names:
        raise data_error(path, f"unknown {what} {value!r}", f"use {choices}")
    return names[key]


@dataclass
class TableSniff:
    delimiter: str | None
    skip_lines: int                  # lines before the first data row (sep= line, comments, blanks, header)
    header: list | None
    n_columns: int
    used_columns: list               # value columns (no index/label column, no trailing empty one)
    index_columns: list              # columns read as an index (not features)
    layout: str                      # columns | rows | ucr
    first_data_line: int             # 1-based line number of the first data row
    estimated_rows: int              # exact when the head is the whole file
    encoding: str
    decimal: str = "."
    complete: bool = True            # the head is the whole file
    longest_line: int = 0            # characters, over the sampled lines
    notes: list = field(default_factory=list)

    @property
    def column_names(self) -> list:
        return column_names(self.header, self.n_columns)


def column_names(header, n_columns: int) -> list:
    """Display names: the header's, or "column 1", "column 2" ... where it has none."""
    if header:
        return [(header[j] if j < len(header) else "") or f"column {j + 1}" for j in range(n_columns)]
    return [f"column {j + 1}" for j in range(n_columns)]


def _content_lines(lines, start: int = 1):
    """(line_number, text) of non-blank, non-comment lines."""
    for n, raw in enumerate(lines, start=start):
        s = raw.strip()
        if s and not s.startswith("#"):
            yield n, s


def _choose_delimiter(sample: list[str], decimal: str | None = None):
    best, best_score = None, None
    body = sample[1:] if len(sample) > 1 else sample
    for d in _CANDIDATE_DELIMITERS:
        if d == "," and decimal == ",":
            continue
        mark = "," if d != "," and decimal != "." else "."
        counts = [len(split_fields(s, d)) for s in sample]
        mode = max(set(counts), key=counts.count)
        consistency = counts.count(mode) / len(counts)
        fields = [f for s in body for f in split_fields(s, d)]
        numeric = sum(_number_or_empty(f, mark) for f in fields) / max(len(fields), 1)
        score = (mode > 1 and consistency == 1.0, round(numeric, 3), consistency, mode)
        if best_score is None or score > best_score:
            best, best_score = d, score
    if best_score[3] <= 1:           # one column whatever we split on
        return None if decimal == "," or all(not any(c.isspace() for c in s) for s in sample) else ","
    return best


def looks_like_numeric_table(head_text: str) -> bool:
    """True when the first lines form a numeric table (a header and a first label / date
    column allowed). Used to tell numeric .txt files from prose."""
    sample = [s for _, s in _content_lines(head_text.splitlines()[:_SAMPLE_LINES * 2])][:_SAMPLE_LINES]
    if not sample:
        return False
    d = _choose_delimiter(sample)
    mark = "," if d != "," else "."
    rows = [split_fields(s, d) for s in sample]
    body = rows[1:] if len(rows) > 1 and not all(_number_or_empty(f, mark) for f in rows[0]) else rows
    if not body:
        return False
    ok = 0
    for r in body:
        values = r[1:] if len(r) > 1 else r
        if values and all(_number_or_empty(f, mark) for f in values) and any(f for f in values):
            ok += 1
    return ok >= 0.9 * len(body)


# ------------------------------------------------------------------------------ the decisions
def _head_content(path, head: bytes, complete: bool):
    """(content lines, encoding, delimiter from a ``sep=`` line or None)."""
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
    sep = None
    match = _SEP_LINE.match(content[0][1].lstrip("\ufeff"))
    if match:                        # Excel writes "sep=;" as the first line of some CSV exports
        sep = _DELIMITER_NAMES.get(match.group(1).lower(), match.group(1))
        content = content[1:]
        if not content:
            raise data_error(path, "has only a 'sep=' line and no data", "add data below it")
    return content, encoding, sep


def _looks_decimal_comma(sample: list[str], delimiter) -> bool:
    """Fields like ``1,48`` next to a delimiter other than the comma."""
    fields = [f for s in sample for f in split_fields(s, delimiter)]
    commas = [f for f in fields if "," in f]
    return bool(commas) and all(_DECIMAL_COMMA.match(f) for f in commas)


def _one_column_decimal_comma(path, sample: list[str], options) -> str | None:
    """A comma-split table of exactly two integer columns may be one column of decimal commas.

    "," when it clearly is (a one-name header, or a fraction with a leading zero as in ``3,05``),
    "counter" when the first column counts 1821, 1822 ... (an index and a value), else None; a
    DataError asking for the decimal mark when nothing tells the two readings apart."""
    rows = [s.split(",") for s in sample]
    body = [r for r in rows if len(r) == 2 and all(_INTEGER.match(f.strip()) for f in r)]
    if not body or len(body) < len(rows) - 1:
        return None
    if len(body) == len(rows) - 1:           # a first line that is not two integers: a header?
        return "," if len(rows[0]) == 1 and not is_number(rows[0][0]) else None
    if any(len(f := r[1].strip()) > 1 and f.startswith("0") for r in body):
        return ","
    if len(body) >= 10 and _is_counter([r[0] for r in body]):
        return "counter"
    if options.get("has_header") is not None:
        return None                           # the user described the file: two columns
    raise data_error(path, "every row is two integers separated by a comma, which is either one column "
                     f"with decimal commas ({sample[0]!r} = {sample[0].replace(',', '.')}) or two columns",
                     "say which: {fix} (',' for decimal commas, '.' for two columns)",
                     fixes=(Fix("decimal", ","), Fix("decimal", ".")))


def _choose_format(path, sample, sep, options):
    """(delimiter, decimal mark, notes) for the table."""
    delimiter = sep if sep is not None else _named_option(options.get("delimiter"), _DELIMITER_NAMES, path,
                                                          "delimiter", "',', ';', '|', 'tab' or 'whitespace'")
    decimal = _named_option(options.get("decimal"), _DECIMAL_NAMES, path, "decimal mark", "'.' or ','")
    if decimal == "," and delimiter == ",":
        raise data_error(path, "the decimal mark and the delimiter are both ','",
                         "choose another delimiter (';' or tab) for decimal commas")
    notes = []
    if sep is not None:
        notes.append(f"{display_name(path)}: delimiter {_shown(sep)} from the file's 'sep=' line")
    if delimiter == "auto":
        delimiter = _choose_delimiter(sample, None if decimal == "auto" else decimal)
    if decimal == "auto":
        decimal = "."
        if delimiter != "," and _looks_decimal_comma(sample, delimiter):
            decimal = ","
        elif delimiter == "," and options.get("delimiter") is None and sep is None:
            reading = _one_column_decimal_comma(path, sample, options)
            if reading == ",":
                decimal, delimiter = ",", _choose_delimiter(sample, ",")
            elif reading == "counter":
                notes.append(f"{display_name(path)}: every row is two integers; read as an index and a value, "
                             "not as one column with decimal commas (set decimal to ',' for that)")
        if decimal == ",":
            notes.append(f"{display_name(path)}: decimal commas read as decimal points (1,5 = 1.5)")
    return delimiter, decimal, notes


def _shown(delimiter) -> str:
    return {None: "whitespace", "\t": "tab"}.get(delimiter, repr(delimiter))


def _pandas_index_header(rows: list) -> bool:
    """pandas' ``to_csv`` header: an empty first name (the index), then names or 0..k-1."""
    first = rows[0]
    if len(rows) < 2 or len(first) < 2 or first[0] != "" or not all(r and r[0] != "" for r in rows[1:]):
        return False
    rest = first[1:]
    if all(_INTEGER.match(f) for f in rest):
        return [int(f) for f in rest] == list(range(len(rest)))
    return all(f and not is_number(f) for f in rest)


def _has_header(rows: list, n_columns: int, decimal: str, option) -> bool:
    if option is not None:
        return bool(option)
    if len(rows) < 2:
        return False
    if _pandas_index_header(rows):
        return True
    for j, f in enumerate(rows[0]):
        if f and not is_number(f, decimal):
            col = [r[j] for r in rows[1:] if j < len(r)]
            if col and sum(_number_or_empty(v, decimal) for v in col) > 0.5 * len(col):
                return True
    return all(f and not is_number(f, decimal) for f in rows[0]) and len(rows[0]) == n_columns and \
        any(all(_number_or_empty(r[j], decimal) for r in rows[1:] if j < len(r)) for j in range(n_columns))


def _column(data_rows: list, j: int) -> list:
    return [r[j] for r in data_rows if j < len(r)]


def _is_counter(values: list) -> bool:
    """Integers rising by the same step (0, 1, 2 ... or 1959, 1960 ...): an index, not a measurement."""
    ints = [_int_value(v) for v in values]
    if len(ints) < 3 or any(v is None for v in ints):
        return False
    step = ints[1] - ints[0]
    return step >= 1 and all(b - a == step for a, b in zip(ints, ints[1:]))


def _auto_index_columns(header, data_rows: list, used: list, layout_option) -> list:
    """Index columns found by name and content (never all of the used columns)."""
    found = []
    for j in used:
        col = _column(data_rows, j)
        name = header[j].lower() if header and j < len(header) else None
        integers = bool(col) and all(_int_value(v) is not None for v in col if v)
        time_like = bool(col) and all(_TIME_LIKE.match(v) for v in col if v) and not all(is_number(v) for v in col)
        counter = header is None and layout_option != "rows" and _is_counter(col)
        if j == used[0] and (name in INDEX_NAMES or time_like or counter):
            found.append(j)
        elif name in CALENDAR_NAMES and (integers or time_like):
            found.append(j)
    return found if len(found) < len(used) else found[:len(used) - 1]


def _chosen_index_columns(path, chosen, names: list, used: list) -> list:
    if isinstance(chosen, (str, int, np.integer)):
        chosen = [chosen]
    out = []
    for c in chosen:
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
            if not 0 <= c < len(names):
                raise data_error(path, f"index column {c} is out of range (there are {len(names)} columns)",
                                 "count columns from 0")
            out.append(int(c))
        elif str(c) in names:
            out.append(names.index(str(c)))
        else:
            raise data_error(path, f"no column named {c!r} to use as an index", f"choose one of {', '.join(names)}")
    if not [j for j in used if j not in out]:
        raise data_error(path, "every column is an index column, so nothing is left to learn from",
                         "{fix}", fixes=(Fix("index_columns", []),))
    return sorted(set(out))


def _index_columns(path, header, data_rows, used, names, options, force_ucr):
    """(index columns, notes)."""
    chosen = options.get("index_columns")
    if chosen is not None:
        return _chosen_index_columns(path, chosen, names, used), []
    if len(used) < 2 or force_ucr:
        return [], []
    found = _auto_index_columns(header, data_rows, used, options.get("layout"))
    if not found:
        return [], []
    listed = ", ".join(repr(header[j]) if header and header[j] else
                       ("the unnamed first column" if header else repr(names[j])) for j in found)
    return found, [f"{display_name(path)}: {listed} read as index column(s) (dates, calendar or a counter), "
                   "not as features or targets; set index_columns to change this"]


def _choose_layout(path, header, data_rows, used, index_columns, estimated, options, force_ucr, allow_ucr) -> str:
    layout = options.get("layout")
    if layout not in (None, "columns", "rows"):
        raise data_error(path, f"unknown layout {layout!r}", "use 'columns' or 'rows' (one row per sequence)")
    if force_ucr:
        return "ucr"
    col0 = _column(data_rows, 0)
    if layout is None and allow_ucr and not index_columns and header is None and len(used) >= 3:
        # UCR archive: no header, a class label first (integers, or names), numbers after it.
        col0_numeric = all(_number_or_empty(v) for v in col0)
        col0_time = not col0_numeric and all(_TIME_LIKE.match(v) for v in col0 if v)
        col0_integers = all(_int_value(v) is not None for v in col0)
        rest_numeric = all(_number_or_empty(v) for r in data_rows for v in r[1:])
        ucr_named = bool(_UCR_NAME.search(os.path.basename(str(path))))
        few_labels = len(set(col0)) <= max(1, len(col0) // 2)
        label_like = rest_numeric and (ucr_named or col0_integers or (not col0_numeric and not col0_time))
        if label_like and (ucr_named or not col0_numeric or (len(used) >= 10 and few_labels)):
            return "ucr"
    if layout is None:
        # More values per row than rows (and many of them): one sequence per row.
        n_values = len(used) - len(index_columns)
        layout = "rows" if n_values >= 20 and estimated < n_values else "columns"
    return layout


def sniff_table(path, head: bytes, complete: bool, size: int, options, *, force_ucr=False,
                allow_ucr=True) -> TableSniff:
    content, encoding, sep = _head_content(path, head, complete)
    sample = [s for _, s in content[:_SAMPLE_LINES]]
    delimiter, decimal, notes = _choose_format(path, sample, sep, options)
    rows = [split_fields(s, delimiter) for s in sample]
    n_columns = max(set(len(r) for r in rows), key=[len(r) for r in rows].count)
    has_header = _has_header(rows, n_columns, decimal, options.get("has_header"))
    header = None
    if has_header:
        header = [h.strip().strip('"').strip("'").lstrip("\ufeff") for h in rows[0]]
        if len(header) != n_columns and len(rows) > 1:
            n_columns = len(rows[1])
        if len(content) < 2 and complete:
            raise data_error(path, "has a header but no data rows", "add data below the header line")
    data_rows = rows[1:] if has_header else rows
    first_line = content[1][0] if has_header and len(content) > 1 else content[0][0]
    skip_lines = content[0][0] if has_header else content[0][0] - 1

    # A trailing delimiter on every line makes an empty last column: ignore it.
    used = list(range(n_columns))
    if n_columns > 1 and data_rows and all(len(r) == n_columns and r[-1] == "" for r in data_rows) and \
            (header is None or not header[-1]):
        used = used[:-1]
    names = column_names(header, n_columns)
    index_columns, index_notes = _index_columns(path, header, data_rows, used, names, options, force_ucr)
    if complete:
        estimated = len(content) - (1 if has_header else 0)
    else:
        estimated = int(size / max(1.0, sum(len(s) + 1 for s in sample) / len(sample)))
    layout = _choose_layout(path, header, data_rows, used, index_columns, estimated, options, force_ucr,
                            allow_ucr)
    return TableSniff(delimiter=delimiter, skip_lines=skip_lines, header=header, n_columns=n_columns,
                      used_columns=[j for j in used if j not in index_columns], index_columns=index_columns,
                      layout=layout, first_data_line=first_line, estimated_rows=estimated, encoding=encoding,
                      decimal=decimal, complete=complete, longest_line=max(len(s) for s in sample),
                      notes=notes + index_notes)
