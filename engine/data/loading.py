"""load_sequences and preview: detect each file's format, read it, combine several files."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from engine.names import FORMATS

from .dataset import SequenceDataset, check_task
from .errors import DataError, data_error, display_name, format_size
from .files import bom_length, decode_text, open_data_file, read_bytes
from .formats import NONFINITE_POLICIES, Loaded
from .npy import read_npy, read_npz
from .framing import frame_dataset
from .options import DEFAULTS, Fix
from .text import TextCodes, read_text
from .text import vocabulary as text_vocabulary
from .ts import preview_head as ts_preview_head
from .ts import read_ts
from .tables import HEAD_BYTES, looks_like_numeric_table, read_table

__all__ = ["load_sequences", "preview", "Preview", "FORMATS", "MULTI_FILE", "detect_format", "dataset_stem"]

_FORMAT_ALIASES = {"tsv": "csv", "table": "csv", "txt": "text"}
_TABLE_EXTENSIONS = {".csv", ".tsv", ".tab", ".dat", ".data", ".psv", ".ssv"}
_SPLIT_SUFFIX = re.compile(r"_(TRAIN|TEST|VALID|VALIDATION)$", re.IGNORECASE)
MULTI_FILE = ("sequences", "append", "merge")


def _options(given: dict) -> dict:
    unknown = sorted(set(given) - set(DEFAULTS))
    if unknown:
        raise DataError(f"unknown loading option(s) {', '.join(unknown)}; known: {', '.join(DEFAULTS)}")
    opts = dict(DEFAULTS)
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
    if opts["multi_file"] not in MULTI_FILE:
        raise DataError(f"unknown multi_file {opts['multi_file']!r}; choose 'sequences' (each file its sequences), "
                        "'append' (rows appended) or 'merge' (files of different datasets as one)")
    if opts["frame"] is None:
        opts["frame"] = 1
    for key in ("size_limit", "max_length", "max_vocab", "frame"):
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


def _read_one(path, opts, head_only: bool = False) -> Loaded:
    # Opened and checked once; the readers read from this descriptor, never the path again.
    with open_data_file(path, opts["size_limit"]) as source:
        head = source.head(HEAD_BYTES)
        complete = len(head) >= source.size
        fmt = opts["format"] or detect_format(source.path, head, complete)
        if fmt in ("npy", "npz"):  # a preview reads X's first items only (npy.PREVIEW_BYTES)
            return (read_npy if fmt == "npy" else read_npz)(source, {**opts, "head_only": head_only})
        if fmt == "ts":
            return read_ts(source, opts)
        if fmt == "text":
            if head_only and not complete and not bom_length(head):
                return _text_head(source, opts, head)
            return read_text(source, opts, head if complete else None)
        return read_table(source.path, opts, head, complete, source.size, force_ucr=(fmt == "ucr"),
                          allow_ucr=(opts["format"] != "csv"), open_binary=source.stream, head_only=head_only)


def _text_head(source, opts, head: bytes) -> Loaded:
    """A large text file's head (cut after its last line break), for a preview."""
    cut = head.rfind(b"\n")
    loaded = read_text(source, opts, head[:cut + 1] if cut > 0 else head)
    loaded.info.update(estimated=True, estimated_rows=source.size)    # ~ one character per byte
    return loaded


def _read_guarded(path, opts, head_only: bool = False) -> Loaded:
    try:
        return _read_one(path, opts, head_only)
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


def _display_label(loaded: list) -> str:
    first = display_name(loaded[0].path)
    return first if len(loaded) == 1 else f"{first} (+{len(loaded) - 1} files)"


def _check_same_kind(loaded: list) -> None:
    first = loaded[0]
    other = next((l for l in loaded if (l.text is not None) != (first.text is not None)), None)
    if other is not None:
        raise data_error(other.path, "is text but other files are numeric (or the reverse)",
                         "load text files and numeric files separately")


def _combine_text(loaded: list, opts, fmt: str) -> SequenceDataset:
    first = loaded[0]
    if opts["label_from_folder"]:
        raise data_error(first.path, "text files cannot be labelled by folder (text trains a next-character "
                         "model)", "turn off 'label from folder' or load numeric files")
    texts = [l.text for l in loaded]
    if opts["multi_file"] == "append" and len(texts) > 1:
        texts = [TextCodes.joined(texts)]
    ids, vocabulary, note = text_vocabulary(texts, opts["max_vocab"], first.path)
    notes = [n for l in loaded for n in l.notes] + ([note] if note else [])
    return SequenceDataset(sequences=ids, task=opts["task"] or "next_token", vocabulary=vocabulary,
                           source_paths=[l.path for l in loaded], name=_display_label(loaded), notes=notes,
                           format=fmt)


