"""Checkpoints: round trip, exact resume, atomic writes, and clear errors for bad files."""

import json
import os

import numpy as np
import pytest

from engine import checkpoint
from engine.checkpoint import CheckpointError
from engine.data import SequenceDataset
from engine.training import Trainer, TrainingConfig


def sine_dataset(n=16, length=24, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    return SequenceDataset(sequences=[np.sin(0.5 * t + p)[:, None] for p in rng.uniform(0, 6, n)],
                           task="forecast", name="sine")


CONFIG = TrainingConfig(cell="lstm", hidden_sizes=(6,), optimizer="adam", batch_size=4, epochs=4,
                        learning_rate=1e-2)


def _losses(reports):
    return [(r.epoch, r.train_loss, r.val_loss) for r in reports]


def test_save_load_round_trip(tmp_path):
    params = {"W1": np.arange(6, dtype=np.float32).reshape(2, 3), "c": np.zeros(3, np.float32)}
    state = {"m/W1": np.ones((2, 3), np.float32), "t": np.float32(3.0)}
    history = [{"epoch": 1, "train_loss": 0.5, "val_loss": float("nan")}]
    path = checkpoint.save(tmp_path / "a.npz", params, {"cell": "gru"}, state, 7, history)
    assert os.listdir(tmp_path) == ["a.npz"]  # no temporary file left behind
    ck = checkpoint.load(path)
    assert list(ck.params) == ["W1", "c"] and ck.epoch == 7 and ck.config == {"cell": "gru"}
    np.testing.assert_array_equal(ck.params["W1"], params["W1"])
    assert ck.optimizer_state["t"].shape == () and float(ck.optimizer_state["t"]) == 3.0
    assert ck.history[0]["train_loss"] == 0.5 and np.isnan(ck.history[0]["val_loss"])
    # Metadata is JSON bytes, so the file opens without pickle.
    with np.load(path, allow_pickle=False) as npz:
        assert npz["__meta__"].dtype == np.uint8


def test_training_resumes_exactly_where_the_checkpoint_stopped(tmp_path):
    ds = sine_dataset()
    straight = _losses(Trainer(CONFIG, ds).epochs())
    assert len(straight) == 4

    first = Trainer(CONFIG.replace(epochs=2), ds)
    assert _losses(first.epochs()) == straight[:2]
    path = first.save_checkpoint(tmp_path / "run.npz")

    resumed = Trainer.load_checkpoint(path, ds)
    assert resumed.epoch == 2 and len(resumed.history) == 2
    resumed.update(epochs=4)
    assert _losses(resumed.epochs()) == straight[2:]
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]

    # The saved weights and optimizer state are the ones loaded.
    ck = checkpoint.load(path)
    again = Trainer.load_checkpoint(path, ds)
    again._ensure_model()
    for k, v in again._model.get_params().items():
        np.testing.assert_array_equal(v, ck.params[k])
    assert float(again._optimizer.get_state()["t"]) == float(ck.optimizer_state["t"]) > 0


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    ds = sine_dataset(n=8)
    trainer = Trainer(CONFIG.replace(epochs=1, cell="elman"), ds)
    list(trainer.epochs())
    path = tmp_path_factory.mktemp("ck") / "good.npz"
    trainer.save_checkpoint(path)
    return path, ds


def test_truncated_file_is_rejected(saved, tmp_path):
    good, ds = saved
    data = good.read_bytes()
    bad = tmp_path / "truncated.npz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated.npz") as info:
        Trainer.load_checkpoint(bad, ds)
    assert "corrupt or truncated" in str(info.value)


