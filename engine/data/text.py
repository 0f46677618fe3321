"""Plain text for a next-character model (the characters; ``loading`` builds the vocabulary)."""

from __future__ import annotations

import re

import numpy as np

from .errors import data_error, display_name
from .files import DataFile, decode_text
from .formats import Loaded
from .options import DEFAULTS

__all__ = ["read_text", "vocabulary", "id_dtype", "UNK", "DEFAULT_MAX_VOCAB"]

_NEWLINES = re.compile(r"\r\n?")


def read_text(source: DataFile, options, data: bytes | None = None) -> Loaded:
    """UTF-8 (BOM stripped), UTF-16/32 with a BOM, or Windows-1252 / Latin-1; CRLF -> LF.
    ``data``: the whole file when the caller already holds it."""
    path = source.path
    text, encoding = decode_text(source.read_all() if data is None else data, path)
    del data                                  # hold the text only, not the bytes too
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    if not text or text.isspace():
        raise data_error(path, "contains only whitespace", "choose a file with text in it")
    if len(text) < 2:
        raise data_error(path, "contains a single character", "a next-character model needs at least 2 characters")
    loaded = Loaded(path=path, format="text", layout="text", text=text, info={"encoding": encoding})
    if encoding != "utf-8":
        reason = " (not valid UTF-8)" if encoding in ("cp1252", "latin-1") else ""
        loaded.notes.append(f"{display_name(path)}: decoded as {encoding}{reason}")
    return loaded


UNK = "<unk>"
DEFAULT_MAX_VOCAB = DEFAULTS["max_vocab"]  # characters kept by default; the rest become UNK (said in the notes)
_CHUNK = 1 << 20             # characters converted at a time, so only the ids are file-sized


def id_dtype(vocabulary_size: int) -> np.dtype:
    """The token-id type of a text: uint16 (2 bytes a character; any capped vocabulary fits) when
    the vocabulary has at most 65,536 entries, else int32. The content digest of a text hashes
    the ids as int32 whatever their type, so checkpoints from int32-id versions still match."""
    return np.dtype(np.uint16) if vocabulary_size <= 1 << 16 else np.dtype(np.int32)


def _codes(text: str) -> np.ndarray:
    """Code points of a piece of text (1 byte each when they all fit, else 4)."""
    try:
        return np.frombuffer(text.encode("latin-1"), dtype=np.uint8)
    except UnicodeEncodeError:
        return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _pieces(text: str):
    for start in range(0, len(text), _CHUNK):
        yield _codes(text[start:start + _CHUNK])


def _kept_characters(counts: np.ndarray, max_vocab):
    present = np.flatnonzero(counts)
    if max_vocab is None or len(present) <= max_vocab:
        return present, False
    # keep the max_vocab - 1 most frequent characters (ties by code point), the rest -> UNK
    order = np.lexsort((present, -counts[present]))
    return np.sort(present[order[:max_vocab - 1]]), True


def vocabulary(texts: list, max_vocab, path):
    """Token ids per text (:func:`id_dtype`), the vocabulary (sorted characters, UNK last if capped), and
    the note saying what the cap did (or None). Works through each text a chunk at a time."""
    counts = np.zeros(0, dtype=np.int64)
    for text in texts:
        for codes in _pieces(text):
            piece_counts = np.bincount(codes)
            if len(piece_counts) > len(counts):
                counts = np.pad(counts, (0, len(piece_counts) - len(counts)))
            counts[:len(piece_counts)] += piece_counts
    kept, capped = _kept_characters(counts, max_vocab)
    dtype = id_dtype(len(kept) + capped)
    lut = np.full(len(counts), len(kept), dtype=dtype)        # unknown -> UNK's id (only used if capped)
    lut[kept] = np.arange(len(kept), dtype=dtype)
    ids = []
    for text in texts:
        out = np.empty(len(text), dtype=dtype)
        for i, codes in enumerate(_pieces(text)):
            out[i * _CHUNK:i * _CHUNK + len(codes)] = lut[codes]
        ids.append(out)
    chars = [chr(int(c)) for c in kept]
    if not capped:
        return ids, chars, None
    rare = int(counts.sum() - counts[kept].sum())
    note = (f"{display_name(path)}: {len(np.flatnonzero(counts)) - len(kept)} rare character(s) ({rare} "
            f"occurrences) mapped to {UNK} (max_vocab={max_vocab}; pass a larger max_vocab to keep them)")
    return ids, chars + [UNK], note
