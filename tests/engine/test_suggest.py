"""engine.suggest: the one rule's outputs on edge shapes (valid settings, sensible direction)."""

import numpy as np
import pytest

from engine.data import SequenceDataset
from engine.suggest import MAX_EPOCHS, MAX_HIDDEN, MIN_EPOCHS, MIN_HIDDEN, suggest, training_examples
from engine.training import TrainingConfig


def classify(n, length, classes=2, features=1):
    rng = np.random.default_rng(0)
    labels = np.arange(n) % classes
    seqs = [rng.standard_normal((length, features)).astype(np.float32) for _ in range(n)]
    return SequenceDataset(sequences=seqs, labels=labels, task="classify_sequence",
                           class_names=[f"c{i}" for i in range(classes)])


def series(length, n=1):
    seqs = [np.sin(np.arange(length) * 0.1)[:, None].astype(np.float32) for _ in range(n)]
    return SequenceDataset(sequences=seqs, task="forecast")


def text(n_chars, vocab=40):
    ids = (np.arange(n_chars) * 7) % vocab
    return SequenceDataset(sequences=[ids.astype(np.int32)], task="next_token",
                           vocabulary=[chr(33 + i) for i in range(vocab)])


EDGE_SHAPES = {
    "one sequence": series(50),
    "tiny": classify(3, 4),
    "very long": series(2_000_000),
    "many classes": classify(400, 30, classes=200),
    "text": text(200_000),
    "tiny text": text(30, vocab=5),
    "archive-like": classify(50, 150),
}


@pytest.mark.parametrize("name", list(EDGE_SHAPES))
def test_suggestion_is_a_valid_config_within_bounds(name):
    dataset = EDGE_SHAPES[name]
    s = suggest(dataset)
    config = TrainingConfig(**s.settings)  # every suggestion is accepted as it is
    assert MIN_HIDDEN <= config.hidden_sizes[0] <= MAX_HIDDEN
    assert MIN_EPOCHS <= config.epochs <= MAX_EPOCHS
    assert 1 <= config.batch_size <= max(s.examples, 1)
    assert 1e-3 <= config.learning_rate <= 4e-3
    assert s.patience >= 10
    assert "\n" not in s.reason and s.reason in s.describe()


def test_text_gets_an_lstm_numeric_data_a_gru():
    assert suggest(EDGE_SHAPES["text"]).settings["cell"] == "lstm"
    assert suggest(EDGE_SHAPES["archive-like"]).settings["cell"] == "gru"


def test_small_data_gets_many_epochs_big_data_few():
    small, big = suggest(EDGE_SHAPES["archive-like"]), suggest(text(5_000_000))
    assert small.settings["epochs"] > 10 * big.settings["epochs"]
    assert MIN_EPOCHS <= big.settings["epochs"] <= 5  # about a thousand steps per epoch already
    assert small.steps_per_epoch * small.settings["epochs"] >= 1000  # a useful number of steps


def test_many_classes_get_room_in_the_hidden_layer():
    s = suggest(EDGE_SHAPES["many classes"])
    assert s.settings["hidden_sizes"][0] >= 2 * 200 or s.settings["hidden_sizes"][0] == MAX_HIDDEN


def test_examples_count_windows_for_series_and_sequences_for_classes():
    assert training_examples(classify(50, 10)) == 40  # 20 % held out
    assert training_examples(series(10)) == 1  # one short series: one window
    # 2 000 000 steps of one series in windows of 256, 80 % for training
    assert training_examples(EDGE_SHAPES["very long"]) == int(np.ceil(1_999_999 * 0.8 / 256))


def test_the_rule_grows_with_the_data():
    sizes = [suggest(classify(n, 20)).settings for n in (10, 100, 1000)]
    assert [s["batch_size"] for s in sizes] == sorted(s["batch_size"] for s in sizes)
    assert [s["hidden_sizes"][0] for s in sizes] == sorted(s["hidden_sizes"][0] for s in sizes)


def test_a_few_dozen_series_get_small_batches_and_thousands_of_steps():
    # An archive-sized set (40 training series): 100 epochs at batch 32 were ~200 steps.
    s = suggest(EDGE_SHAPES["archive-like"])
    assert s.settings["batch_size"] == 4 and s.settings["hidden_sizes"] == (32,)
    assert s.steps_per_epoch * s.settings["epochs"] >= 2000
    assert s.settings["learning_rate"] == 1e-3


def test_many_short_series_get_big_batches_and_fewer_epochs():
    s = suggest(classify(5000, 24))
    assert s.settings["batch_size"] == 64 and s.settings["hidden_sizes"] == (MAX_HIDDEN,)
    assert s.settings["epochs"] < MAX_EPOCHS and s.patience < s.settings["epochs"]


def test_a_batch_never_exceeds_the_training_examples():
    s = suggest(classify(3, 4))  # 2 training sequences after the split
    assert s.examples == 2 and s.settings["batch_size"] == 2


def test_the_rule_reads_shapes_not_names_or_values():
    a, b = classify(50, 150), classify(50, 150)
    b.name = "GunPoint_TRAIN"
    b.sequences = [s * 100 + 7 for s in b.sequences]
    assert suggest(a).settings == suggest(b).settings


def test_a_long_univariate_series_to_classify_is_framed_to_about_32_steps():
    assert suggest(classify(36, 251)).frame == 8  # ArrowHead's shape
    assert suggest(classify(50, 150)).frame == 5
    assert "frames of 8 steps" in suggest(classify(36, 251)).describe()
    assert suggest(classify(50, 24)).frame == 1  # short: as it is
    assert suggest(classify(40, 251, features=6)).frame == 1  # several channels: as they are
    assert suggest(series(5000)).frame == 1  # a forecast predicts the next step, not the next frame
    from engine.data.framing import frame_dataset
    assert suggest(frame_dataset(classify(36, 251), 8)).frame == 8  # framed data keeps its frame


@pytest.mark.parametrize("length", [300, 1000, 5000])
def test_a_single_series_is_cut_into_enough_windows_for_its_batch(length):
    """Before: one 300-step series was one window of 256 steps, so the rule said batch 1."""
    dataset = series(length)
    s = suggest(dataset)
    windows = len(dataset.split(window=s.settings.get("window")).train)  # what training really gets
    assert s.settings["batch_size"] >= 4 and windows >= s.settings["batch_size"]
    assert s.examples == windows
    assert TrainingConfig(**s.settings).window == s.settings["window"]


def test_the_reason_counts_the_files_steps_and_then_the_frames():
    from engine.data.framing import frame_dataset

    assert "(longest 150 steps, 2 outputs)" in suggest(classify(50, 150)).reason
    framed = frame_dataset(classify(50, 150), 5)
    assert "longest 150 steps, as 30 frames of 5" in suggest(framed).reason  # was: "longest 30 steps"