def test_corrupt_bytes_are_rejected(saved, tmp_path):
    good, ds = saved
    data = bytearray(good.read_bytes())
    # Flip bytes inside the stored arrays (CRC or format check must catch it).
    for i in range(len(data) // 3, len(data) // 3 + 64):
        data[i] ^= 0xFF
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt.npz"):
        checkpoint.load(bad)
    noise = tmp_path / "noise.npz"
    noise.write_bytes(np.random.default_rng(0).bytes(500))
    with pytest.raises(CheckpointError, match="noise.npz"):
        checkpoint.load(noise)
    assert issubclass(CheckpointError, ValueError)


def test_other_npz_and_missing_file_are_rejected(tmp_path):
    other = tmp_path / "plain.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(CheckpointError, match="not an RNN Scope checkpoint"):
        checkpoint.load(other)
    with pytest.raises(CheckpointError, match="does not exist"):
        checkpoint.load(tmp_path / "missing.npz")
    with open(tmp_path / "array.npz", "wb") as fh:  # a .npy under a checkpoint's name
        np.save(fh, np.zeros(3))
    with pytest.raises(CheckpointError, match="not an RNN Scope checkpoint"):
        checkpoint.load(tmp_path / "array.npz")
    with pytest.raises(CheckpointError, match="does not exist"):
        checkpoint.save(tmp_path / "no" / "such" / "dir.npz", {"a": np.zeros(1)}, {}, {}, 0, [])


def test_listed_shape_and_dtype_are_checked(tmp_path):
    path = checkpoint.save(tmp_path / "x.npz", {"W1": np.zeros((2, 3), np.float32)}, {}, {}, 0, [])
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    meta["params"][0][1] = [3, 2]
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "y.npz", **arrays)
    with pytest.raises(CheckpointError, match=r"parameter 'W1' has shape \(2, 3\) float32, expected \(3, 2\)"):
        checkpoint.load(tmp_path / "y.npz")
    arrays["param/W1"] = np.full((2, 3), np.nan, np.float32)
    meta["params"][0][1] = [2, 3]
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(tmp_path / "z.npz", **arrays)
    with pytest.raises(CheckpointError, match="non-finite"):
        checkpoint.load(tmp_path / "z.npz")


def test_checkpoint_for_another_dataset_is_rejected(saved):
    good, _ = saved
    wider = SequenceDataset(sequences=[np.random.default_rng(0).standard_normal((20, 3)) for _ in range(6)],
                            task="forecast", name="wide")
    with pytest.raises(CheckpointError, match="parameter W1 has shape .* another dataset"):
        Trainer.load_checkpoint(good, wider)
    text = SequenceDataset(sequences=[np.arange(40) % 4], vocabulary=list("abcd"), task="next_token")
    with pytest.raises(CheckpointError, match="trained for task 'forecast'"):
        Trainer.load_checkpoint(good, text)


def test_resaving_replaces_the_file_atomically(saved, tmp_path):
    good, ds = saved
    trainer = Trainer.load_checkpoint(good, ds)
    target = tmp_path / "model.npz"
    trainer.save_checkpoint(target)
    first = target.read_bytes()
    trainer.save_checkpoint(target)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    assert target.read_bytes() == first  # same state, same bytes


def _rewrite_meta(src, dst, change):
    with np.load(src) as npz:
        arrays = {k: npz[k] for k in npz.files}
    meta = json.loads(arrays["__meta__"].tobytes())
    change(meta)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(dst, **arrays)
    return dst


@pytest.mark.parametrize("change", [
    lambda m: m.update(params=5),
    lambda m: m["params"].__setitem__(0, ["W1", 6, "float32"]),
    lambda m: m["params"].__setitem__(0, [["W1"], [2, 3], "float32"]),
    lambda m: m.update(extra=[1, 2]),
    lambda m: m.update(epoch=True),
    lambda m: m["extra"].update(dataset="sine"),
], ids=["table", "shape", "name", "extra", "epoch", "fingerprint"])
def test_malformed_metadata_is_a_checkpoint_error(saved, tmp_path, change):
    good, ds = saved
    bad = _rewrite_meta(good, tmp_path / "bad.npz", change)
    with pytest.raises(CheckpointError, match="bad.npz"):
        Trainer.load_checkpoint(bad, ds)


