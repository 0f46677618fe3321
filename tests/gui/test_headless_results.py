"""Headless --suggested, --test/--test-every, --patience and steps.csv, through main.py's parser."""
import csv
import json
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import main  # noqa: E402
from engine.progress import StepReport  # noqa: E402
from gui.headless_results import StepsCsv, suggested_changes  # noqa: E402


def _ucr(path, n, seed, classes=(1, 2), length=12):
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        for i in range(n):
            label = classes[i % len(classes)]
            values = np.sin(np.arange(length) * (0.3 * label)) + 0.1 * rng.standard_normal(length)
            f.write("\t".join([str(label)] + [f"{v:.4f}" for v in values]) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ucr")
    return _ucr(folder / "Toy_TRAIN.tsv", 20, 0), _ucr(folder / "Toy_TEST.tsv", 10, 1)


def test_test_file_is_scored_with_the_best_weights(pair, tmp_path, capsys):
    out = tmp_path / "out"
    code = main.main([pair[0], "--headless", "--test", pair[1], "--test-every", "2", "--suggested", "--epochs", "4",
                      "--hidden", "8", "--out", str(out)])
    printed = capsys.readouterr().err  # progress and the header go to stderr
    assert code == 0
    header = [line for line in printed.splitlines() if line.startswith("suggested:")]
    assert len(header) == 1 and "given explicitly: epochs, hidden_sizes" in header[0]
    assert "(best weights, epoch" in printed
    record = json.loads((out / "run.json").read_text())["test"]
    assert record["n"] == 10 and 0 <= record["accuracy"] <= 1 and record["weights"] == "best"
    assert 1 <= record["epoch"] <= 4 and np.array(record["confusion"]).sum() == 10
    assert record["file"] == pair[1]
    with open(out / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["test_loss"] != "" for r in rows] == [False, True, False, True]  # every 2 epochs
    assert all(r["test_accuracy"] == "" or 0 <= float(r["test_accuracy"]) <= 1 for r in rows)
    with open(out / "steps.csv", newline="") as f:
        assert next(csv.reader(f)) == ["epoch", "step", "wall_s", "train_loss", "steps_per_s"]


def test_a_mismatched_test_file_writes_no_run_folder(pair, tmp_path, capsys):
    other = _ucr(tmp_path / "Other_TEST.tsv", 6, 2, classes=(1, 3))
    out = tmp_path / "o"
    code = main.main([pair[0], "--headless", "--test", other, "--epochs", "1", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "Other_TEST.tsv" in err and "Toy_TRAIN.tsv" in err and "'3'" in err
    assert not out.exists()


def test_test_every_needs_a_test_file(pair, tmp_path, capsys):
    assert main.main([pair[0], "--headless", "--test-every", "2", "--out", str(tmp_path / "o")]) == 2
    assert "--test FILE" in capsys.readouterr().err


def test_patience_flag_stops_early(pair, tmp_path, capsys):
    code = main.main([pair[0], "--headless", "--epochs", "200", "--patience", "1", "--hidden", "4",
                      "--lr", "0.3", "--out", str(tmp_path / "o")])
    printed = capsys.readouterr().err
    assert code == 0 and "[early stop: no better validation loss since epoch" in printed


def test_patience_0_is_off_as_in_the_window_and_beats_the_suggestion(pair, tmp_path, capsys):
    """--patience 0 was refused ("must be greater than 0") while the window's control says 0 = off."""
    code = main.main([pair[0], "--headless", "--suggested", "--epochs", "3", "--patience", "0", "--hidden", "4",
                      "--out", str(tmp_path / "o")])
    printed = capsys.readouterr().err
    assert code == 0, printed
    assert "given explicitly" in printed and "patience" in printed and "early stop" not in printed
    assert json.loads((tmp_path / "o" / "run.json").read_text())["config"]["patience"] in (0, None)
    with pytest.raises(SystemExit) as refused:
        main.main([pair[0], "--headless", "--patience", "-1", "--out", str(tmp_path / "p")])
    assert refused.value.code == 2
    assert "must be 0 (off) or more" in capsys.readouterr().err


def test_explicit_flags_win_over_the_suggestion(pair):
    from engine.data import load_sequences

    merged, line = suggested_changes(load_sequences(pair[0]), {"cell": "elman", "batch_size": 3})
    assert merged["cell"] == "elman" and merged["batch_size"] == 3
    assert merged["patience"] >= 10 and "\n" not in line


def test_steps_csv_rows_are_flushed_as_they_come(tmp_path):
    steps = StepsCsv(tmp_path / "steps.csv")
    steps(StepReport(epoch=1, step=5, steps_in_epoch=10, wall_s=1.25, train_loss=0.5, steps_per_s=4.0))
    rows = list(csv.reader(open(tmp_path / "steps.csv")))  # readable before close: flushed
    steps.close()
    assert rows == [["epoch", "step", "wall_s", "train_loss", "steps_per_s"], ["1", "5", "1.25", "0.5", "4.0"]]


def test_json_summary_carries_the_test_result(pair, tmp_path, capsys):
    out = tmp_path / "out"
    code = main.main([pair[0], "--headless", "--test", pair[1], "--epochs", "2", "--hidden", "4",
                      "--json", "--quiet", "--out", str(out)])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["test"] == json.loads((out / "run.json").read_text())["test"]
    assert summary["test"]["n"] == 10 and 0 <= summary["test"]["accuracy"] <= 1


def test_suggested_frames_a_long_series_and_its_test_file_unless_frame_is_given(tmp_path, capsys):
    folder = tmp_path / "long"
    folder.mkdir()
    train = _ucr(folder / "Long_TRAIN.tsv", 20, 0, length=160)
    test = _ucr(folder / "Long_TEST.tsv", 10, 1, length=160)
    out = tmp_path / "out"
    code = main.main([train, "--headless", "--test", test, "--suggested", "--epochs", "1", "--hidden", "4",
                      "--out", str(out)])
    printed = capsys.readouterr().err
    assert code == 0 and "frames of 5 steps" in printed  # 160 steps -> 32 frames of 5 values
    record = json.loads((out / "run.json").read_text())
    assert record["test"]["n"] == 10  # the test file was framed like the training file
    code = main.main([train, "--headless", "--suggested", "--frame", "1", "--epochs", "1", "--hidden", "4",
                      "--out", str(tmp_path / "out1")])
    header = [line for line in capsys.readouterr().err.splitlines() if line.startswith("suggested:")]
    assert code == 0 and "given explicitly: epochs, frame, hidden_sizes" in header[0]  # --frame given: it wins


def test_a_checkpoint_of_framed_data_loads_the_file_framed_as_it_was_trained(pair, tmp_path, capsys):
    first, second = tmp_path / "framed", tmp_path / "resumed"
    assert main.main([pair[0], "--headless", "--frame", "3", "--epochs", "1", "--hidden", "4", "--quiet",
                      "--out", str(first)]) == 0
    capsys.readouterr()
    code = main.main([pair[0], "--headless", "--checkpoint", str(first / "checkpoint.npz"), "--epochs", "2",
                      "--out", str(second)])  # no --frame: was a shape-mismatch error
    printed = capsys.readouterr().err
    assert code == 0, printed
    assert "data reframed as the checkpoint was trained: frames of 3 steps (was unframed" in printed
    assert json.loads((second / "run.json").read_text())["dataset"]["frame"] == 3
