"""engine.precompile: a training step compiled ahead (while the user is asked about a new run)
leaves nothing for XLA to compile when the run starts, and a trainer made ahead trains as a new one."""

import jax._src.compiler as jax_compiler
import numpy as np
import pytest

from engine import function_cache, precompile, step_store
from engine.training import Trainer, TrainingConfig
from tests.engine.test_training import SMALL, sine_dataset

CONFIG = dict(SMALL, cell="gru", epochs=1)


@pytest.fixture
def caches(tmp_path, monkeypatch):
    """Empty caches of the process (function cache, step store) and a count of XLA's compiles."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(function_cache, "functions", function_cache.FunctionCache())
    step_store.forget()
    compiles = []
    original = jax_compiler.backend_compile_and_load

    def counted(*args, **kwargs):
        compiles.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(jax_compiler, "backend_compile_and_load", counted)
    yield compiles
    step_store.forget()


def _first_step_compiles(compiles, config) -> int:
    trainer = Trainer(config, sine_dataset())
    trainer._ensure_training_functions()
    before = len(compiles)
    x, mask, y = trainer._train.batch(list(range(trainer.batch_size)))
    float(trainer.f_train(x, mask, y)[0])
    return len(compiles) - before


@pytest.mark.parametrize("store", ["on", "off"])
def test_a_step_compiled_ahead_leaves_nothing_to_compile_for_the_run(caches, monkeypatch, store):
    monkeypatch.setenv(step_store.ENV_SWITCH, store)
    Trainer(TrainingConfig(**{**CONFIG, "hidden_sizes": (6,)}), sine_dataset())._ensure_training_functions()
    resized = TrainingConfig(**{**CONFIG, "hidden_sizes": (9,)})
    trainer, seconds = precompile.training_step(resized, sine_dataset())
    assert seconds > 0 and caches  # XLA compiled the new shape ahead
    # with the store, the step is compiled when it is made: the trainer took no step and is the run's
    assert (trainer is not None) == (store == "on")
    before = len(caches)
    assert _first_step_compiles(caches, resized) == 0
    assert len(caches) == before
    # without the compile ahead, the same new shape compiles on its way to the first step
    other = TrainingConfig(**{**CONFIG, "hidden_sizes": (11,)})
    compiled_on_the_way = len(caches)
    Trainer(other, sine_dataset())._ensure_training_functions()
    assert _first_step_compiles(caches, other) + len(caches) - compiled_on_the_way > 0


def test_a_trainer_made_ahead_trains_as_a_new_one(caches, monkeypatch):
    monkeypatch.setenv(step_store.ENV_SWITCH, "on")
    config = TrainingConfig(**{**CONFIG, "epochs": 2, "hidden_sizes": (7,)})
    ahead, _ = precompile.training_step(config, sine_dataset())
    assert ahead is not None and ahead.epoch == 0 and not ahead.history
    losses_ahead = [(r.train_loss, r.val_loss) for r in ahead.epochs()]
    losses_new = [(r.train_loss, r.val_loss) for r in Trainer(config, sine_dataset()).epochs()]
    np.testing.assert_array_equal(losses_ahead, losses_new)