# ------------------------------------------------------------------ hostile metadata (issue 11)
@pytest.mark.parametrize("change, message", [
    (lambda m: m["config"].update(window=5_000_000), "window 5000000 is too long"),
    (lambda m: m["config"].update(window=10**9), "window 1000000000 is too long"),
    (lambda m: m["config"].update(hidden_sizes=[10**9]), "1000000000 units in one layer is too many"),
    (lambda m: m["config"].update(hidden_sizes=[4] * 9), "9 layers is too many; use at most 8"),
    (lambda m: m["config"].update(epochs=2**40), "epochs 1099511627776 is too many"),
    (lambda m: m["config"].update(learning_rate=1e39), "learning_rate 1e\\+39 is too large for float32"),
    (lambda m: m.update(epoch=2**40), "invalid epoch 1099511627776"),
    (lambda m: m["params"][0].__setitem__(1, [10**9, 10**9]), r"expected \(1000000000, 1000000000\)"),
    (lambda m: m["history"].__setitem__(0, 3), "history entry 1 is malformed .3 is not a record"),
    (lambda m: m["history"].__setitem__(0, "epoch 1"), "history entry 1 is malformed"),
    (lambda m: m["history"][0].update(epoch=2**40), "history entry 1 is malformed .epoch 1099511627776"),
    (lambda m: m["history"][0].update(train_loss="0.5"), "train_loss '0.5' is not a number"),
], ids=["window5e6", "window1e9", "hidden1e9", "layers9", "epochs2^40", "lr1e39", "epoch2^40", "param-table",
        "history-int", "history-str", "history-epoch", "history-loss-str"])
def test_absurd_metadata_is_refused_before_anything_is_allocated(saved, tmp_path, change, message):
    import tracemalloc

    good, ds = saved
    bad = _rewrite_meta(good, tmp_path / "absurd.npz", change)
    assert bad.stat().st_size < 16_000  # a few KB that used to ask for gigabytes
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match=message) as info:
            Trainer.load_checkpoint(bad, ds)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "absurd.npz" in str(info.value)
    assert peak < 20 << 20, f"{peak / 1e6:.0f} MB allocated before refusing"


def test_a_window_longer_than_the_data_is_refused_before_the_split(saved, tmp_path, monkeypatch):
    good, ds = saved
    bad = _rewrite_meta(good, tmp_path / "long.npz", lambda m: m["config"].update(window=500_000))
    monkeypatch.setattr(SequenceDataset, "split", lambda *a, **k: pytest.fail("split before the check"))
    with pytest.raises(CheckpointError, match="long.npz: its window of 500,000 steps is longer than the longest"):
        Trainer.load_checkpoint(bad, ds)


# ------------------------------------------------------------------ another dataset (issue 10)
def test_a_checkpoint_of_another_dataset_with_the_same_shapes_is_not_loaded_silently(saved):
    good, ds = saved
    other = sine_dataset(n=8, seed=7)  # same shapes and names, other numbers
    other.name = "sine"
    with pytest.raises(checkpoint.CheckpointDatasetMismatch, match="trained on another dataset") as info:
        Trainer.load_checkpoint(good, other)
    err = info.value
    assert err.saved["digest"] != err.current["digest"] and err.path == str(good)
    # The weights can still start a new run on this dataset.
    fresh = Trainer.load_checkpoint(good, other, weights_only=True)
    assert fresh.epoch == 0 and fresh.history == [] and fresh.dataset is other
    fresh._ensure_model()
    for k, v in fresh._model.get_params().items():
        np.testing.assert_array_equal(v, checkpoint.load(good).params[k])
    assert float(fresh._optimizer.get_state().get("t", 0.0)) == 0.0
    # The same data loaded again (a new object) is recognised.
    Trainer.load_checkpoint(good, sine_dataset(n=8))


def test_check_checkpoint_builds_nothing(saved, monkeypatch):
    good, ds = saved
    monkeypatch.setattr(SequenceDataset, "split", lambda *a, **k: pytest.fail("split during the check"))
    ck = Trainer.check_checkpoint(good, ds)
    assert isinstance(ck, checkpoint.Checkpoint) and ck.epoch == 1


# ------------------------------------------------------------------ self-contained (issue 9)
def _offset_dataset():
    rng = np.random.default_rng(3)
    t = np.arange(40)
    seqs = [np.stack([100 + 20 * np.sin(0.3 * t + p), -5 + 0.1 * np.cos(0.2 * t)], 1) for p in rng.uniform(0, 6, 10)]
    return SequenceDataset(sequences=seqs, task="forecast", name="offset", feature_names=["level", "rate"],
                           target_names=["level"])


