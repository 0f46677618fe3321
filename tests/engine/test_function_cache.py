"""engine.function_cache: a new model of the same shapes reuses the compiled graphs (no rewrites)."""

import numpy as np
import pytest

from engine import function_cache, step_store
from engine.training import Trainer, TrainingConfig
from tests.engine.test_training import SMALL, classify_dataset, sine_dataset


@pytest.fixture
def fresh_cache(monkeypatch):
    monkeypatch.setenv(step_store.ENV_SWITCH, "off")  # JAX's training step would come from the step store
    cache = function_cache.FunctionCache()
    monkeypatch.setattr(function_cache, "functions", cache)
    return cache


def _losses(trainer, epochs=2):
    out = []
    for report in trainer.epochs():
        out.append((report.train_loss, report.val_loss))
        if len(out) == epochs:
            break
    return out


@pytest.mark.parametrize("cell", ["elman", "lstm"])
def test_a_second_model_of_the_same_shapes_reuses_the_graphs_and_trains_as_if_compiled_anew(fresh_cache, cell):
    config = TrainingConfig(**{**SMALL, "epochs": 2}, cell=cell)
    first = Trainer(config, sine_dataset())
    first_losses = _losses(first)
    second = Trainer(config.replace(seed=1), sine_dataset())
    reused = _losses(second)
    assert fresh_cache.reused == 2  # f_train and f_loss: copies, PyTensor's rewrites skipped
    fresh_cache.clear()
    anew = _losses(Trainer(config.replace(seed=1), sine_dataset()))
    assert fresh_cache.reused == 2
    np.testing.assert_array_equal(reused, anew)
    assert reused != first_losses
    # the copy trains its own weights: the first model's stay where its own training left them
    before = first._model.get_params()
    _losses(second, 1)
    after = first._model.get_params()
    for name in before:
        np.testing.assert_array_equal(before[name], after[name])


@pytest.mark.parametrize("cell", ["gru", "lstm"])  # the cells whose gate blocks are cut (elman: the test below)
def test_a_model_of_another_hidden_size_reuses_the_graphs_and_trains_as_if_compiled_anew(fresh_cache, cell):
    """A resize skips the graph build and PyTensor's rewrites (issue 10: resize latency): the
    graph reads the hidden sizes from the shared variables' shapes, so only XLA compiles anew."""
    config = TrainingConfig(**{**SMALL, "epochs": 1, "hidden_sizes": (6, 4)}, cell=cell)
    _losses(Trainer(config, sine_dataset()))
    resized = config.replace(hidden_sizes=(5, 7))
    reused = _losses(Trainer(resized, sine_dataset()))
    assert fresh_cache.reused == 2  # f_train and f_loss
    fresh_cache.clear()
    anew = _losses(Trainer(resized, sine_dataset()))
    assert fresh_cache.reused == 2
    np.testing.assert_array_equal(reused, anew)


def test_other_structures_or_optimizers_compile_their_own_graphs(fresh_cache):
    config = TrainingConfig(**{**SMALL, "epochs": 1})
    _losses(Trainer(config, sine_dataset()), 1)
    _losses(Trainer(config.replace(hidden_sizes=(5, 5)), sine_dataset()), 1)  # another number of layers
    assert fresh_cache.reused == 0
    _losses(Trainer(config.replace(optimizer="sgd"), sine_dataset()), 1)
    assert fresh_cache.reused == 1  # sgd's validation graph is adam's: only f_loss is shared
    _losses(Trainer(config, classify_dataset()), 1)
    assert fresh_cache.reused == 1


def test_a_reused_graph_can_still_be_printed_for_the_graph_dock(fresh_cache):
    from engine.graph_text import describe_training

    config = TrainingConfig(**{**SMALL, "epochs": 1})
    _losses(Trainer(config, sine_dataset()), 1)
    second = Trainer(config.replace(seed=1), sine_dataset())
    _losses(second, 1)
    assert fresh_cache.reused == 2
    graph = describe_training(second)  # Function.copy left profile=False: dprint raised
    assert graph is not None and graph.n_nodes > 0 and "Scan" in graph.text


def test_a_copy_takes_the_jax_function_of_the_graph_it_copies(fresh_cache):
    """A Reset or resize does not write the JAX function again; JAX traces only new shapes."""
    from engine import backend

    config = TrainingConfig(**{**SMALL, "epochs": 1})
    first = Trainer(config, sine_dataset())
    _losses(first, 1)
    second = Trainer(config.replace(hidden_sizes=(5,)), sine_dataset())
    _losses(second, 1)
    assert fresh_cache.reused == 2
    if backend.info().name == "jax":
        original, copy = first.f_train.maker.linker, second.f_train.maker.linker
        assert copy is not original and copy.jitted is original.jitted
