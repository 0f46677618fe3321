"""The tutorial's RNN class: it learns, it compiles once, it checks its inputs."""

import numpy as np
import pytest

from engine import RNN, backend
from engine import reference as ref

T = 16


def waveforms(n, seed):
    """Which of 4 noisy waveforms (sine, square, sawtooth, triangle) is this? (n, T, 1), (n,)"""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    a = 0.4 * np.arange(T)[None, :] + rng.uniform(-0.3, 0.3, (n, 1))
    saw = (a / np.pi) % 2 - 1
    waves = np.stack([np.sin(a), np.sign(np.sin(a)), saw, 2 * np.abs(saw) - 1], axis=1)
    x = waves[np.arange(n), y] + rng.normal(0, 0.3, (n, T))
    return x[..., None].astype(np.float32), y


@pytest.fixture(scope="module")
def trained():
    """One RNN trained by the tutorial's loop: one train() call per sequence, 6 passes."""
    x_train, y_train = waveforms(300, seed=0)
    rnn = RNN(1, 32, 4, seed=0)
    compiles_before = backend.compile_count()
    for _ in range(6):
        for x, y in zip(x_train, y_train):
            rnn.train(x, y, learning_rate=0.05, num_epochs=1)
    return rnn, compiles_before


def test_learns_many_to_one_task(trained):
    rnn, _ = trained
    x_test, y_test = waveforms(200, seed=1)
    accuracy = np.mean([rnn.predict(x) == y for x, y in zip(x_test, y_test)])
    assert accuracy >= 0.95, f"accuracy {accuracy:.3f} on held-out waveforms"
    probs = rnn.predict_proba(x_test[0])
    assert probs.shape == (4,) and abs(probs.sum() - 1) < 1e-5


def test_compiles_once_per_sequence_length(trained):
    rnn, before = trained
    x_test, _ = waveforms(20, seed=2)
    for x in x_test:
        rnn.predict(x)
    rnn.train(x_test[0], 1, learning_rate=0.001, num_epochs=3)  # another learning rate
    rnn.train(x_test[1], 2, learning_rate=0.2, num_epochs=1, clip_norm=None)
    # 1800 training calls and many predictions: one train and one predict function.
    assert rnn.n_compiles == 2
    assert backend.compile_count() - before == 2
    # A new length is a new static-shape graph, built once and then reused.
    rnn.predict(x_test[0][:5])
    rnn.predict(x_test[1][:5])
    assert rnn.n_compiles == 3


def test_parameters_are_the_tutorials_shared_variables():
    rnn = RNN(3, 5, 2)
    shapes = {p.name: np.asarray(p.get_value()).shape for p in rnn.params}
    assert shapes == {"Wxh": (3, 5), "Whh": (5, 5), "Why": (5, 2), "bh": (5,), "by": (2,)}
    assert rnn.Wxh is rnn.params[0] and rnn.by is rnn.params[-1]


def test_one_sgd_step_matches_numpy_reference():
    rnn = RNN(2, 5, 3, seed=4)
    x = np.random.default_rng(0).normal(size=(7, 2)).astype(np.float32)
    names = {"W1": rnn.Wxh, "U1": rnn.Whh, "b1": rnn.bh, "V": rnn.Why, "c": rnn.by}
    params = {k: np.asarray(v.get_value(), dtype=np.float64) for k, v in names.items()}
    loss, grads, _ = ref.loss_and_grads(
        params, "elman", "classify_sequence", x[:, None, :], np.ones((7, 1)), np.array([2])
    )
    (got,) = rnn.train(x, 2, learning_rate=0.5, num_epochs=1, clip_norm=None)
    assert abs(got - loss) < 1e-5
    for k, shared in names.items():
        np.testing.assert_allclose(
            np.asarray(shared.get_value()), params[k] - 0.5 * grads[k], atol=1e-5, err_msg=k
        )


def test_index_and_one_hot_targets_train_identically(capsys):
    x, _ = waveforms(1, seed=3)
    a, b = RNN(1, 8, 4, seed=1), RNN(1, 8, 4, seed=1)
    losses_a = a.train(x[0], 3, learning_rate=0.1, num_epochs=20)
    losses_b = b.train(x[0], np.eye(4)[3], learning_rate=0.1, num_epochs=20, verbose=True)
    assert losses_a == losses_b and len(losses_a) == 20
    assert losses_a[-1] < 0.5 * losses_a[0]  # it fits one sequence
    for pa, pb in zip(a.params, b.params):
        np.testing.assert_array_equal(np.asarray(pa.get_value()), np.asarray(pb.get_value()))
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 20 and out[0].startswith("Epoch 1/20, Loss: ")
    a.train(x[0], 3, num_epochs=2)
    assert capsys.readouterr().out == ""  # silent unless verbose
    assert a.predict(x[0]) == 3


@pytest.mark.parametrize(
    "shape", [(16,), (16, 2), (2, 16, 1), (0, 1)], ids=["1d", "width", "3d", "empty"]
)
def test_bad_input_shape_names_expected_shape(shape):
    rnn = RNN(1, 4, 2)
    with pytest.raises(ValueError, match=r"input_sequence must have shape \(T, 1\)"):
        rnn.predict(np.zeros(shape))
    with pytest.raises(ValueError, match=r"input_sequence must have shape \(T, 1\)"):
        rnn.train(np.zeros(shape), 0)


def test_bad_targets_and_settings_are_rejected():
    rnn = RNN(2, 4, 3)
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"class index in \[0, 3\)"):
        rnn.train(x, 3)
    with pytest.raises(ValueError, match=r"one-hot vector of shape \(3,\)"):
        rnn.train(x, [0, 1])
    with pytest.raises(ValueError, match="sum to 1"):
        rnn.train(x, [0, 1, 1])
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        rnn.train(x, 1, learning_rate=-1)
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        rnn.train(x, 1, learning_rate="fast")
    with pytest.raises(ValueError, match="clip_norm must be a positive number"):
        rnn.train(x, 1, clip_norm="5")
    with pytest.raises(ValueError, match="num_epochs must be a positive integer"):
        rnn.train(x, 1, num_epochs=0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        rnn.predict(np.full((5, 2), np.nan))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        RNN(2, 0, 3)
    assert rnn.n_compiles == 0  # nothing was compiled for rejected input
