"""One flag table for the window and headless mode: training settings and the data flags (issue 10)."""
import os

import numpy as np
import pytest

import main
from gui import headless
from gui.cli_flags import config_changes, dataset_paths, flag_for, load_options


def test_the_window_and_headless_mode_read_flags_the_same_way(monkeypatch):
    from engine.training import TrainingConfig
    from gui.app import config_from_args

    monkeypatch.setenv("RNNSCOPE_BACKEND", " C ")
    args = main.build_parser().parse_args(["--hidden", "8,4", "--lr", "0.05", "--epochs", "7"])
    changes = config_changes(args)
    assert changes == {"hidden_sizes": (8, 4), "learning_rate": 0.05, "epochs": 7, "backend": "c"}
    assert config_from_args(TrainingConfig(), args) == TrainingConfig(**changes)


def test_flag_for_names_the_command_line_flag():
    assert flag_for("hidden_sizes") == "--hidden"
    assert flag_for("batch_size") == "--batch-size"
    with pytest.raises(KeyError, match="no command-line flag"):
        flag_for("not_a_field")


FLAGS = ["--nonfinite", "interpolate", "--delimiter", ";", "--no-header", "--target-column", "2",
         "--skip-non-numeric", "--layout", "columns"]


def test_each_data_flag_becomes_a_loading_option():
    args = main.build_parser().parse_args(FLAGS)
    assert load_options(args) == {"nonfinite": "interpolate", "delimiter": ";", "has_header": False,
                                  "target_column": 2, "skip_non_numeric": True, "layout": "columns"}
    args = main.build_parser().parse_args(["--header", "--target-column", "price", "--index-columns", "none",
                                           "--max-vocab", "none", "--decimal", ","])
    assert load_options(args) == {"has_header": True, "target_column": "price", "index_columns": [],
                                  "max_vocab": None, "decimal": ","}
    args = main.build_parser().parse_args(["--target-column", "a,3", "--max-length", "500"])
    assert load_options(args) == {"target_column": ["a", 3], "max_length": 500}
    assert load_options(main.build_parser().parse_args([])) == {}
    assert flag_for("has_header") == "--header"
    assert flag_for("skip_non_numeric") == "--skip-non-numeric"


def test_every_flag_a_loading_error_can_name_is_a_flag_of_the_parser():
    from engine.data.options import OPTIONS

    parser_flags = {s for action in main.build_parser()._actions for s in action.option_strings}
    for option in OPTIONS.values():
        for flag in (option.flag or "").split("/"):
            if flag:
                assert flag in parser_flags, f"{option.key}: {flag} is named in hints but not parsed"


def test_headless_errors_name_the_flag_that_fixes_them(tmp_path, capsys):
    bad = tmp_path / "na.csv"
    bad.write_text("value\n1\nn/a\n3\n4\n5\n6\n")
    code, printed = _headless([str(bad), "--out", str(tmp_path / "out")], capsys)
    assert code == 2
    assert printed.err == ("rnn-scope: error: na.csv, line 3: 'n/a' is not a number (column 'value'); "
                           "remove it, or pass --skip-non-numeric\n")


@pytest.fixture
def gappy_csv(tmp_path):
    """A ';'-separated series with a missing value: refused by default, fine with the flags."""
    values = [f"{v:.4f}" for v in np.sin(np.arange(40) / 3.0)]
    values[7] = "nan"
    path = tmp_path / "gappy.csv"
    path.write_text("t;value\n" + "".join(f"{i};{v}\n" for i, v in enumerate(values)))
    return path


def _headless(argv, capsys):
    code = headless.run_headless(main.build_parser().parse_args(["--headless", *argv]))
    return code, capsys.readouterr()


def test_headless_passes_the_data_flags_to_the_loader(gappy_csv, tmp_path, capsys):
    common = [str(gappy_csv), "--epochs", "1", "--hidden", "3", "--no-plots", "--quiet"]
    code, printed = _headless([*common, "--out", str(tmp_path / "a")], capsys)
    assert code == 2 and "gappy.csv" in printed.err and printed.err.count("\n") == 1
    code, printed = _headless([*common, "--out", str(tmp_path / "b"), "--nonfinite", "interpolate",
                               "--target-column", "value"], capsys)
    assert code == 0, printed.err
    code, printed = _headless([*common, "--out", str(tmp_path / "c"), "--nonfinite", "drop",
                               "--target-column", "nope"], capsys)
    assert code == 2 and "nope" in printed.err


