"""load_sequences and preview: detect each file's format, read it, combine several files."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from engine.names import FORMATS

from .dataset import SequenceDataset, check_task
from .errors import DataError, data_error, display_name
from .files import decode_text, open_data_file, read_bytes
from .formats import NONFINITE_POLICIES, Loaded
from .npy import read_npy, read_npz
from .text import DEFAULT_MAX_VOCAB, read_text
from .text import vocabulary as text_vocabulary
from .ts import preview_head as ts_preview_head
from .ts import read_ts
from .tables import HEAD_BYTES, looks_like_numeric_table, read_table

__all__ = ["load_sequences", "preview", "Preview", "FORMATS", "detect_format"]

_FORMAT_ALIASES = {"tsv": "csv", "table": "csv", "txt": "text"}
_TABLE_EXTENSIONS = {".csv", ".tsv", ".tab", ".dat", ".data", ".psv", ".ssv"}

_DEFAULTS = dict(format=None, task=None, target_column=None, delimiter=None, has_header=None, layout=None,
                 nonfinite="reject", skip_non_numeric=False, multi_file="sequences", label_from_folder=False,
                 max_vocab=DEFAULT_MAX_VOCAB, size_limit=1 << 30, max_length=1_000_000)


def _options(given: dict) -> dict:
    unknown = sorted(set(given) - set(_DEFAULTS))
    if unknown:
        raise DataError(f"unknown loading option(s) {', '.join(unknown)}; known: {', '.join(_DEFAULTS)}")
    opts = dict(_DEFAULTS)
    opts.update({k: v for k, v in given.items()})
    fmt = opts["format"]
    if fmt is not None:
        fmt = str(fmt).lower().lstrip(".")
        fmt = _FORMAT_ALIASES.get(fmt, fmt)
        if fmt == "auto":
            fmt = None
        elif fmt not in FORMATS:
            raise DataError(f"unknown format {opts['format']!r}; choose one of {', '.join(FORMATS)} or leave it empty")
    opts["format"] = fmt
    if opts["task"] is not None:
        check_task(opts["task"])
    if opts["nonfinite"] not in NONFINITE_POLICIES:
        raise DataError(f"unknown non-finite handling {opts['nonfinite']!r}; choose one of "
                        f"{', '.join(NONFINITE_POLICIES)}")
    if opts["multi_file"] not in ("sequences", "append"):
        raise DataError(f"unknown multi_file {opts['multi_file']!r}; choose 'sequences' (each file a sequence) "
                        "or 'append' (rows appended)")
    for key in ("size_limit", "max_length", "max_vocab"):
        v = opts[key]
        if v is None and key != "max_length":
            continue
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < (2 if key == "max_vocab" else 1):
            raise DataError(f"{key} must be a positive integer{' of at least 2' if key == 'max_vocab' else ''}, "
                            f"got {v!r}")
    if opts["has_header"] is not None:
        opts["has_header"] = bool(opts["has_header"])
    return opts


def _paths(path_or_paths) -> list:
    if isinstance(path_or_paths, (str, bytes, os.PathLike)):
        paths = [path_or_paths]
    else:
        try:
            paths = list(path_or_paths)
        except TypeError:
            raise DataError(f"{path_or_paths!r} is not a file path; pass a path or a list of paths") from None
    if not paths:
        raise DataError("no files given; choose at least one file")
    out = []
    for p in paths:
        if isinstance(p, bytes):
            p = os.fsdecode(p)
        try:
            out.append(os.fspath(p))
        except TypeError:
            raise DataError(f"{p!r} is not a file path; pass a str or pathlib.Path") from None
    return out


def detect_format(path, head: bytes, complete: bool) -> str:
    """Format from content first (NumPy magic, zip, @-tags), then extension, then a numeric sniff."""
    ext = os.path.splitext(path)[1].lower()
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "npz"
    if ext == ".npy":
        raise data_error(path, "does not start with the NumPy .npy header (truncated or not a NumPy file)",
                         "save the array with numpy.save")
    if ext == ".npz":
        raise data_error(path, "is not a zip archive (truncated or not a .npz file)",
                         "save the arrays with numpy.savez")
    text, _ = decode_text(head, path, partial=not complete)
    first = next((s.strip() for s in text.splitlines() if s.strip() and not s.strip().startswith("#")), "")
    if ext == ".ts" or (first.startswith("@") and "@data" in text.lower()):
        return "ts"
    if ext in _TABLE_EXTENSIONS:
        return "csv"
    return "csv" if looks_like_numeric_table(text) else "text"


def _read_one(path, opts) -> Loaded:
    # Opened and checked once; the readers read from this descriptor, never the path again.
    with open_data_file(path, opts["size_limit"]) as source:
        head = source.head(HEAD_BYTES)
        complete = len(head) >= source.size
        fmt = opts["format"] or detect_format(source.path, head, complete)
        if fmt == "npy":
            return read_npy(source, opts)
        if fmt == "npz":
            return read_npz(source, opts)
        if fmt == "ts":
            return read_ts(source, opts)
        if fmt == "text":
            return read_text(source, opts, head if complete else None)
        return read_table(source.path, opts, head, complete, source.size, force_ucr=(fmt == "ucr"),
                          allow_ucr=(opts["format"] != "csv"))


def _read_guarded(path, opts) -> Loaded:
    try:
        return _read_one(path, opts)
    except DataError:
        raise
    except MemoryError:
        raise data_error(path, "is too large to load into memory",
                         "use a smaller file or lower size_limit") from None
    except RecursionError:
        raise data_error(path, "could not be parsed (nested too deeply)", "check the file format") from None
    except Exception as exc:  # an unexpected parser failure is still a problem with this file
        raise data_error(path, f"could not be read ({type(exc).__name__}: {exc})",
                         "check the file format, or choose the format explicitly") from None


def _class_mapping(labels: list, orders: list):
    if orders:
        names = []
        for order in orders:
            for c in order:
                if c not in names:
                    names.append(c)
        for v in labels:
            if str(v) not in names:
                names.append(str(v))
        index = {c: i for i, c in enumerate(names)}
        return names, np.array([index[str(v)] for v in labels], dtype=np.int64)
    if all(isinstance(v, (int, np.integer)) for v in labels):
        values = sorted(set(int(v) for v in labels))
        index = {v: i for i, v in enumerate(values)}
        return [str(v) for v in values], np.array([index[int(v)] for v in labels], dtype=np.int64)
    strings = [str(v) for v in labels]
    names = sorted(set(strings))
    index = {c: i for i, c in enumerate(names)}
    return names, np.array([index[s] for s in strings], dtype=np.int64)


def _combine(loaded: list, opts) -> SequenceDataset:
    first = loaded[0]
    label = display_name(first.path) if len(loaded) == 1 else f"{display_name(first.path)} (+{len(loaded) - 1} files)"
    stem = os.path.splitext(display_name(first.path))[0]
    paths = [l.path for l in loaded]
    notes = [n for l in loaded for n in l.notes]
    kinds = {l.text is not None for l in loaded}
    if len(kinds) > 1:
        other = next(l for l in loaded if (l.text is not None) != (first.text is not None))
        raise data_error(other.path, "is text but other files are numeric (or the reverse)",
                         "load text files and numeric files separately")
    formats = sorted({l.format for l in loaded})
    fmt = formats[0] if len(formats) == 1 else "+".join(formats)

    if first.text is not None:
        if opts["label_from_folder"]:
            raise data_error(first.path, "text files cannot be labelled by folder (text trains a next-character "
                             "model)", "turn off 'label from folder' or load numeric files")
        task = opts["task"] or "next_token"
        if task != "next_token":
            raise data_error(first.path, f"text supports only the task 'next_token', not {task!r}",
                             "choose next_token, or load a numeric file")
        texts = [l.text for l in loaded]
        if opts["multi_file"] == "append" and len(texts) > 1:
            texts = ["".join(t if t.endswith("\n") else t + "\n" for t in texts)]
        ids, vocabulary, note = text_vocabulary(texts, opts["max_vocab"], first.path)
        if note:
            notes.append(note)
        ds = SequenceDataset(sequences=ids, task=task, vocabulary=vocabulary, source_paths=paths, name=label,
                             notes=notes, format=fmt)
        ds.name = stem
        return ds

    width = first.sequences[0].shape[1]
    for l in loaded[1:]:
        w = l.sequences[0].shape[1]
        if w != width:
            raise data_error(l.path, f"has {w} feature column(s) but {display_name(first.path)} has {width}",
                             "every file needs the same columns")
        if l.feature_names != first.feature_names and not l.feature_names[0].startswith(("column ", "x1", "value")):
            raise data_error(l.path, f"has columns {l.feature_names} but {display_name(first.path)} has "
                             f"{first.feature_names}", "every file needs the same columns")

    labels = None
    orders = []
    if opts["label_from_folder"]:
        labels = []
        for l in loaded:
            folder = os.path.basename(os.path.dirname(os.path.abspath(l.path)))
            labels.extend([folder] * len(l.sequences))
    else:
        labelled = [l.labels is not None for l in loaded]
        if any(labelled) and not all(labelled):
            odd = loaded[labelled.index(not labelled[0])]
            raise data_error(odd.path, "is labelled but other files are not (or the reverse)",
                             "load labelled and unlabelled files separately, or label by folder")
        if all(labelled):
            labels = [v for l in loaded for v in l.labels]
            orders = [l.class_order for l in loaded if l.class_order]

    sequences = [s for l in loaded for s in l.sequences]
    if opts["multi_file"] == "append" and len(loaded) > 1 and labels is None and \
            all(len(l.sequences) == 1 and l.layout in ("columns", "array") for l in loaded):
        sequences = [np.concatenate(sequences, axis=0)]
        if len(sequences[0]) > opts["max_length"]:
            raise data_error(first.path, f"the appended series has {len(sequences[0]):,} steps, over the limit "
                             f"of {opts['max_length']:,}", "pass a larger max_length or load fewer files")

    class_names, label_ids = [], None
    if labels is not None:
        class_names, label_ids = _class_mapping(labels, orders)
    task = opts["task"] or ("classify_sequence" if labels is not None else "forecast")
    if task == "next_token":
        raise data_error(first.path, "next_token needs text, but this file is numeric",
                         "choose 'forecast', or load a text file")
    if task == "classify_sequence" and labels is None:
        raise data_error(first.path, "has no class labels, so it cannot be used to classify sequences",
                         "use a UCR / .ts / .npz-with-y file, label files by folder, or choose 'forecast'")
    feature_names = list(first.feature_names)
    target_names = list(feature_names)
    tc = opts["target_column"]
    if tc is not None:
        if isinstance(tc, (int, np.integer)) and not isinstance(tc, bool):
            if not -len(feature_names) <= tc < len(feature_names):
                raise data_error(first.path, f"target column {tc} is out of range (there are {len(feature_names)} "
                                 "feature columns)", f"choose one of {', '.join(feature_names)}")
            target_names = [feature_names[tc]]
        elif str(tc) in feature_names:
            target_names = [str(tc)]
        else:
            raise data_error(first.path, f"no column named {tc!r}", f"choose one of {', '.join(feature_names)}")
    if task == "classify_sequence" and len(class_names) < 2:
        only = class_names[0] if class_names else "?"
        raise data_error(first.path, f"only one class ({only!r})",
                         "classification needs at least two classes: add sequences of another class "
                         "or choose task 'forecast'")
    min_len = 1 if task == "classify_sequence" else 2
    if sum(len(s) for s in sequences) == 1 and width == 1:
        raise data_error(first.path, "contains a single value", "a sequence needs at least 2 steps")
    for l in loaded:
        for i, s in enumerate(l.sequences):
            if len(s) < min_len and not (opts["multi_file"] == "append" and len(sequences) == 1):
                raise data_error(l.path, f"sequence {i + 1} has only {len(s)} step(s)",
                                 f"{task} needs at least {min_len} steps per sequence; remove short sequences"
                                 + (" or append the files" if len(loaded) > 1 else ""),
                                 record=f"sequence {i + 1}")
    ds = SequenceDataset(sequences=sequences, task=task, labels=label_ids, feature_names=feature_names,
                         target_names=target_names, class_names=class_names, source_paths=paths, name=label,
                         notes=notes, format=fmt,
                         source_labels=label_ids)
    ds.name = stem
    return ds


def _load(path_or_paths, options: dict):
    """Read every file and combine them: (paths, per-file Loaded, SequenceDataset)."""
    opts = _options(options)
    paths = _paths(path_or_paths)
    loaded = [_read_guarded(p, opts) for p in paths]
    try:
        return paths, loaded, _combine(loaded, opts)
    except DataError:
        raise
    except MemoryError:
        raise data_error(paths[0], "is too large to load into memory", "use a smaller file") from None
    except Exception as exc:
        raise data_error(paths[0], f"could not be loaded ({type(exc).__name__}: {exc})",
                         "check the file format, or choose the format explicitly") from None


def load_sequences(path_or_paths, **options) -> SequenceDataset:
    """Load one file or several into a SequenceDataset; raises DataError for anything it cannot load.

    Options (keyword): format ("csv", "ucr", "ts", "text", "npy", "npz"; None = detect), task (override),
    target_column (name or index of the forecast target), delimiter, has_header, layout ("columns" |
    "rows": one row per sequence), nonfinite ("reject" | "drop" | "interpolate"), skip_non_numeric,
    multi_file ("sequences": each file its sequences | "append": rows appended), label_from_folder,
    max_vocab (rare characters -> "<unk>"), size_limit (bytes, checked before reading; default 1 GB),
    max_length (steps per numeric sequence; text is always windowed, so only size_limit applies).
    Files are only read, never modified.
    """
    return _load(path_or_paths, options)[2]


@dataclass
class Preview:
    """What the import dialog shows before the user commits to a file."""
    head: str                      # the first rows as text (a description for .npy/.npz)
    format: str                    # detected (or forced) format
    task: str
    layout: str
    n_files: int
    n_sequences: int
    min_length: int
    median_length: float
    max_length: int
    n_features: int
    feature_names: list
    target_names: list
    class_names: list
    vocabulary_size: int
    delimiter: str | None = None
    has_header: bool | None = None
    index_column: str | None = None
    encoding: str | None = None
    notes: list = field(default_factory=list)
    dataset: SequenceDataset | None = None   # the loaded data, so the dialog need not load twice

    def describe(self) -> str:
        """A few lines for a status label."""
        length = (f"length {self.min_length}" if self.min_length == self.max_length
                  else f"lengths {self.min_length}–{self.max_length} (median {self.median_length:g})")
        what = (f"{self.vocabulary_size} characters" if self.format == "text"
                else f"{self.n_features} feature(s)")
        parts = [f"{self.format} ({self.layout})", self.task, f"{self.n_sequences} sequence(s)", length, what]
        if self.class_names:
            parts.append(f"{len(self.class_names)} classes")
        return " · ".join(parts)


def _head_text(path, rows: int, loaded: Loaded) -> str:
    if loaded.format in ("npy", "npz"):
        lines = [f"{display_name(path)}: NumPy {loaded.format}, array shape {loaded.info.get('shape')} "
                 f"{loaded.info.get('dtype')}"]
        if loaded.format == "npz":
            lines.append("arrays: " + ", ".join(loaded.info.get("arrays", {})))
        for i, s in enumerate(loaded.sequences[:rows]):
            shown = np.array2string(s[:8, 0], precision=4, separator=", ")
            label = f" label {loaded.labels[i]!r}" if loaded.labels is not None else ""
            lines.append(f"[{i}]{label} length {len(s)}: {shown}{' ...' if len(s) > 8 else ''}")
        return "\n".join(lines)
    if loaded.format == "ts":
        return ts_preview_head(loaded, rows)
    text, _ = decode_text(read_bytes(path, HEAD_BYTES), path, partial=True)
    return "\n".join(text.splitlines()[:rows])


def preview(path_or_paths, rows: int = 10, **options) -> Preview:
    """Load and describe: the first ``rows`` lines of the (first) file, detected format and task,
    counts and lengths. Raises DataError like load_sequences."""
    paths, loaded, ds = _load(path_or_paths, options)
    try:
        head = _head_text(paths[0], max(1, int(rows)), loaded[0])
    except DataError:
        raise
    except Exception as exc:
        raise data_error(paths[0], f"could not be previewed ({type(exc).__name__}: {exc})",
                         "check the file format, or choose the format explicitly") from None
    lengths = ds.lengths
    info = loaded[0].info
    return Preview(head=head, format=ds.format, task=ds.task, layout=loaded[0].layout, n_files=len(paths),
                   n_sequences=ds.n_sequences, min_length=int(lengths.min()),
                   median_length=float(np.median(lengths)), max_length=int(lengths.max()),
                   n_features=ds.n_features, feature_names=list(ds.feature_names),
                   target_names=list(ds.target_names), class_names=list(ds.class_names),
                   vocabulary_size=len(ds.vocabulary), delimiter=info.get("delimiter"),
                   has_header=info.get("has_header"), index_column=info.get("index_column"),
                   encoding=info.get("encoding"), notes=list(ds.notes), dataset=ds)
