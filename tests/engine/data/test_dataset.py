"""SequenceDataset is the one place the dataset rules are checked, also when built directly."""

import numpy as np
import pytest

from engine.data import DataError, SequenceDataset


@pytest.mark.parametrize("bad, words", [
    (np.nan, "NaN in sequence 2, step 3, feature 1"),
    (np.inf, "an infinite value in sequence 2, step 3, feature 1"),
    (1e39, "too large for float32"),
])
def test_directly_built_dataset_refuses_nonfinite_values(bad, words):
    second = np.arange(5.0)
    second[2] = bad
    with pytest.raises(DataError) as err:
        SequenceDataset(sequences=[np.arange(4.0), second], name="mine")
    message = str(err.value)
    assert message.startswith("mine: ") and words in message and "; " in message, message


@pytest.mark.parametrize("kwargs, words", [
    (dict(sequences=[np.zeros((3, 1)), np.zeros((3, 2))]), "different numbers of features"),
    (dict(sequences=[np.zeros(3)], task="next_token"), "next_token needs text"),
    (dict(sequences=[np.zeros(3), np.ones(3)], task="classify_sequence"), "has no class labels"),
    (dict(sequences=[np.zeros(3), np.ones(3)], task="classify_sequence", labels=[0, 0]), "only one class"),
    (dict(sequences=[np.zeros(3), np.ones(1)]), "sequence 2 has only 1 step(s)"),
    (dict(sequences=[[0, 1, 2]], vocabulary=["a", "b", "c"], task="forecast"), "only the task 'next_token'"),
    (dict(sequences=[np.zeros(3)], target_names=["nope"]), "target 'nope' is not a feature"),
])
def test_dataset_rules_say_what_to_do(kwargs, words):
    with pytest.raises(DataError) as err:
        SequenceDataset(name="set", **kwargs)
    message = str(err.value)
    assert message.startswith("set: ") and words in message and "; " in message, message


def test_integer_and_float64_sequences_become_float32():
    ds = SequenceDataset(sequences=[np.arange(4), np.arange(3.0)])
    assert all(s.dtype == np.float32 and s.shape[1] == 1 for s in ds.sequences)


def test_nonfinite_advice_is_named_for_each_front_end():
    with pytest.raises(DataError) as err:
        SequenceDataset(sequences=[np.array([1.0, np.nan, 2.0])], name="mine")
    assert "--nonfinite drop" in err.value.render("cli")
    assert '"drop"' in err.value.render("dialog") and "nonfinite='drop'" in str(err.value)
