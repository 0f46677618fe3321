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
