"""Plain text for a next-character model (the characters; ``loading`` builds the vocabulary)."""

from __future__ import annotations

import re

from .errors import data_error, display_name
from .files import DataFile, decode_text
from .formats import Loaded

__all__ = ["read_text"]

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
