"""Trainer: config validation, the epoch generator, commands without recompiles, the
divergence guard, determinism, stop, and inference. Tiny models, few epochs."""

import threading

import numpy as np
import pytest

from engine import backend
from engine.data import SequenceDataset
from engine.batches import fixed_batches
from engine.training import EpochReport, Trainer, TrainingConfig


def sine_dataset(n=24, length=30, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    seqs = [np.sin(0.4 * t + p) + 0.05 * rng.standard_normal(length) for p in rng.uniform(0, 2 * np.pi, n)]
    return SequenceDataset(sequences=[s[:, None] for s in seqs], task="forecast", name="sine")


def classify_dataset(n=30, length=8, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    seqs = [rng.standard_normal((int(rng.integers(3, length + 1)), 2)) + lab for lab in labels]
    return SequenceDataset(sequences=seqs, labels=labels, task="classify_sequence", class_names=["a", "b", "c"],
                           name="blobs")


def text_dataset(text="abcabcabd " * 30):
    vocab = sorted(set(text))
    ids = np.array([vocab.index(ch) for ch in text], np.int32)
    return SequenceDataset(sequences=[ids], vocabulary=vocab, task="next_token", name="abc")


SMALL = dict(hidden_sizes=(8,), batch_size=8, epochs=3, learning_rate=1e-2)


# ----------------------------------------------------------------------------- config


@pytest.mark.parametrize("changes, message", [
    (dict(hidden_sizes=(64, 0)), "hidden_sizes must be positive integers, got (64, 0)"),
    (dict(hidden_sizes=()), "hidden_sizes must be positive integers, got ()"),
    (dict(cell="rnn"), "cell must be one of elman, gru, lstm, got 'rnn'"),
    (dict(optimizer="adagrad"), "optimizer must be one of sgd, momentum, rmsprop, adam, got 'adagrad'"),
    (dict(learning_rate=0), "learning_rate must be a positive number, got 0"),
    (dict(learning_rate=float("nan")), "learning_rate must be a positive number"),
    # finite in float64, inf once cast to the float32 the model computes in: nothing would train
    (dict(learning_rate=1e39), "learning_rate 1e+39 is too large for float32 (at most 3.4e+38)"),
    (dict(clip_norm=1e39), "clip_norm 1e+39 is too large for float32 (at most 3.4e+38)"),
    (dict(momentum=1.0), "momentum must be in [0, 1), got 1.0"),
    (dict(batch_size=0), "batch_size must be a positive integer, got 0"),
    (dict(batch_size=2.5), "batch_size must be a positive integer, got 2.5"),
    (dict(clip_norm=-1), "clip_norm must be a positive number, or None/0 to turn clipping off, got -1"),
    (dict(epochs=0), "epochs must be a positive integer, got 0"),
    (dict(validation_fraction=1.0), "validation_fraction must be between 0 and 1 (exclusive), got 1.0"),
    (dict(seed=-1), "seed must be a non-negative integer, got -1"),
    (dict(dtype="float16"), "dtype must be one of float32, float64, got 'float16'"),
    (dict(backend="cuda"), "backend must be one of jax, c, numba, got 'cuda'"),
    (dict(window=1), "window must be an integer >= 2, or None for the dataset default, got 1"),
    (dict(embedding_size=0), "embedding_size must be a positive integer, got 0"),
])
def test_config_validation_messages_are_actionable(changes, message):
    with pytest.raises(ValueError) as info:
        TrainingConfig(**changes)
    assert message in str(info.value)


def test_config_round_trip_and_normalisation():
    config = TrainingConfig(hidden_sizes=[16, np.int64(8)], clip_norm=None)
    assert config.hidden_sizes == (16, 8)
    assert TrainingConfig(hidden_sizes=12).hidden_sizes == (12,)
    assert TrainingConfig.from_dict(config.to_dict()) == config
    assert config.replace(cell="gru").cell == "gru" and config.cell == "elman"
    with pytest.raises(ValueError, match="unknown training settings"):
        TrainingConfig.from_dict({"cel": "gru"})
    with pytest.raises(ValueError, match="hidden_sizes"):
        config.replace(hidden_sizes=(0,))


def test_batches_have_fixed_size_and_cover_every_example_once():
    batches = fixed_batches(10, 4, np.arange(10)[::-1])
    assert [len(b) for b in batches] == [4, 4, 4]
    flat = np.concatenate(batches)
    assert sorted(flat[flat < 10].tolist()) == list(range(10))
    assert (flat == 10).sum() == 2  # the padding example


# ----------------------------------------------------------------------------- the generator


@pytest.fixture(scope="module")
def sine_run():
    """One small forecasting run shared by several tests (compiling is the slow part)."""
    trainer = Trainer(TrainingConfig(cell="gru", **SMALL), sine_dataset())
    before = backend.compile_count()
    gen = trainer.epochs()
    first = next(gen)
    compiles_after_first = backend.compile_count()
    trainer.update(learning_rate=5e-3)
    second = next(gen)
    trainer.update(learning_rate=2e-3)
    third = next(gen)
    with pytest.raises(StopIteration):
        next(gen)
    return dict(trainer=trainer, reports=[first, second, third], compiles_first=compiles_after_first - before,
                compiles_end=backend.compile_count() - before)


def test_reports_carry_losses_norms_probe_and_timings(sine_run):
    trainer, reports = sine_run["trainer"], sine_run["reports"]
    assert [r.epoch for r in reports] == [1, 2, 3]
    assert all(isinstance(r, EpochReport) for r in reports)
    assert reports[-1].train_loss < reports[0].train_loss
    assert all(np.isfinite(r.val_loss) and r.val_accuracy is None for r in reports)
    assert set(reports[0].grad_norms) == {"layer1", "head"} == set(reports[0].weight_norms)
    assert all(v > 0 for v in reports[0].grad_norms.values())
    probe_len = int(trainer.split.val.mask[0].sum())
    for r in reports:
        assert [h.shape for h in r.hidden] == [(probe_len, 8)]
        assert r.hidden[0].dtype == np.float32 and r.hidden[0].flags.owndata
        assert set(r.gates[0]) == {"z", "r"} and r.gates[0]["z"].shape == (probe_len, 8)
        assert np.all((r.gates[0]["z"] > 0) & (r.gates[0]["z"] < 1))
        assert r.step_ms > 0 and r.sequences_per_second > 0 and r.seconds > 0
        assert not r.diverged and r.skipped_steps == 0 and not r.stopped
        assert r.probe_text is None  # characters only for text data
    # Fresh copies: a GUI may keep or modify them.
    assert not np.shares_memory(reports[0].hidden[0], reports[1].hidden[0])
    assert reports[0].compile_seconds > 0 and reports[1].compile_seconds == 0 == reports[2].compile_seconds
    assert len(trainer.history) == 3 and trainer.history[2]["epoch"] == 3


def test_graphs_are_built_without_pytensor_creation_tracebacks():
    # PyTensor reads 8 stack frames' source lines for every variable it creates (tag.trace),
    # about a third of building a training graph; the engine's builds skip it, and restore the flag.
    import pytensor
    import pytensor.tensor as pt

    trainer = Trainer(TrainingConfig(**SMALL), sine_dataset())
    before = pytensor.config.traceback__limit
    built = trainer._compile(lambda: pt.vector("v") * 2)
    assert not any(built.tag.trace)
    assert pytensor.config.traceback__limit == before
    assert any((pt.vector("w") * 2).tag.trace)  # outside the engine's builds, PyTensor's default


def test_learning_rate_changes_never_recompile(sine_run):
    trainer, reports = sine_run["trainer"], sine_run["reports"]
    assert sine_run["compiles_first"] >= 2  # f_train, f_loss (and the probe)
    assert sine_run["compiles_end"] == sine_run["compiles_first"]
    # update(learning_rate=...) between epochs 1 and 2 and between epochs 2 and 3.
    assert [r.learning_rate for r in reports] == [pytest.approx(1e-2), pytest.approx(5e-3), pytest.approx(2e-3)]
    assert float(np.asarray(trainer._optimizer.hyper["lr"].get_value())) == pytest.approx(2e-3)
    assert trainer.n_compiles == sine_run["compiles_first"]


def test_forecast_inference(sine_run):
    trainer = sine_run["trainer"]
    x = np.sin(0.4 * np.arange(12))
    pred = trainer.predict(x)
    assert pred.shape == (12, 1) and pred.dtype == np.float32 and np.all(np.isfinite(pred))
    hidden = trainer.hidden_states(x[:, None])
    assert [h.shape for h in hidden] == [(12, 8)]
    # A sequence longer than the compiled window is processed in chunks with the state carried.
    long = np.sin(0.4 * np.arange(3 * trainer.inference_length + 5))
    assert trainer.predict(long).shape == (len(long), 1)
    np.testing.assert_allclose(trainer.predict(long)[:12], pred, rtol=1e-5, atol=1e-6)
    out = trainer.generate(7)
    assert out.shape == (7, 1) and np.all(np.isfinite(out))
    # Without a prime it continues the probe sequence after its last observed value, exactly
    # as if the whole raw sequence had been given as the prime.
    probe_raw = trainer.split.val_sequences[trainer.probe_index]
    np.testing.assert_allclose(out, trainer.generate(7, prime=probe_raw), rtol=1e-5, atol=1e-6)
    val = trainer.predict_validation()
    assert val["actual"].shape == val["forecast"].shape
    with pytest.raises(ValueError, match=r"expected a sequence of shape \(T, 1\)"):
        trainer.predict(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        trainer.predict(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match=r"expected a numeric sequence of shape \(T, 1\), got dict"):
        trainer.predict({"value": [1.0, 2.0]})


def test_same_seed_gives_identical_losses():
    losses = []
    for _ in range(2):
        trainer = Trainer(TrainingConfig(cell="elman", **SMALL), sine_dataset(n=12))
        losses.append([(r.train_loss, r.val_loss) for r in trainer.epochs()])
    assert losses[0] == losses[1]
    other = Trainer(TrainingConfig(cell="elman", seed=1, **{**SMALL, "epochs": 1}), sine_dataset(n=12))
    assert [(r.train_loss, r.val_loss) for r in other.epochs()][0] != losses[0][0]


def test_divergence_guard_at_huge_learning_rate_keeps_parameters_finite():
    # (exploding losses end each epoch after a few steps (engine.recovery): the weights reach
    # non-finite values, and the refused steps, only after some epochs)
    config = TrainingConfig(cell="elman", hidden_sizes=(8,), optimizer="sgd", learning_rate=1e3, clip_norm=None,
                            batch_size=4, epochs=12)
    trainer = Trainer(config, sine_dataset(n=16))
    reports = list(trainer.epochs())
    assert any(r.diverged for r in reports)
    assert sum(r.skipped_steps for r in reports) > 0
    params = trainer._model.get_params()
    assert all(np.all(np.isfinite(v)) for v in params.values())


def test_refused_step_leaves_parameters_and_optimizer_state_unchanged():
    trainer = Trainer(TrainingConfig(cell="lstm", hidden_sizes=(4,), optimizer="adam", batch_size=4, epochs=1),
                      sine_dataset(n=8))
    next(trainer.epochs())
    params = trainer._model.get_params()
    state = trainer._optimizer.get_state()
    x, mask, y = trainer._train.batch(np.arange(4))
    x = x.copy()
    x[3, 0, 0] = np.nan
    loss, norms, ok = trainer.f_train(x, mask, y)
    assert not bool(np.asarray(ok)) and not np.isfinite(float(np.asarray(loss)))
    for k, v in trainer._model.get_params().items():
        np.testing.assert_array_equal(v, params[k])
    for k, v in trainer._optimizer.get_state().items():
        np.testing.assert_array_equal(v, state[k])
    # A finite batch afterwards is applied again.
    _, _, ok = trainer.f_train(*trainer._train.batch(np.arange(4)))
    assert bool(np.asarray(ok))


def test_stop_from_another_thread_ends_the_generator_quickly():
    trainer = Trainer(TrainingConfig(cell="elman", hidden_sizes=(8,), batch_size=2, epochs=10_000),
                      sine_dataset(n=40))
    gen = trainer.epochs()
    next(gen)  # compiled
    rates = [1e-3 + i * 1e-6 for i in range(200)]

    def hammer():  # a GUI changing the learning rate while the worker trains
        for lr in rates:
            trainer.update(learning_rate=lr)

    timer = threading.Timer(0.3, trainer.stop)
    changer = threading.Thread(target=hammer)
    timer.start()
    changer.start()
    reports = list(gen)
    timer.join()
    changer.join()
    assert reports and reports[-1].stopped
    assert trainer.epoch < 10_000
    assert trainer.config.learning_rate == rates[-1]
    assert float(np.asarray(trainer._optimizer.hyper["lr"].get_value())) == pytest.approx(rates[-1])
    # A stop before the first step still yields one (stopped) report, then ends.
    trainer.stop()
    gen = trainer.epochs()
    trainer.stop()
    last = list(gen)
    assert len(last) == 1 and last[0].stopped and last[0].skipped_steps == 0


def test_an_epoch_cut_short_by_stop_validates_only_as_many_batches_as_it_trained():
    # On a huge text a full validation pass after Stop took minutes; a stopped epoch now scores
    # as many validation batches as it trained (and the probe's), and does not become "best".
    trainer = Trainer(TrainingConfig(cell="elman", hidden_sizes=(4,), batch_size=8, epochs=5,
                                     validation_fraction=0.5), classify_dataset(n=260, length=4))
    gen = trainer.epochs()
    first = next(gen)
    n_val_batches = len(fixed_batches(trainer._val.n, trainer.val_batch_size, np.arange(trainer._val.n)))
    assert n_val_batches >= 4
    trainer.update(probe_index=trainer._val.n - 1)  # the probe sits in the last batch
    f_train, f_loss, calls = trainer.f_train, trainer.f_loss, {"train": 0, "loss": 0}

    def train_then_stop(*args):
        calls["train"] += 1
        if calls["train"] == 2:
            trainer.stop()
        return f_train(*args)

    def counted_loss(*args):
        calls["loss"] += 1
        return f_loss(*args)

    trainer.f_train, trainer.f_loss = train_then_stop, counted_loss
    stopped = list(gen)
    assert len(stopped) == 1 and stopped[0].stopped and np.isfinite(stopped[0].val_loss)
    assert calls == {"train": 2, "loss": 3}  # 2 batches trained: 2 validated + the probe's
    assert stopped[0].hidden is not None and stopped[0].probe_index == trainer._val.n - 1
    assert trainer.best.epoch == first.epoch == stopped[0].best_epoch
    # A full epoch still validates everything.
    calls.update(train=-10**9, loss=0)
    trainer.update(epochs=trainer.epoch + 1)
    assert not next(trainer.epochs()).stopped and calls["loss"] == n_val_batches


def test_live_changes_are_validated_all_or_nothing():
    trainer = Trainer(TrainingConfig(**SMALL), sine_dataset(n=8))
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        trainer.update(learning_rate=-1)
    with pytest.raises(ValueError, match="probe_index must be between 0 and"):
        trainer.update(probe_index=99)
    with pytest.raises(ValueError, match="fly: not a live setting; live settings are learning_rate"):
        trainer.update(fly=1)
    with pytest.raises(ValueError, match="cell: not a live setting"):
        trainer.update(cell="gru")
    with pytest.raises(ValueError, match="momentum must be in"):
        trainer.update(learning_rate=0.5, momentum=1.5)
    assert trainer.config.learning_rate == SMALL["learning_rate"]  # the valid half was not applied either
    # Valid changes take effect at once, also while no epoch runs; the answer says what changed.
    changed = trainer.update(learning_rate=0.05, clip_norm=0, momentum=0.5, probe_index=1, epochs=3)
    assert changed == {"learning_rate": (1e-2, 0.05), "clip_norm": (5.0, None), "momentum": (0.9, 0.5),
                       "probe_index": (0, 1)}
    assert (trainer.config.learning_rate, trainer.config.clip_norm, trainer.config.momentum) == (0.05, None, 0.5)
    assert trainer.probe_index == 1


def test_a_second_concurrent_epochs_generator_is_refused():
    trainer = Trainer(TrainingConfig(**{**SMALL, "epochs": 2}), sine_dataset(n=8))
    first = trainer.epochs()
    next(first)
    with pytest.raises(RuntimeError, match="already training in another epochs\\(\\) generator"):
        next(trainer.epochs())
    assert next(first).epoch == 2  # the first one is unharmed
    first.close()
    assert [r.epoch for r in trainer.epochs()] == []  # after close, a new generator may run (2 of 2 done)
    trainer.update(epochs=3)
    assert [r.epoch for r in trainer.epochs()] == [3]


def test_a_value_sent_into_the_epoch_generator_is_refused_in_words_and_the_generator_lives_on():
    trainer = Trainer(TrainingConfig(**{**SMALL, "epochs": 3}), sine_dataset(n=8))
    gen = trainer.epochs()
    assert next(gen).epoch == 1
    with pytest.warns(UserWarning, match="takes no commands through send.*Trainer.update"):
        report = gen.send({"learning_rate": -1})
    assert report.epoch == 2 and trainer.config.learning_rate == SMALL["learning_rate"]
    assert [r.epoch for r in gen] == [3]  # the generator went on to the end


def test_classifier_reports_accuracy_and_predicts_probabilities():
    ds = classify_dataset()
    trainer = Trainer(TrainingConfig(cell="lstm", **{**SMALL, "epochs": 2}), ds)
    trainer.update(probe_index=1)
    reports = list(trainer.epochs())
    assert all(0 <= r.val_accuracy <= 1 for r in reports)
    assert reports[-1].probe_index == 1
    assert set(reports[0].gates[0]) == {"i", "f", "o", "c"}
    probs = trainer.predict(ds.sequences[0])
    assert probs.shape == (3,) and probs.sum() == pytest.approx(1, abs=1e-5)
    # The probe (from the validation call) and hidden_states (the inference graph) agree.
    probed = trainer.hidden_states(trainer.split.val_sequences[1])
    assert [h.shape for h in probed] == [h.shape for h in reports[-1].hidden]
    np.testing.assert_allclose(probed[0], reports[-1].hidden[0], rtol=1e-4, atol=1e-5)
    assert len(trainer.probe()[0][0]) == len(trainer.split.val_sequences[1])
    val = trainer.predict_validation()
    n_val = len(trainer.split.val)
    assert val["probs"].shape == (n_val, 3) and val["pred"].shape == val["true"].shape == (n_val,)
    np.testing.assert_allclose(val["probs"][0], trainer.predict(trainer.split.val_sequences[0]), rtol=1e-4,
                               atol=1e-6)
    with pytest.raises(ValueError, match="generate\\(\\) needs a next_token or forecast model"):
        trainer.generate(3)


def test_text_model_generates_from_its_vocabulary():
    ds = text_dataset()
    trainer = Trainer(TrainingConfig(cell="gru", hidden_sizes=(8,), batch_size=4, epochs=1, embedding_size=4,
                                     window=16), ds)
    report = next(trainer.epochs())
    assert report.val_accuracy is not None
    # the probe's characters: one per heatmap row, and they are what the probe read (the same
    # hidden states come out when the model reads them again)
    assert len(report.probe_text) == report.hidden[0].shape[0] and set(report.probe_text) <= set(ds.vocabulary)
    again = trainer.hidden_states("".join(report.probe_text))[0]
    np.testing.assert_allclose(again, report.hidden[0], atol=1e-5)
    text = trainer.generate(20, temperature=0.8, prime="abc", seed=1)
    assert isinstance(text, str) and len(text) == 20 and set(text) <= set(ds.vocabulary)
    assert text == trainer.generate(20, temperature=0.8, prime="abc", seed=1)
    ids = np.array([ds.vocabulary.index(ch) for ch in "abc"])
    assert text == trainer.generate(20, temperature=0.8, prime=ids, seed=1)  # token ids prime the same
    dist = trainer.predict("abca")
    assert dist.shape == (4, len(ds.vocabulary)) and np.allclose(dist.sum(axis=1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="not in the model's vocabulary"):
        trainer.predict("xyz")
    with pytest.raises(ValueError, match="temperature must be a positive number"):
        trainer.generate(5, temperature=0)


def test_update_syncs_live_settings_and_config_is_read_only(sine_run):
    trainer = sine_run["trainer"]
    trainer.update(learning_rate=7e-4, clip_norm=None, epochs=5)
    assert float(np.asarray(trainer._optimizer.hyper["lr"].get_value())) == pytest.approx(7e-4)
    assert float(np.asarray(trainer._optimizer.hyper["clip"].get_value())) == 0.0
    with pytest.raises(AttributeError):
        trainer.config = trainer.config.replace(cell="lstm")


def test_command_racing_the_model_build_reaches_the_optimizer(monkeypatch):
    trainer = Trainer(TrainingConfig(**SMALL), sine_dataset(n=8))
    from engine import optim

    class RacedOptimizer(optim.Optimizer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            # Another thread changes the learning rate after the optimizer read the config but
            # before the trainer published it; it must not be lost.
            racer.start()
            racer.join(timeout=0.3)

    racer = threading.Thread(target=trainer.update, kwargs={"learning_rate": 0.5})
    monkeypatch.setattr(optim, "Optimizer", RacedOptimizer)
    trainer._ensure_model()
    racer.join(timeout=5)
    assert trainer.config.learning_rate == 0.5
    assert float(np.asarray(trainer._optimizer.hyper["lr"].get_value())) == 0.5


def test_float64_is_selectable_end_to_end():
    trainer = Trainer(TrainingConfig(cell="gru", hidden_sizes=(4,), batch_size=4, epochs=1, dtype="float64"),
                      sine_dataset(n=8))
    try:
        report = next(trainer.epochs())
        assert np.isfinite(report.train_loss) and np.isfinite(report.val_loss)
        assert all(v.dtype == np.float64 for v in trainer._model.get_params().values())
        assert report.hidden[0].dtype == np.float32  # reports stay float32 for the GUI
        assert trainer.predict(np.zeros(6)).shape == (6, 1)
    finally:
        backend.select("jax", "float32")  # x64 is process-wide: restore the default for later tests
