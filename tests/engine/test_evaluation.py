"""engine.evaluation: the test file is checked against the training data and scored with the
training split's normalisation, per task."""

import math

import numpy as np
import pytest

from engine.data import DataError, SequenceDataset
from engine.evaluation import TestScorer, check_compatible, load_test_set, sibling_test_path
from engine.training import Trainer, TrainingConfig

SMALL = dict(hidden_sizes=(8,), batch_size=8, epochs=2, learning_rate=1e-2)


def blobs(n=30, classes=("a", "b", "c"), features=2, seed=0, name="train", longest=8):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(classes)
    seqs = [rng.standard_normal((int(rng.integers(3, longest + 1)), features)) + 3 * lab for lab in labels]
    return SequenceDataset(sequences=seqs, labels=labels, task="classify_sequence", class_names=list(classes),
                           name=name, source_paths=[f"{name}.csv"])


def chars(text, name):
    vocab = sorted(set(text))
    ids = np.array([vocab.index(ch) for ch in text], np.int32)
    return SequenceDataset(sequences=[ids], vocabulary=vocab, task="next_token", name=name,
                           source_paths=[f"{name}.txt"])


def test_mismatched_features_name_both_files():
    train, test = blobs(features=2), blobs(features=3, name="other")
    with pytest.raises(DataError, match=r"other\.csv.*train\.csv.*features"):
        check_compatible(test, train)


def test_unknown_class_names_both_files():
    train, test = blobs(), blobs(classes=("a", "b", "z"), name="other")
    with pytest.raises(DataError, match=r"other\.csv does not match training file train\.csv.*'z'"):
        check_compatible(test, train)


def test_other_task_and_foreign_characters_are_refused():
    with pytest.raises(DataError, match="task"):
        check_compatible(chars("abcabc", "t"), blobs())
    with pytest.raises(DataError, match=r"u\.txt.*'x'"):
        check_compatible(chars("abx", "u"), chars("abcabc", "t"))


def test_classes_are_matched_by_name_and_characters_by_character():
    train = blobs()
    test = blobs(classes=("c", "a", "b"), name="other")  # same classes, another order
    fixed = check_compatible(test, train)
    assert fixed.class_names == ["a", "b", "c"]
    assert [fixed.class_names[i] for i in fixed.labels] == [test.class_names[i] for i in test.labels]
    text = check_compatible(chars("ca", "u"), chars("abcabc", "t"))  # ids follow the training vocabulary
    assert text.vocabulary == ["a", "b", "c"] and text.sequences[0].tolist() == [2, 0]


def test_classification_scores_accuracy_per_class_and_confusion():
    train = blobs(n=36)
    trainer = Trainer(TrainingConfig(**SMALL), train)
    list(trainer.epochs())
    test = blobs(n=12, seed=1, name="test", longest=12)  # longer than any training sequence
    result = TestScorer(trainer, test).score()
    assert result.n == 12 and result.epoch == 2
    confusion = np.array(result.confusion)
    assert confusion.shape == (3, 3) and confusion.sum() == 12
    assert result.accuracy == pytest.approx(np.trace(confusion) / 12)
    assert set(result.per_class_accuracy) == {"a", "b", "c"}
    # the loss is the mean cross-entropy of the predicted probabilities
    probs = np.stack([trainer.predict(s) for s in test.sequences])
    expected = -np.mean(np.log(probs[np.arange(12), test.labels]))
    assert result.loss == pytest.approx(expected, rel=1e-3)
    assert set(result.to_json()) >= {"accuracy", "loss", "n", "epoch"}


def test_forecast_errors_are_in_data_units():
    rng = np.random.default_rng(0)
    seqs = [(1000 + 50 * np.sin(0.3 * np.arange(40) + p))[:, None] for p in rng.uniform(0, 6, 10)]
    train = SequenceDataset(sequences=seqs, task="forecast", feature_names=["v"], target_names=["v"])
    trainer = Trainer(TrainingConfig(**SMALL), train)
    list(trainer.epochs())
    result = TestScorer(trainer, SequenceDataset(sequences=seqs[:3], task="forecast", feature_names=["v"],
                                                 target_names=["v"])).score()
    # one-step forecasts through the public predict(), in data units
    errors = np.concatenate([trainer.predict(s)[:-1, 0] - s[1:, 0] for s in seqs[:3]])
    assert result.n == 3 * 39 and result.accuracy is None
    assert result.mse == pytest.approx(np.mean(errors ** 2), rel=1e-3)
    assert result.mae == pytest.approx(np.mean(np.abs(errors)), rel=1e-3)


def test_text_reports_nats_and_bits_per_character():
    train = chars("abcabcabd " * 30, "t")
    trainer = Trainer(TrainingConfig(**SMALL), train)
    list(trainer.epochs())
    result = TestScorer(trainer, chars("abcab dab", "u")).score()
    assert result.n == 8  # every character but the last has a target
    assert result.bits_per_char == pytest.approx(result.loss / math.log(2))
    assert 0 <= result.accuracy <= 1


def test_load_test_set_uses_the_training_rules_and_sibling_is_offered(tmp_path):
    body = "".join(f"{i % 2 + 1}\t" + "\t".join(str(v + i % 2) for v in range(6)) + "\n" for i in range(8))
    (tmp_path / "X_TRAIN.tsv").write_text(body)
    (tmp_path / "X_TEST.tsv").write_text(body)
    from engine.data import load_sequences
    train = load_sequences(str(tmp_path / "X_TRAIN.tsv"))
    test = load_test_set(str(tmp_path / "X_TEST.tsv"), train)
    assert test.task == train.task and test.class_names == train.class_names
    assert sibling_test_path(tmp_path / "X_TRAIN.tsv") == str(tmp_path / "X_TEST.tsv")
    assert sibling_test_path(tmp_path / "X_TEST.tsv") is None
