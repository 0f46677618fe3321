"""The fork dialog's answer: only the settings that differ, and a clear word on a bad field."""
import pytest

from gui.fork_dialog import ForkDialog, ForkSource, default_epochs, parse_choice

SOURCE = ForkSource("/runs/a", "sine · gru (16)", 200, 150, 0.25,
                    {"learning_rate": 0.003, "clip_norm": 5.0, "momentum": 0.9, "epochs": 200})
SAME = {"learning_rate": "0.003", "clip_norm": "5", "momentum": "0.9", "epochs": "400"}


def test_only_changed_settings_are_sent_and_zero_clip_means_off():
    choice = parse_choice(SOURCE, "best", {**SAME, "learning_rate": "3e-4", "clip_norm": "0"})
    assert choice.checkpoint == "best"
    assert choice.changes == {"learning_rate": 3e-4, "clip_norm": None, "epochs": 400}


@pytest.mark.parametrize("field, text, words", [("learning_rate", "fast", "not a number"),
                                                ("learning_rate", "0", "greater than 0"),
                                                ("clip_norm", "-1", ">= 0"),
                                                ("epochs", "200", "starts at epoch 200"),
                                                ("patience", "-3", ">= 0"), ("patience", "soon", "not a number")])
def test_a_bad_field_is_named(field, text, words):
    with pytest.raises(ValueError, match=words) as info:
        parse_choice(SOURCE, "latest", {**SAME, field: text})
    assert str(info.value).startswith(field.replace("_", " "))


def test_a_finished_run_forks_with_epochs_left_to_train(qtbot):
    assert default_epochs(SOURCE, 200) == 400 and default_epochs(SOURCE, 150) == 200
    dialog = ForkDialog(SOURCE)
    qtbot.addWidget(dialog)
    assert dialog.fields["epochs"].text() == "400" and dialog.checkpoint_box.count() == 2


def test_patience_is_a_forked_setting_and_zero_means_off(qtbot):
    assert parse_choice(SOURCE, "latest", {**SAME, "patience": "20"}).changes == {"patience": 20, "epochs": 400}
    assert "patience" not in parse_choice(SOURCE, "latest", {**SAME, "patience": "0"}).changes
    dialog = ForkDialog(SOURCE)
    qtbot.addWidget(dialog)
    assert dialog.fields["patience"].text() == "0"
