"""Plain text for a next-character model: the characters as ids (``loading`` builds the vocabulary).

A text is held as :class:`TextCodes`, each character's index in the file's own sorted alphabet,
2 bytes a character whatever the characters. A Python str of the whole file was not: one emoji
in 200 MB of ASCII makes CPython store every character in 4 bytes (a curly quote, in 2), so a
text took 6.2x (4.2x) its file size next to its ids. A large file is decoded a chunk at a time
(twice: the counts, then the ids) and its bytes are never held whole either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import data_error, display_name
from .files import DataFile, bom_length, decode_in_pieces, decode_text
from .formats import Loaded
from .options import DEFAULTS

__all__ = ["read_text", "vocabulary", "id_dtype", "TextCodes", "UNK", "DEFAULT_MAX_VOCAB"]

_NEWLINES = re.compile(r"\r\n?")


def read_text(source: DataFile, options, data: bytes | None = None) -> Loaded:
    """UTF-8 (BOM stripped), UTF-16/32 with a BOM, or Windows-1252 / Latin-1; CRLF -> LF.
    ``data``: the whole file (or the head a preview reads) when the caller already holds it."""
    path = source.path
    if data is None and not bom_length(source.head(4)):
        codes, encoding = decode_in_pieces(source, lambda pieces: TextCodes.build(lambda: _lf_only(pieces())))
    else:
        text, encoding = decode_text(source.read_all() if data is None else data, path)
        del data                                  # hold the text only, not the bytes too
        codes = TextCodes.of(_NEWLINES.sub("\n", text) if "\r" in text else text)
        del text
    if not len(codes) or codes.is_blank():
        raise data_error(path, "contains only whitespace", "choose a file with text in it")
    if len(codes) < 2:
        raise data_error(path, "contains a single character", "a next-character model needs at least 2 characters")
    loaded = Loaded(path=path, format="text", layout="text", text=codes, info={"encoding": encoding})
    if encoding != "utf-8":
        reason = " (not valid UTF-8)" if encoding in ("cp1252", "latin-1") else ""
        loaded.notes.append(f"{display_name(path)}: decoded as {encoding}{reason}")
    return loaded


def _lf_only(pieces):
    """CRLF and lone CR as LF across the pieces (a CRLF may straddle two of them)."""
    carry = ""
    for piece in pieces:
        piece = carry + piece
        carry = "\r" if piece.endswith("\r") else ""
        piece = piece[:-1] if carry else piece
        yield _NEWLINES.sub("\n", piece) if "\r" in piece else piece
    if carry:
        yield "\n"


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


def _code_chunks(piece: str):
    for start in range(0, len(piece), _CHUNK):
        yield _codes(piece[start:start + _CHUNK])


@dataclass
class TextCodes:
    """A text as ``ids``, each character's index in ``alphabet`` (its distinct code points, sorted;
    ``counts`` = occurrences of each): uint16, or int32 beyond 65,536 distinct characters."""
    ids: np.ndarray
    alphabet: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def ends_with_newline(self) -> bool:
        return len(self.ids) > 0 and int(self.alphabet[self.ids[-1]]) == 10

    def is_blank(self) -> bool:
        return all(chr(int(c)).isspace() for c in self.alphabet)

    @classmethod
    def of(cls, text: str) -> "TextCodes":
        return cls.build(lambda: iter((text,)))

    @classmethod
    def build(cls, pieces) -> "TextCodes":
        """From ``pieces()``, an iterable of str pieces that can be walked twice (counts, then ids)."""
        counts, total = np.zeros(0, dtype=np.int64), 0
        for piece in pieces():
            for codes in _code_chunks(piece):
                piece_counts = np.bincount(codes)
                if len(piece_counts) > len(counts):
                    counts = np.pad(counts, (0, len(piece_counts) - len(counts)))
                counts[:len(piece_counts)] += piece_counts
                total += len(codes)
        alphabet = np.flatnonzero(counts)
        dtype = id_dtype(len(alphabet))
        lut = np.zeros(len(counts), dtype=dtype)
        lut[alphabet] = np.arange(len(alphabet), dtype=dtype)
        ids, at = np.empty(total, dtype=dtype), 0
        for piece in pieces():
            for codes in _code_chunks(piece):
                ids[at:at + len(codes)] = lut[codes]
                at += len(codes)
        if at != total:
            raise ValueError(f"the text read {at:,} characters the second time, {total:,} the first")
        return cls(ids, alphabet, counts[alphabet])

    @classmethod
    def joined(cls, texts: list) -> "TextCodes":
        """The texts one after another, a newline after each that lacks one (multi_file="append")."""
        needs = [not t.ends_with_newline() for t in texts]
        parts = [t.alphabet for t in texts] + ([np.array([10])] if any(needs) else [])
        alphabet = np.unique(np.concatenate(parts))
        dtype = id_dtype(len(alphabet))
        ids = np.empty(sum(len(t) for t in texts) + sum(needs), dtype=dtype)
        counts, at = np.zeros(len(alphabet), dtype=np.int64), 0
        newline = int(np.searchsorted(alphabet, 10))
        for t, need in zip(texts, needs):
            local = np.searchsorted(alphabet, t.alphabet).astype(dtype)
            _remap_into(ids[at:at + len(t)], t.ids, local)
            counts[local] += t.counts
            at += len(t)
            if need:
                ids[at], at = newline, at + 1
                counts[newline] += 1
        return cls(ids, alphabet, counts)


def _remap_into(out: np.ndarray, ids: np.ndarray, lut: np.ndarray) -> None:
    """``out[:] = lut[ids]`` a chunk at a time (``out`` may be ``ids`` itself)."""
    for start in range(0, len(ids), _CHUNK):
        out[start:start + _CHUNK] = lut[ids[start:start + _CHUNK]]


def _kept_characters(counts: np.ndarray, max_vocab):
    present = np.flatnonzero(counts)
    if max_vocab is None or len(present) <= max_vocab:
        return present, False
    # keep the max_vocab - 1 most frequent characters (ties by code point), the rest -> UNK
    order = np.lexsort((present, -counts[present]))
    return np.sort(present[order[:max_vocab - 1]]), True


def vocabulary(texts: list, max_vocab, path):
    """Token ids per text (:func:`id_dtype`), the vocabulary (sorted characters, UNK last if capped), and
    the note saying what the cap did (or None). ``texts``: :class:`TextCodes` (their ids are turned
    into the vocabulary's in place, so each serves one call) or str."""
    texts = [t if isinstance(t, TextCodes) else TextCodes.of(t) for t in texts]
    counts = np.zeros(max((int(t.alphabet[-1]) + 1 for t in texts if len(t.alphabet)), default=0), dtype=np.int64)
    for t in texts:
        counts[t.alphabet] += t.counts
    kept, capped = _kept_characters(counts, max_vocab)
    dtype = id_dtype(len(kept) + capped)
    lut = np.full(len(counts), len(kept), dtype=dtype)        # unknown -> UNK's id (only used if capped)
    lut[kept] = np.arange(len(kept), dtype=dtype)
    ids = []
    for t in texts:
        out = t.ids if t.ids.dtype == dtype else np.empty(len(t), dtype=dtype)
        _remap_into(out, t.ids, lut[t.alphabet])
        ids.append(out)
    chars = [chr(int(c)) for c in kept]
    if not capped:
        return ids, chars, None
    rare = int(counts.sum() - counts[kept].sum())
    note = (f"{display_name(path)}: {len(np.flatnonzero(counts)) - len(kept)} rare character(s) ({rare} "
            f"occurrences) mapped to {UNK} (max_vocab={max_vocab}; pass a larger max_vocab to keep them)")
    return ids, chars + [UNK], note
