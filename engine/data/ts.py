"""sktime/UEA ``.ts`` files, read line by line from the opened file.

``@problemName``, ``@univariate``, ``@classLabel true a b``, ... then ``@data``; one case per
line: dimensions separated by ':', values by ',', '?' is missing, the class label last. Lines
starting with '#' or '%' are comments (aeon's sample files use '%'). Only '\\n' (or '\\r\\n')
ends a line, so a form feed inside a comment neither breaks the file nor shifts line numbers.

Memory stays a small multiple of the longest line: a case line is counted while it is read,
and one with more values than max_length allows is refused before it is held whole.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np

from .errors import data_error
from .files import DataFile, bom_length, decode_text, line_pieces
from .formats import Loaded, clean_nonfinite, nonfinite_note, to_float32_checked, too_long, trim_trailing_nan

__all__ = ["read_ts", "preview_head"]

_TS_HINT = "see the sktime .ts format: header tags, then @data with one case per line"
_COMMENTS = (b"#", b"%")
_MISSING = {b"?", b"", b"nan", b"NaN"}
_SNIFF_BYTES = 1 << 16
_PREVIEW_CASES = 10
_PREVIEW_CHARS = 120
_LONGEST_NUMBER = 400         # characters; a longer field is not a number


@dataclass
class _Header:
    """What the header lines decided."""
    tags: dict = field(default_factory=dict)
    has_labels: bool = False
    class_labels: list = field(default_factory=list)
    n_dims: int | None = None
    shown: list = field(default_factory=list)       # the tag lines, for the preview


def _ts_bool(value: str, tag: str, path, line: int) -> bool:
    v = value.strip().lower()
    if v in ("true", "false"):
        return v == "true"
    raise data_error(path, f"@{tag} must be true or false, got {value!r}", _TS_HINT, line=line)


def _class_label_tag(header: _Header, value: str, path, n: int) -> None:
    words = value.split()
    if not words:
        raise data_error(path, "@classLabel needs true or false", _TS_HINT, line=n)
    header.has_labels = _ts_bool(words[0], "classLabel", path, n)
    if header.has_labels:
        header.class_labels = words[1:]
        if not header.class_labels:
            raise data_error(path, "@classLabel true lists no class labels",
                             "list them after true, e.g. @classLabel true 1 2 3", line=n)


def _header_tag(header: _Header, tag: str, value: str, path, n: int) -> None:
    """Record one ``@tag value`` line (refusing the kinds of .ts files we cannot train on)."""
    if tag == "classlabel":
        _class_label_tag(header, value, path, n)
    elif tag == "targetlabel" and value.strip().lower().startswith("true"):
        raise data_error(path, "regression .ts files (@targetLabel true) are not supported",
                         "use a classification file (@classLabel) or a CSV for forecasting", line=n)
    elif tag == "timestamps" and _ts_bool(value, tag, path, n):
        raise data_error(path, "time-stamped .ts data (@timeStamps true) is not supported",
                         "export the file without time stamps", line=n)
    elif tag in ("univariate", "equallength", "missing"):
        header.tags[tag] = _ts_bool(value, tag, path, n)
    elif tag in ("dimensions", "serieslength"):
        try:
            header.tags[tag] = int(value)
        except ValueError:
            raise data_error(path, f"@{tag} must be an integer, got {value!r}", _TS_HINT, line=n) from None
    else:
        header.tags[tag] = value.strip()


class _Lines:
    """The file's lines from one stream: header lines as text, case lines as bytes (the
    numbers are ASCII in every encoding we read line by line)."""

    def __init__(self, stream, encoding: str, path):
        self._pieces = line_pieces(stream)
        self.encoding, self.path = encoding, path

    def _whole(self, piece: bytes, last: bool, counter=None) -> bytes:
        parts = [piece]
        while not last:
            n, piece, last = next(self._pieces, (0, b"", True))
            if counter is not None:
                counter.feed(piece, last)     # raises at the line's end if it has too many values
                if counter.over:
                    parts.clear()             # refused anyway: count the rest, hold none of it
                    continue
            parts.append(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def header(self):
        """(line number, stripped text) up to and including the @data line."""
        for n, piece, last in self._pieces:
            raw = self._whole(piece, last)
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError:
                raise data_error(self.path, f"is not valid {self.encoding} text", "re-save the file as UTF-8 text",
                                 line=n) from None
            yield n, text.strip()

    def cases(self, max_steps: int):
        """(line number, the case's ':'-separated parts as bytes) of every non-comment line."""
        for n, piece, last in self._pieces:
            counter = None
            if not last:            # a long line: count its values as it comes, refuse it early
                counter = _StepCounter(self.path, n, max_steps)
                counter.feed(piece, last)
            line = self._whole(piece, last, counter).strip()
            if not line or line.startswith(_COMMENTS):
                continue
            parts = line.split(b":")
            del line                # only the parts are held from here on
            yield n, parts


class _StepCounter:
    """Counts the values per ':'-separated dimension of one line while it is read."""

    def __init__(self, path, line: int, max_steps: int):
        self.path, self.line, self.max_steps = path, line, max_steps
        self.current = self.longest = 0
        self.over = False

    def feed(self, piece: bytes, last: bool) -> None:
        segments = piece.split(b":")
        for seg in segments[:-1]:
            self.longest = max(self.longest, self.current + seg.count(b",") + 1)
            self.current = 0
        self.current += segments[-1].count(b",")
        steps = max(self.longest, self.current + 1)
        if steps > self.max_steps:
            self.over = True
        if self.over and last:
            raise data_error(self.path, f"case has {steps:,} values in one dimension, over the limit of "
                             f"{self.max_steps:,} steps", "pass a larger max_length or shorten the sequence",
                             line=self.line)


def _read_header(lines: _Lines, path) -> _Header:
    header = _Header()
    for n, s in lines.header():
        if not s or s.startswith(("#", "%")):
            continue
        if not s.startswith("@"):
            raise data_error(path, f"expected a header tag (@...) before @data, found {s[:40]!r}", _TS_HINT, line=n)
        header.shown.append(s[:_PREVIEW_CHARS])
        parts = s[1:].split(None, 1)
        tag = parts[0].lower() if parts else ""
        if tag == "data":
            header.n_dims = 1 if header.tags.get("univariate") is True else header.tags.get("dimensions")
            return header
        _header_tag(header, tag, parts[1] if len(parts) > 1 else "", path, n)
    raise data_error(path, "no @data line found", "a .ts file needs header tags followed by @data")


def _values(part: bytes, path, n: int, d: int) -> np.ndarray:
    """One dimension's ','-separated values as float64 ('?' and empty are NaN)."""
    if b"?" in part:
        part = part.replace(b"?", b"nan")
    try:
        values = np.fromstring(part, dtype=np.float64, sep=",")
        if len(values) == part.count(b",") + 1:
            return values
    except ValueError:
        pass
    return _values_carefully(part, path, n, d)


def _not_a_number(field: bytes, path, n: int, d: int):
    return data_error(path, f"{field[:30].decode('latin-1')!r} is not a number (dimension {d + 1})",
                      "use numbers, or '?' for a missing value", line=n)


def _values_carefully(part: bytes, path, n: int, d: int) -> np.ndarray:
    """The slow path: field by field, to say which value is wrong (a field far longer than any
    number is refused without being copied)."""
    out = np.empty(part.count(b",") + 1, dtype=np.float64)
    start = 0
    for i in range(len(out)):
        end = part.find(b",", start)
        end = len(part) if end < 0 else end
        if end - start > _LONGEST_NUMBER:
            raise _not_a_number(part[start:start + 30].strip(), path, n, d)
        f = part[start:end].strip()
        start = end + 1
        if f in _MISSING:
            out[i] = np.nan
            continue
        try:
            out[i] = float(f)
        except ValueError:
            raise _not_a_number(f, path, n, d) from None
    return out


def _case_label(parts: list, header: _Header, lines: _Lines, n: int) -> str:
    path = lines.path
    if len(parts) < 2:
        raise data_error(path, "no class label after the values", "end each case with ':<label>'", line=n)
    raw = parts.pop().strip()
    try:
        label = raw.decode(lines.encoding)
    except UnicodeDecodeError:
        label = raw.decode("latin-1")
    if label not in header.class_labels:
        raise data_error(path, f"class label {label!r} is not declared in @classLabel "
                         f"({' '.join(header.class_labels)})", "add it to @classLabel or fix the case", line=n)
    return label


def _case(parts: list, n: int, header: _Header, lines: _Lines, policy: str, counts: dict) -> np.ndarray:
    """One case line's float32 (T, F) sequence. ``parts`` is consumed as it is parsed."""
    path = lines.path
    if header.n_dims is None:
        header.n_dims = len(parts)
    if len(parts) != header.n_dims:
        raise data_error(path, f"{len(parts)} dimension(s) but {header.n_dims} expected",
                         "every case needs the same number of ':'-separated dimensions", line=n)
    multi = header.n_dims > 1

    def locate(t: int, j: int):
        return n, f"at step {t + 1}" + (f" of dimension {j + 1}" if multi else "")

    dims = []
    for d in range(header.n_dims):
        values = _values(parts.pop(0), path, n, d)
        dims.append(to_float32_checked(values, path, lambda t, _j, _d=d: locate(t, _d), policy))
        if len(dims[-1]) != len(dims[0]):
            raise data_error(path, f"dimensions have different lengths {sorted({len(dims[0]), len(dims[-1])})}",
                             "every dimension of a case needs the same number of values", line=n)
    seq = trim_trailing_nan(np.stack(dims, axis=1))
    del dims
    if len(seq) == 0:
        raise data_error(path, "case has no values", "remove the line or fill in values", line=n)
    return clean_nonfinite(seq, policy, path, locate, counts)


def _stream(source: DataFile):
    """(binary stream, encoding) for line-by-line reading: the file itself for UTF-8 and the
    one-byte encodings; UTF-16/32 and old Mac (CR-only) files are re-encoded in memory."""
    head = source.head(_SNIFF_BYTES)
    _, encoding = decode_text(head, source.path, partial=source.size > len(head))
    one_byte = encoding in ("utf-8", "cp1252", "latin-1")
    if one_byte and not (b"\r" in head and b"\n" not in head):
        return source.stream(bom_length(head)), encoding
    text, encoding = decode_text(source.read_all(), source.path)
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return io.BytesIO(data), "utf-8" if one_byte else encoding


def _shown_case(parts: list) -> str:
    text = b":".join(p[:_PREVIEW_CHARS] for p in parts)[:_PREVIEW_CHARS].decode("latin-1")
    return text + (" ..." if sum(len(p) + 1 for p in parts) - 1 > _PREVIEW_CHARS else "")


def read_ts(source: DataFile, options) -> Loaded:
    path = source.path
    stream, encoding = _stream(source)
    lines = _Lines(stream, encoding if encoding in ("utf-8", "cp1252", "latin-1") else "utf-8", path)
    header = _read_header(lines, path)
    counts: dict = {}
    sequences, labels, shown = [], [], []
    for n, parts in lines.cases(options["max_length"]):
        if len(shown) < _PREVIEW_CASES:
            shown.append(_shown_case(parts))
        if any(b"(" in p for p in parts):
            raise data_error(path, "time-stamped values '(t,v)' are not supported", "export without time stamps",
                             line=n)
        if header.has_labels:
            labels.append(_case_label(parts, header, lines, n))
        seq = _case(parts, n, header, lines, options["nonfinite"], counts)
        if len(seq) > options["max_length"]:
            raise too_long(path, len(seq), options["max_length"], line=n)
        sequences.append(seq)
    if not sequences:
        raise data_error(path, "no cases after @data", "add one case per line after @data")
    d = sequences[0].shape[1]
    loaded = Loaded(path=path, format="ts", layout="ts", sequences=sequences,
                    labels=labels if header.has_labels else None,
                    class_order=header.class_labels if header.has_labels else None,
                    feature_names=["value"] if d == 1 else [f"dim{j + 1}" for j in range(d)],
                    info={"encoding": encoding, "problem": header.tags.get("problemname", ""),
                          "preview": header.shown + shown})
    note = nonfinite_note(path, counts)
    if note:
        loaded.notes.append(note)
    return loaded


def preview_head(loaded: Loaded, rows: int) -> str:
    """The header tags and the first ``rows`` cases (each cut to a readable width)."""
    shown = loaded.info.get("preview", [])
    n_tags = next((i + 1 for i, s in enumerate(shown) if s.lower().startswith("@data")), 0)
    return "\n".join(shown[:n_tags] + shown[n_tags:n_tags + rows])