def _check_same_columns(loaded: list) -> None:
    first = loaded[0]
    width = first.sequences[0].shape[1]
    for l in loaded[1:]:
        w = l.sequences[0].shape[1]
        if w != width:
            raise data_error(l.path, f"has {w} feature column(s) but {display_name(first.path)} has {width}",
                             "every file needs the same columns")
        if l.feature_names != first.feature_names and not l.feature_names[0].startswith(("column ", "x1", "value")):
            raise data_error(l.path, f"has columns {l.feature_names} but {display_name(first.path)} has "
                             f"{first.feature_names}", "every file needs the same columns")


def _labels(loaded: list, opts):
    """(raw label per sequence or None, declared class orders)."""
    if opts["label_from_folder"]:
        return [os.path.basename(os.path.dirname(os.path.abspath(l.path)))
                for l in loaded for _ in l.sequences], []
    labelled = [l.labels is not None for l in loaded]
    if any(labelled) and not all(labelled):
        odd = loaded[labelled.index(not labelled[0])]
        raise data_error(odd.path, "is labelled but other files are not (or the reverse)",
                         "load labelled and unlabelled files separately, or label by folder")
    if not all(labelled):
        return None, []
    return [v for l in loaded for v in l.labels], [l.class_order for l in loaded if l.class_order]


def dataset_stem(path) -> str:
    """The dataset a file belongs to: its name without extension and UCR's _TRAIN/_TEST."""
    stem = os.path.splitext(display_name(path))[0]
    return _SPLIT_SUFFIX.sub("", stem).lower()


def _check_same_dataset(loaded: list, opts) -> None:
    """Labelled files of different datasets (other names, or other fixed lengths) are not merged
    unless asked: opening GunPoint_TRAIN with ECG200_TRAIN is more often a slip than a plan."""
    if len(loaded) < 2 or opts["label_from_folder"] or opts["multi_file"] == "merge" or loaded[0].labels is None:
        return
    first = loaded[0]
    first_lengths = {len(s) for s in first.sequences}
    for l in loaded[1:]:
        lengths = {len(s) for s in l.sequences}
        if dataset_stem(l.path) != dataset_stem(first.path):
            why = f"it is named {dataset_stem(l.path)!r}, not {dataset_stem(first.path)!r}"
        elif len(lengths) == 1 and len(first_lengths) == 1 and lengths != first_lengths:
            why = f"its sequences have length {lengths.pop()}, those of {display_name(first.path)} {first_lengths.pop()}"
        else:
            continue
        raise data_error(l.path, f"looks like another dataset than {display_name(first.path)} ({why})",
                         "open one dataset at a time, or {fix} to train on both as one dataset",
                         fixes=(Fix("multi_file", "merge"),))


def _sequences(loaded: list, labels, opts) -> list:
    sequences = [s for l in loaded for s in l.sequences]
    if opts["multi_file"] == "append" and len(loaded) > 1 and labels is None and \
            all(len(l.sequences) == 1 and l.layout in ("columns", "array") for l in loaded):
        sequences = [np.concatenate(sequences, axis=0)]
        if len(sequences[0]) > opts["max_length"]:
            raise data_error(loaded[0].path, f"the appended series has {len(sequences[0]):,} steps, over the limit "
                             f"of {opts['max_length']:,}", "{fix} or load fewer files",
                             fixes=(Fix("max_length", len(sequences[0])),))
    return sequences


def _target_names(first: Loaded, feature_names: list, target) -> list:
    """The forecast targets named by ``target_column`` (a name, an index, or a list of them)."""
    if target is None:
        return list(feature_names)
    chosen = target if isinstance(target, (list, tuple)) else [target]
    out = []
    for tc in chosen:
        if isinstance(tc, (int, np.integer)) and not isinstance(tc, bool):
            if not -len(feature_names) <= tc < len(feature_names):
                raise data_error(first.path, f"target column {tc} is out of range (there are {len(feature_names)} "
                                 "feature columns)", f"choose one of {', '.join(feature_names)}")
            out.append(feature_names[tc])
        elif str(tc) in feature_names:
            out.append(str(tc))
        elif str(tc) in first.info.get("index_columns", []):
            raise data_error(first.path, f"{tc!r} is read as an index column, not a feature",
                             "{fix} to use it as a feature", fixes=(Fix("index_columns", []),))
        else:
            raise data_error(first.path, f"no column named {tc!r}", f"choose one of {', '.join(feature_names)}")
    if not out:
        raise data_error(first.path, "no target column chosen", f"choose one of {', '.join(feature_names)}")
    return list(dict.fromkeys(out))


