"""engine.data.framing: k consecutive steps as one time step; the loading option and the test set follow."""

import numpy as np
import pytest

from engine.data import DataError, SequenceDataset, load_sequences
from engine.data.framing import frame_dataset
from engine.evaluation import load_test_set

HEADER = "@problemName toy\n@univariate true\n@classLabel true a b\n@data\n"


def _classes(lengths, features=1):
    seqs = [np.arange(n * features, dtype=np.float32).reshape(n, features) for n in lengths]
    return SequenceDataset(sequences=seqs, labels=np.arange(len(lengths)) % 2, task="classify_sequence",
                           class_names=["a", "b"])


def test_frames_hold_consecutive_steps_and_the_last_repeats_its_last_value():
    framed = frame_dataset(_classes([6, 7]), 3)
    assert framed.frame == 3 and framed.n_features == 3 and list(framed.lengths) == [2, 3]
    assert framed.feature_names == ["value@0", "value@1", "value@2"]
    np.testing.assert_array_equal(framed.sequences[0], [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(framed.sequences[1][-1], [6, 6, 6])  # 7 steps: padded with its last value
    assert "last frame of 1 sequence" in framed.notes[-1]
    np.testing.assert_array_equal(framed.labels, [0, 1])


def test_several_features_are_framed_step_by_step():
    framed = frame_dataset(_classes([4, 4], features=2), 2)
    np.testing.assert_array_equal(framed.sequences[0], [[0, 1, 2, 3], [4, 5, 6, 7]])
    assert framed.feature_names == ["x1@0", "x2@0", "x1@1", "x2@1"]


def test_only_classification_is_framed_and_only_once():
    forecast = SequenceDataset(sequences=[np.zeros((20, 1), np.float32)], task="forecast")
    with pytest.raises(DataError, match="sequence classification"):
        frame_dataset(forecast, 4)
    with pytest.raises(DataError, match="already framed"):
        frame_dataset(frame_dataset(_classes([8, 8]), 2), 2)
    with pytest.raises(DataError, match="positive integer"):
        frame_dataset(_classes([8, 8]), 0)
    assert frame_dataset(forecast, 1) is forecast


def test_the_loading_option_frames_and_the_test_file_is_loaded_with_the_same_frame(tmp_path):
    train, test = tmp_path / "Toy_TRAIN.ts", tmp_path / "Toy_TEST.ts"
    train.write_text(HEADER + "1,2,3,4,5,6,7,8:a\n8,7,6,5,4,3,2,1:b\n1,1,2,2,3,3,4,4:a\n")
    test.write_text(HEADER + "2,3,4,5,6,7,8,9:a\n9,8,7,6,5,4,3,2:b\n")
    ds = load_sequences(train, frame=4)
    assert ds.frame == 4 and ds.n_features == 4 and list(ds.lengths) == [2, 2, 2]
    scored = load_test_set(test, ds)  # no option given: framed like the training data
    assert scored.frame == 4 and scored.feature_names == ds.feature_names
    with pytest.raises(DataError, match="frame must be a positive integer"):
        load_sequences(train, frame=-2)


def test_framed_data_refuses_another_task_naming_the_frame():
    framed = frame_dataset(_classes([8, 8]), 4)
    with pytest.raises(DataError, match="frames of 4 steps.*not 'forecast'.*steps per frame 1"):
        framed.with_task("forecast")  # was: a forecast of the next frame, recorded as framed for classification
    assert framed.with_task("classify_sequence").frame == 4
