"""engine.data.text: the vocabulary is capped by default, and the preview says so."""

import numpy as np

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