def test_the_window_opens_the_file_with_the_same_options(qtbot, gappy_csv, auto_dialogs):
    from gui.app import setup_window

    args = main.build_parser().parse_args([str(gappy_csv), "--nonfinite", "interpolate", "--hidden", "3"])
    window = setup_window(args)
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: window.dataset is not None and window.dataset.name == "gappy", timeout=30000)
        assert window.dataset_options == {"nonfinite": "interpolate"}
        assert window.controls.config().hidden_sizes == (3,)
    finally:
        window.close()


def test_a_bundled_sample_name_opens_the_sample_unless_the_file_exists(tmp_path, monkeypatch):
    import resources

    monkeypatch.chdir(tmp_path)
    args = main.build_parser().parse_args(["words.txt", "--sample", "waveforms_TRAIN"])
    files, notes = dataset_paths(args)
    assert files == [resources.sample_path("words.txt"), resources.sample_path("waveforms_TRAIN.tsv")]
    assert notes == ["words.txt: no such file here, so the bundled sample words.txt is opened"]
    (tmp_path / "words.txt").write_text("my own words\n")
    files, notes = dataset_paths(main.build_parser().parse_args(["words.txt"]))
    assert files == ["words.txt"] and notes == []
    assert dataset_paths(main.build_parser().parse_args([]))[0] == [resources.default_dataset_path()]
    assert os.path.isabs(files[0]) is False


def test_saliency_step_is_one_flag_headless_refuses_a_step_the_probe_lacks(gappy_csv, tmp_path, capsys):
    from engine.run_reader import open_run
    from gui.cli_flags import saliency_step

    parse = main.build_parser().parse_args
    assert saliency_step(parse([])) is None and saliency_step(parse(["--saliency-step", "-1"])) is None
    assert saliency_step(parse(["--saliency-step", "3"])) == 3
    with pytest.raises(SystemExit):
        parse(["--saliency-step", "-2"])
    capsys.readouterr()
    common = [str(gappy_csv), "--nonfinite", "interpolate", "--epochs", "1", "--hidden", "3", "--quiet"]
    code, printed = _headless([*common, "--out", str(tmp_path / "far"), "--saliency-step", "10000"], capsys)
    assert code == 2 and printed.err.count("\n") == 1, printed.err
    assert "--saliency-step 10000: the probe sequence has" in printed.err and "-1 = the last" in printed.err
    assert not (tmp_path / "far").exists()  # refused before the folder is touched
    code, printed = _headless([*common, "--out", str(tmp_path / "ok"), "--saliency-step", "3"], capsys)
    assert code == 0, printed.err
    reader = open_run(tmp_path / "ok")
    assert reader.insight(reader.insight_epochs()[-1]).step == 3  # saliency.png explains step 3, not the last
    assert (tmp_path / "ok" / "saliency.png").exists()


def test_the_window_honours_the_saliency_step_and_says_when_the_probe_lacks_it(qtbot, gappy_csv, auto_dialogs):
    from gui.app import setup_window

    args = main.build_parser().parse_args([str(gappy_csv), "--nonfinite", "interpolate", "--hidden", "3",
                                           "--epochs", "1", "--saliency-step", "10000"])
    window = setup_window(args)
    qtbot.addWidget(window)
    try:
        assert window.insight_views.views["saliency"].chosen_step() == 10000
        qtbot.waitUntil(lambda: window.dataset is not None, timeout=30000)
        window.show()
        window.docks["saliency"].raise_()
        window.toggle_run()
        views = window.insight_views
        qtbot.waitUntil(lambda: views.store.latest is not None, timeout=90_000)
        last = views.store.latest.saliency.size - 1
        assert views.store.latest.step == last
        assert window.last_status == f"--saliency-step 10000 refused: the probe has {last + 1} steps"
        views.draw_all()
        assert views.views["saliency"].step_spin.value() == last  # the box shows the step explained
    finally:
        window.close()
