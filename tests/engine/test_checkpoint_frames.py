"""A checkpoint stores the frame of its data (engine.data.framing): the same file opened framed
otherwise is reframed as the checkpoint was trained, or refused with a message naming the frame."""

import dataclasses

import numpy as np
import pytest

from engine import checkpoint
from engine.checkpoint import CheckpointError
from engine.data import SequenceDataset
from engine.data.framing import frame_dataset, reframe
from engine.training import Trainer, TrainingConfig

from tests.engine.test_checkpoint import _rewrite_meta

CONFIG = TrainingConfig(cell="gru", hidden_sizes=(4,), batch_size=4, epochs=1, learning_rate=1e-2)


def _series(n=8, length=24):
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(length, 1)).astype(np.float32) for _ in range(n)]
    return SequenceDataset(sequences=seqs, labels=np.arange(n) % 2, task="classify_sequence",
                           class_names=["a", "b"], name="toy")


@pytest.fixture(scope="module")
def framed_checkpoint(tmp_path_factory):
    data = _series()
    trainer = Trainer(CONFIG, frame_dataset(data, 4))
    list(trainer.epochs())
    return trainer.save_checkpoint(tmp_path_factory.mktemp("ck") / "framed.npz"), data


def test_the_checkpoint_stores_its_frame(framed_checkpoint):
    path, _ = framed_checkpoint
    ck = checkpoint.load(path)
    assert ck.dataset["frame"] == 4 and checkpoint.frame_of(ck) == 4


@pytest.mark.parametrize("opened_with", [1, 2, 4])
def test_the_same_file_framed_otherwise_is_reframed_as_the_checkpoint_was(framed_checkpoint, opened_with):
    path, data = framed_checkpoint
    ck = checkpoint.load(path)
    opened = frame_dataset(data, opened_with) if opened_with > 1 else data
    framed, note = checkpoint.framed_as(ck, opened)
    assert framed.frame == 4 and framed.n_features == 4
    assert (note == "") == (opened_with == 4)
    if note:
        assert "frames of 4 steps" in note
    resumed = Trainer.load_checkpoint(ck, framed)  # the same data: history and optimizer state resume
    assert resumed.epoch == 1 and resumed.dataset.frame == 4


def test_a_dataset_framed_otherwise_is_refused_naming_the_frame_not_a_shape(framed_checkpoint):
    path, data = framed_checkpoint
    with pytest.raises(CheckpointError, match="trained on frames of 4 steps but toy is unframed"):
        Trainer.check_checkpoint(path, data)


def test_reframing_is_refused_when_the_original_steps_are_not_kept(framed_checkpoint):
    path, data = framed_checkpoint
    lost = dataclasses.replace(frame_dataset(data, 2), unframed=None)
    with pytest.raises(CheckpointError, match="trained on frames of 4 steps .* open the data with steps per frame 4"):
        checkpoint.framed_as(checkpoint.load(path), lost)


def test_a_checkpoint_without_a_frame_is_unframed(framed_checkpoint, tmp_path):
    _, data = framed_checkpoint
    trainer = Trainer(CONFIG, data)
    list(trainer.epochs())
    path = trainer.save_checkpoint(tmp_path / "plain.npz")
    old = _rewrite_meta(path, tmp_path / "old.npz", lambda meta: meta["extra"]["dataset"].pop("frame"))
    ck = checkpoint.load(old)
    assert checkpoint.frame_of(ck) == 1
    assert Trainer.load_checkpoint(old, data).epoch == 1  # as before frames were stored
    unframed, note = checkpoint.framed_as(ck, frame_dataset(data, 3))
    assert unframed.frame == 1 and unframed.n_features == 1 and "unframed" in note


def test_reframe_goes_back_to_the_original_steps():
    data = _series(n=2, length=7)
    twice = reframe(frame_dataset(data, 3), 2)
    np.testing.assert_array_equal(twice.sequences[0], frame_dataset(data, 2).sequences[0])
    assert reframe(frame_dataset(data, 3), 1) is data
