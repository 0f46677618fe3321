"""engine.data.text: the vocabulary is capped by default, and the preview says so."""

import numpy as np
import pytest

from engine.data import load_sequences, preview


def test_many_distinct_characters_are_capped_by_default(tmp_path):
    rng = np.random.default_rng(0)
    common = "the quick brown fox jumps over the lazy dog\n" * 1500
    rare = "".join(chr(c) for c in rng.permutation(np.arange(0x4E00, 0x4E00 + 20_000)))
    p = tmp_path / "many.txt"
    p.write_text(common + rare, encoding="utf-8")       # ~120 KB, 20k distinct characters
    assert 100_000 < p.stat().st_size < 140_000
    ds = load_sequences(p)
    assert len(ds.vocabulary) == 512 and ds.vocabulary[-1] == "<unk>"
    assert ds.n_outputs == 512
    notes = preview(p).notes
    assert any("mapped to <unk>" in n and "max_vocab=512" in n for n in notes), notes
    full = load_sequences(p, max_vocab=None)
    assert len(full.vocabulary) == 20_000 + len(set(common))


def test_vocabulary_ids_round_trip_across_chunks(tmp_path, monkeypatch):
    from engine.data import text
    monkeypatch.setattr(text, "_CHUNK", 7)              # many chunks, some mixing 1- and 4-byte pieces
    source = "naïve café ☕ and plain ascii text " * 9
    ids, chars, note = text.vocabulary([source, "abc☕"], None, "x.txt")
    assert note is None and "".join(chars[i] for i in ids[0]) == source
    assert "".join(chars[i] for i in ids[1]) == "abc☕"
    ids, chars, note = text.vocabulary([source], 4, "x.txt")
    assert chars[-1] == "<unk>" and len(chars) == 4 and "mapped to <unk>" in note


def _reference(raw: bytes) -> str:
    for codec in ("utf-8", "cp1252", "latin-1"):
        try:
            return raw.decode(codec).replace("\r\n", "\n").replace("\r", "\n")
        except UnicodeDecodeError:
            pass


@pytest.mark.parametrize("raw", [
    "line one\r\nline two\r\n\u2019quoted\u2019 \U0001F600 caf\u00e9\rlast".encode("utf-8"),
    ("plain ascii " * 40).encode() + "caf\u00e9 \u2013 end".encode("cp1252"),   # not UTF-8 only at the end
    ("x" * 300).encode() + bytes([0x81, 0x8D]) + b" latin-1 only\r",
], ids=["utf8-crlf-wide", "late-cp1252", "latin1"])
def test_a_text_decoded_a_chunk_at_a_time_is_the_text_decoded_whole(tmp_path, monkeypatch, raw):
    from engine.data import files, loading
    monkeypatch.setattr(loading, "HEAD_BYTES", 16)      # the file is "large": streamed, not read whole
    monkeypatch.setattr(files, "DECODE_BYTES", 5)       # CRLF, UTF-8 sequences and CR cut across chunks
    p = tmp_path / "chunked.txt"
    p.write_bytes(raw)
    ds = load_sequences(p, task="next_token")
    assert "".join(ds.vocabulary[i] for i in ds.sequences[0]) == _reference(raw)
    assert ds.sequences[0].dtype == np.uint16
    other = tmp_path / "second.txt"
    other.write_bytes(b"no newline at the end")
    both = load_sequences([p, other], multi_file="append")
    expected = "".join(t if t.endswith("\n") else t + "\n" for t in (_reference(raw), "no newline at the end"))
    assert "".join(both.vocabulary[i] for i in both.sequences[0]) == expected


def test_a_streamed_binary_file_is_still_refused(tmp_path, monkeypatch):
    from engine.data import DataError, loading
    monkeypatch.setattr(loading, "HEAD_BYTES", 16)
    p = tmp_path / "late_nul.txt"
    p.write_bytes(b"text at first " * 10 + b"\x00\x01\x02")
    with pytest.raises(DataError, match="NUL bytes"):
        load_sequences(p, format="text")
