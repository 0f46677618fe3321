"""One set of size limits, enforced by TrainingConfig for every way a config is made."""
import pytest

from engine import limits
from engine.training import TrainingConfig


@pytest.mark.parametrize("changes, message", [
    (dict(hidden_sizes=(100000,)), "100000 units in one layer is too many; each layer takes 1 to 4096"),
    (dict(hidden_sizes=(4,) * 9), "9 layers is too many; use at most 8"),
    (dict(batch_size=limits.MAX_BATCH_SIZE + 1), "batch_size 65537 is too large"),
    (dict(epochs=2 ** 40), "epochs 1099511627776 is too many"),
    (dict(embedding_size=10 ** 6), "embedding_size 1000000 is too large"),
])
def test_training_config_refuses_sizes_beyond_the_limits(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainingConfig(**changes)


def test_the_limits_themselves_are_accepted():
    TrainingConfig(hidden_sizes=(limits.MAX_HIDDEN_UNITS,) * limits.MAX_LAYERS, batch_size=limits.MAX_BATCH_SIZE,
                   epochs=limits.MAX_EPOCHS, embedding_size=limits.MAX_EMBEDDING_SIZE)


def test_the_window_controls_use_the_same_limits():
    from gui import controls

    assert (controls.MAX_LAYERS, controls.MAX_UNITS) == (limits.MAX_LAYERS, limits.MAX_HIDDEN_UNITS)
    with pytest.raises(ValueError, match="9 layers is too many; use at most 8"):
        controls.parse_hidden_sizes("4,4,4,4,4,4,4,4,4")
    assert controls.parse_hidden_sizes("4096," * 8) == (4096,) * 8