def _combine(loaded: list, opts) -> SequenceDataset:
    """One SequenceDataset from the files' readings (the dataset checks its own rules)."""
    _check_same_kind(loaded)
    formats = sorted({l.format for l in loaded})
    fmt = formats[0] if len(formats) == 1 else "+".join(formats)
    if loaded[0].text is not None:
        ds = _combine_text(loaded, opts, fmt)
    else:
        _check_same_columns(loaded)
        labels, orders = _labels(loaded, opts)
        _check_same_dataset(loaded, opts)
        class_names, label_ids = _class_mapping(labels, orders) if labels is not None else ([], None)
        feature_names = list(loaded[0].feature_names)
        ds = SequenceDataset(sequences=_sequences(loaded, labels, opts),
                             task=opts["task"] or ("classify_sequence" if labels is not None else "forecast"),
                             labels=label_ids, feature_names=feature_names,
                             target_names=_target_names(loaded[0], feature_names, opts["target_column"]),
                             class_names=class_names, source_paths=[l.path for l in loaded],
                             source_counts=[len(l.sequences) for l in loaded],
                             name=_display_label(loaded), notes=[n for l in loaded for n in l.notes], format=fmt,
                             source_labels=label_ids)
    ds.name = os.path.splitext(display_name(loaded[0].path))[0]
    return frame_dataset(ds, opts["frame"]) if opts["frame"] != 1 else ds


def _guarded(paths: list, fn, *args):
    """``fn(*args)``, with anything unexpected turned into a DataError naming the first file."""
    try:
        return fn(*args)
    except DataError:
        raise
    except MemoryError:
        raise data_error(paths[0], "is too large to load into memory", "use a smaller file") from None
    except Exception as exc:
        raise data_error(paths[0], f"could not be loaded ({type(exc).__name__}: {exc})",
                         "check the file format, or choose the format explicitly") from None


def _load(path_or_paths, options: dict):
    """Read every file and combine them: (paths, per-file Loaded, SequenceDataset)."""
    opts = _options(options)
    paths = _paths(path_or_paths)
    loaded = [_read_guarded(p, opts) for p in paths]
    return paths, loaded, _guarded(paths, _combine, loaded, opts)


def load_sequences(path_or_paths, **options) -> SequenceDataset:
    """Load one file or several into a SequenceDataset; raises DataError for anything it cannot load.

    Options (keyword; declared with their CLI flags and dialog labels in ``engine.data.options``):
    format ("csv", "ucr", "ts", "text", "npy", "npz"; None = detect), task (override), target_column
    (name or index of the forecast target, or a list of them), index_columns (names/indices read as an
    index, [] = none; None = detect dates, calendar integers, counters), delimiter, decimal ("." | ",";
    None = detect), has_header, layout ("columns" | "rows": one row per sequence), nonfinite ("reject" |
    "drop" | "interpolate"), skip_non_numeric, multi_file ("sequences": each file its sequences |
    "append": rows appended | "merge": labelled files of different datasets as one), label_from_folder,
    max_vocab (rare characters -> "<unk>"), size_limit (bytes, checked before reading; default 1 GB),
    max_length (steps per numeric sequence; text is always windowed, so only size_limit applies), frame
    (classification: k consecutive steps as one time step, ``engine.data.framing``; 1 = as in the file).
    Files are only read, never modified.
    """
    return _load(path_or_paths, options)[2]


@dataclass
class Preview:
    """What the import dialog shows before the user commits to a file.

    ``estimated``: only the head of a large table was read, so ``n_sequences`` and the lengths
    are estimates, ``class_names`` are those seen so far and ``dataset`` is None (load it with
    ``load_sequences``, off the GUI thread)."""
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
    target_names: list             # the forecast targets (header names); [] unless task is forecast
    class_names: list
    vocabulary_size: int
    delimiter: str | None = None
    has_header: bool | None = None
    index_columns: list = field(default_factory=list)   # columns read as an index, not features
    encoding: str | None = None
    decimal: str | None = None
    notes: list = field(default_factory=list)
    estimated: bool = False
    dataset: SequenceDataset | None = None   # the loaded data, so the dialog need not load twice

    @property
    def index_column(self) -> str | None:
        return ", ".join(self.index_columns) if self.index_columns else None

    def describe(self) -> str:
        """A few lines for a status label."""
        about = "about " if self.estimated else ""
        length = (f"length {about}{self.min_length}" if self.min_length == self.max_length
                  else f"lengths {self.min_length}–{self.max_length} (median {self.median_length:g})")
        what = (f"{self.vocabulary_size} characters" if self.format == "text"
                else f"{self.n_features} feature(s)")
        parts = [f"{self.format} ({self.layout})", self.task, f"{about}{self.n_sequences} sequence(s)", length, what]
        if self.class_names:
            parts.append(f"{len(self.class_names)}{'+' if self.estimated else ''} classes")
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


