"""One flag table for the window and headless mode."""
import pytest

from gui.cli_flags import config_changes, flag_for


def test_the_window_and_headless_mode_read_flags_the_same_way(monkeypatch):
    import main
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
    with pytest.raises(KeyError):
        flag_for("not_a_field")