def test_a_checkpoint_predicts_in_data_units_without_its_data_file(tmp_path):
    ds = _offset_dataset()
    trainer = Trainer(CONFIG.replace(epochs=2, hidden_sizes=(5,)), ds)
    list(trainer.epochs())
    path = trainer.save_checkpoint(tmp_path / "model.npz")
    alone = Trainer.load_checkpoint(path)  # no dataset at all
    probe = ds.sequences[3][:25]
    expected = trainer.predict(probe)
    np.testing.assert_allclose(alone.predict(probe), expected, rtol=1e-5, atol=1e-4)
    assert 50 < float(np.mean(expected)) < 150  # data units, not normalised ones
    np.testing.assert_allclose(alone.hidden_states(probe)[0], trainer.hidden_states(probe)[0], rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="loaded from a checkpoint without its dataset"):
        next(alone.epochs())
    # Saving again keeps it self-contained.
    again = Trainer.load_checkpoint(alone.save_checkpoint(tmp_path / "again.npz"))
    np.testing.assert_allclose(again.predict(probe), expected, rtol=1e-5, atol=1e-4)


def test_a_text_checkpoint_keeps_its_vocabulary(tmp_path):
    text = "the cat sat on the mat. " * 20
    vocab = sorted(set(text))
    ds = SequenceDataset(sequences=[np.array([vocab.index(c) for c in text])], vocabulary=vocab,
                         task="next_token", name="cat")
    trainer = Trainer(CONFIG.replace(epochs=1, hidden_sizes=(8,), window=16), ds)
    list(trainer.epochs())
    alone = Trainer.load_checkpoint(trainer.save_checkpoint(tmp_path / "text.npz"))
    np.testing.assert_allclose(alone.predict("the ca"), trainer.predict("the ca"), rtol=1e-5, atol=1e-6)
    assert alone.generate(10, prime="the ", seed=1) == trainer.generate(10, prime="the ", seed=1)


def test_a_checkpoint_written_before_self_contained_ones_still_loads(saved, tmp_path):
    good, ds = saved

    def strip(meta):
        for key in ("digest", "mean", "std", "target_indices", "window"):
            meta["extra"]["dataset"].pop(key, None)

    old = _rewrite_meta(good, tmp_path / "old.npz", strip)
    resumed = Trainer.load_checkpoint(old, ds)
    assert resumed.epoch == 1
    with pytest.raises(CheckpointError, match="old.npz does not store its data's .*load it together with its dataset"):
        Trainer.load_checkpoint(old)


def test_the_format_document_reads_a_real_checkpoint_with_plain_numpy(saved, tmp_path):
    import doctest
    from pathlib import Path

    ds = _offset_dataset()
    trainer = Trainer(CONFIG.replace(epochs=1, hidden_sizes=(3,)), ds)
    list(trainer.epochs())
    path = trainer.save_checkpoint(tmp_path / "doc.npz")
    doc = Path(__file__).resolve().parents[2] / "docs" / "CHECKPOINT_FORMAT.md"
    result = doctest.testfile(str(doc), module_relative=False, globs={"path": str(path)},
                              optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 8 and result.failed == 0


OLD_TEXT = "the quick brown fox jumps over the lazy dog, naïve café €5.\n" * 12
FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def test_a_text_checkpoint_from_int32_ids_still_matches_its_data(tmp_path):
    # Text ids became uint16 (half the memory); the digest hashes them as int32, so a checkpoint
    # written when they were int32 is still recognised as this data, and other text still is not.
    from engine.data import load_sequences

    (tmp_path / "old_text.txt").write_text(OLD_TEXT, encoding="utf-8")
    ds = load_sequences(str(tmp_path / "old_text.txt"))
    assert ds.sequences[0].dtype == np.uint16
    ck = Trainer.check_checkpoint(os.path.join(FIXTURES, "text_int32_ids.npz"), ds)  # raises on a mismatch
    as_int32 = SequenceDataset([s.astype(np.int32) for s in ds.sequences], task="next_token",
                               vocabulary=ds.vocabulary)
    assert checkpoint.content_digest(ds) == ck.dataset["digest"] == checkpoint.content_digest(as_int32)
    trainer = Trainer.load_checkpoint(ck, ds)
    assert trainer.epoch == 1 and len(trainer.history) == 1
    (tmp_path / "other.txt").write_text(OLD_TEXT.replace("fox", "xof"), encoding="utf-8")
    with pytest.raises(checkpoint.CheckpointDatasetMismatch):
        Trainer.check_checkpoint(os.path.join(FIXTURES, "text_int32_ids.npz"),
                                 load_sequences(str(tmp_path / "other.txt")))
