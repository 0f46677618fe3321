"""SequenceDataset.split -> Split / Arrays: shapes, masks, next-step targets, normalisation."""

import numpy as np
import pytest

from engine.data import DataError, SequenceDataset


def forecast_ds(lengths, features=1, seed=0, targets=None):
    rng = np.random.default_rng(seed)
    seqs = [rng.normal(loc=3.0, scale=2.0, size=(n, features)) for n in lengths]
    names = [f"f{j}" for j in range(features)]
    return SequenceDataset(sequences=seqs, task="forecast", feature_names=names, target_names=targets or names)


def test_forecast_arrays_are_next_step_targets_with_masks():
    ds = forecast_ds([10, 7, 9, 12, 8], features=2, targets=["f1"])
    sp = ds.split(validation_fraction=0.4, seed=3)
    assert sp.window == 12 and sp.train.x.shape[1:] == (12, 2) and sp.val.x.shape[1] == 12
    assert sp.train.y.shape[2] == 1 and sp.train.y.dtype == np.float32 and sp.train.mask.dtype == np.float32
    assert sorted(np.concatenate([sp.train_indices, sp.val_indices]).tolist()) == [0, 1, 2, 3, 4]
    assert len(sp.val_indices) == 2
    for arrays, idx in ((sp.train, sp.train_indices), (sp.val, sp.val_indices)):
        for row, k in enumerate(idx):
            raw = ds.sequences[k]
            L = len(raw)
            assert arrays.lengths[row] == L - 1 and arrays.mask[row].sum() == L - 1
            np.testing.assert_allclose(arrays.x[row, :L], sp.normalize(raw), rtol=1e-6)
            np.testing.assert_allclose(sp.denormalize_target(arrays.y[row, :L - 1]), raw[1:, 1:2], rtol=1e-5)
            assert (arrays.x[row, L:] == 0).all() and (arrays.mask[row, L - 1:] == 0).all()


def test_normalisation_is_fitted_on_training_part_only():
    seqs = [np.full((6, 1), 1.0), np.full((6, 1), 3.0), np.full((6, 1), 1000.0)]
    ds = SequenceDataset(sequences=seqs, task="forecast")
    sp = ds.split(validation_fraction=0.34, seed=0)
    train_values = np.concatenate([seqs[i] for i in sp.train_indices])
    np.testing.assert_allclose(sp.mean, train_values.mean(0), rtol=1e-6)
    np.testing.assert_allclose(sp.std, train_values.std(0), rtol=1e-6)
    assert sp.mean.dtype == np.float32 and sp.std.shape == (1,)


def test_split_is_deterministic_and_seed_dependent():
    ds = forecast_ds([5] * 20)
    a, b, c = ds.split(seed=1), ds.split(seed=1), ds.split(seed=2)
    assert a.val_indices.tolist() == b.val_indices.tolist()
    np.testing.assert_array_equal(a.train.x, b.train.x)
    assert a.val_indices.tolist() != c.val_indices.tolist()
    assert len(a.val_indices) == 4


def test_windows_and_stride_chop_long_series():
    seq = np.arange(21, dtype=np.float32)
    ds = SequenceDataset(sequences=[seq, seq + 100], task="forecast")
    sp = ds.split(validation_fraction=0.5, window=8, stride=4)
    # starts 0, 4, 8, 12, 16 (every window has at least one target)
    assert len(sp.train) == 5 and sp.train.x.shape == (5, 8, 1)
    assert sp.train.lengths.tolist() == [8, 8, 8, 8, 4]
    raw = sp.denormalize_target(sp.train.y[1, :, 0:1])[:, 0]
    np.testing.assert_allclose(raw - raw[0], np.arange(8), atol=1e-4)   # targets 5..12 of the series


def test_single_series_is_split_by_time():
    seq = np.arange(100, dtype=np.float32)
    ds = SequenceDataset(sequences=[seq], task="forecast")
    sp = ds.split(validation_fraction=0.2, window=10)
    assert len(sp.train_sequences[0]) == 80 and len(sp.val_sequences[0]) == 21
    assert sp.val_sequences[0][0, 0] == 79          # validation starts where training stopped
    np.testing.assert_allclose(sp.mean, [39.5])     # mean of 0..79 only


def test_text_split_windows_tokens():
    ids = np.arange(200) % 7
    ds = SequenceDataset(sequences=[ids], task="next_token", vocabulary=list("abcdefg"))
    sp = ds.split(validation_fraction=0.25)
    assert sp.window == 64 and sp.train.x.dtype == np.int32 and sp.train.y.dtype == np.int32
    assert sp.train.x.shape == sp.train.y.shape == (3, 64)
    np.testing.assert_array_equal(sp.train.y[0, :63], sp.train.x[0, 1:])
    np.testing.assert_array_equal(sp.train.y[0, 63], ids[64])
    assert (sp.normalize(sp.train.x) == sp.train.x).all()


def test_classification_pads_whole_sequences_and_stratifies():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(int(n), 2)) for n in rng.integers(3, 9, size=40)]
    labels = np.repeat([0, 1, 2, 3], 10)
    ds = SequenceDataset(sequences=seqs, task="classify_sequence", labels=labels, class_names=list("abcd"))
    sp = ds.split(validation_fraction=0.2, seed=5)
    assert sp.window == max(len(s) for s in seqs)
    assert sp.train.y.dtype == np.int32 and sp.train.y.shape == (32,)
    assert np.bincount(sp.val.y, minlength=4).tolist() == [2, 2, 2, 2]
    for row, k in enumerate(sp.val_indices):
        assert sp.val.lengths[row] == len(seqs[k]) == sp.val.mask[row].sum()
        assert sp.val.y[row] == labels[k]
    with pytest.raises(DataError, match="whole sequences"):
        ds.split(window=2)


def test_batches_are_time_major_with_padding_examples():
    from engine.batches import TimeMajor, fixed_batches

    ds = forecast_ds([6, 7, 8, 5, 9], features=3)
    sp = ds.split(validation_fraction=0.2)
    data = TimeMajor(sp.train, ds.task, "float32")
    order = np.random.default_rng(0).permutation(data.n)
    batches = [data.batch(idx) for idx in fixed_batches(data.n, 3, order)]
    assert len(batches) == 2
    x, mask, y = batches[-1]
    assert x.shape == (sp.window, 3, 3) and mask.shape == (sp.window, 3)
    assert y.shape == (sp.window, 3, 3)
    assert (mask[:, 1:] == 0).all()  # one real example, two padding columns
    seen = sorted(int(i) for idx in fixed_batches(data.n, 3, order) for i in idx if i < data.n)
    assert seen == list(range(len(sp.train)))


def test_split_errors_are_actionable():
    ds = forecast_ds([3])
    with pytest.raises(DataError, match="too short"):
        ds.split()
    with pytest.raises(DataError, match="between 0 and 1"):
        forecast_ds([5, 5]).split(validation_fraction=1.5)
    with pytest.raises(DataError, match="at least 1"):
        forecast_ds([5, 5]).split(window=0)