def _info_fields(info: dict) -> dict:
    return dict(delimiter=info.get("delimiter"), has_header=info.get("has_header"),
                index_columns=list(info.get("index_columns", [])), encoding=info.get("encoding"),
                decimal=info.get("decimal"))


def _full_preview(head: str, paths: list, loaded: list, ds: SequenceDataset) -> Preview:
    lengths = ds.lengths
    return Preview(head=head, format=ds.format, task=ds.task, layout=loaded[0].layout, n_files=len(paths),
                   n_sequences=ds.n_sequences, min_length=int(lengths.min()),
                   median_length=float(np.median(lengths)), max_length=int(lengths.max()),
                   n_features=ds.n_features, feature_names=list(ds.feature_names),
                   target_names=list(ds.target_names) if ds.task == "forecast" else [],
                   class_names=list(ds.class_names), vocabulary_size=len(ds.vocabulary), notes=list(ds.notes),
                   dataset=ds, **_info_fields(loaded[0].info))


def _estimated_counts(loaded: list, opts):
    """(task, n_sequences, lengths, class_names, vocabulary_size) from the heads that were read."""
    first = loaded[0]
    rows = [l.info.get("estimated_rows", len(l.sequences)) for l in loaded]
    appended = opts["multi_file"] == "append"
    if first.text is not None:
        _, vocabulary, _ = text_vocabulary([l.text for l in loaded], opts["max_vocab"], first.path)
        lengths = np.array([sum(rows)] if appended else rows)
        return opts["task"] or "next_token", len(lengths), lengths, [], len(vocabulary)
    labels, orders = _labels(loaded, opts)
    class_names = _class_mapping(labels, orders)[0] if labels is not None else []
    task = opts["task"] or ("classify_sequence" if labels is not None else "forecast")
    if first.layout == "columns":
        lengths = np.array([sum(rows)] if appended else rows)
        return task, len(lengths), lengths, class_names, 0
    lengths = [l.info["estimated_lengths"] if "estimated_lengths" in l.info else [len(s) for s in l.sequences]
               for l in loaded]  # an array's head: the lengths its header (or 'lengths') gives
    return task, sum(rows), np.concatenate([np.asarray(x, dtype=np.int64) for x in lengths]), class_names, 0


def _estimated_preview(head: str, paths: list, loaded: list, opts) -> Preview:
    """From the heads of large tables and texts: counts scaled to the file size, nothing loaded."""
    first = loaded[0]
    task, n_sequences, lengths, class_names, vocabulary_size = _estimated_counts(loaded, opts)
    sizes = sum(os.path.getsize(p) for p in paths)
    notes = [n for l in loaded for n in l.notes]
    notes.append(first.info.get("preview_note") or f"preview of the first {HEAD_BYTES // 1024} KB of "
                 f"{format_size(sizes)}: the counts are estimates and the whole file is checked when it is opened")
    return Preview(head=head, format="+".join(sorted({l.format for l in loaded})), task=task, layout=first.layout,
                   n_files=len(paths), n_sequences=int(n_sequences), min_length=int(lengths.min()),
                   median_length=float(np.median(lengths)), max_length=int(lengths.max()),
                   n_features=vocabulary_size or len(first.feature_names), feature_names=list(first.feature_names),
                   target_names=_target_names(first, first.feature_names, opts["target_column"])
                   if task == "forecast" else [],
                   class_names=class_names, vocabulary_size=vocabulary_size, notes=notes, estimated=True,
                   **_info_fields(first.info))


def preview(path_or_paths, rows: int = 10, **options) -> Preview:
    """Describe files before loading them: the first ``rows`` lines of the (first) file, detected
    format and task, counts and lengths. Cheap on large tables and texts: only their head is read
    (``Preview.estimated``); of a large .npy/.npz only the header and the first items (engine.data.npy.PREVIEW_BYTES);
    .ts is read whole, in bounded memory. Raises DataError like load_sequences."""
    opts = _options(options)
    paths = _paths(path_or_paths)
    loaded = [_read_guarded(p, opts, head_only=True) for p in paths]
    head = _guarded(paths, _head_text, paths[0], max(1, int(rows)), loaded[0])
    if any(l.info.get("estimated") for l in loaded):
        return _guarded(paths, _estimated_preview, head, paths, loaded, opts)
    return _full_preview(head, paths, loaded, _guarded(paths, _combine, loaded, opts))
