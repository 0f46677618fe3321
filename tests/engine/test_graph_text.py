"""engine.graph_text: the compiled training step printed, counted and bounded."""
import numpy as np
import pytensor.tensor as pt
import pytest

from engine import backend, step_store
from engine.data import SequenceDataset
from engine.graph_text import MAX_CHARS, bounded, count_ops, describe_function, describe_training, op_type
from engine.training import Trainer, TrainingConfig


@pytest.fixture(scope="module")
def tiny_text_trainer(tmp_path_factory):
    """Trained one epoch, its step stored in an empty store of its own: the step this process exported,
    not one a run before left in the machine's cache (~/.cache). That one's print is of the graph as
    built in that process before its first epoch; PyTensor's function rebuilt here after an epoch is
    rewritten slightly differently (more shape checks), so the op counts compared below differed."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))  # only the store reads it now
        step_store.forget()
        return _trained_text_trainer()


def _trained_text_trainer():
    text = "abcabcabd " * 20
    vocab = sorted(set(text))
    ds = SequenceDataset(sequences=[np.array([vocab.index(c) for c in text], np.int32)], vocabulary=vocab,
                         task="next_token", name="abc")
    trainer = Trainer(TrainingConfig(cell="gru", hidden_sizes=(6,), batch_size=4, epochs=1, embedding_size=4,
                                     window=12), ds)
    assert describe_training(trainer) is None  # nothing compiled yet
    next(trainer.epochs())
    return trainer


def test_a_compiled_function_is_printed_with_its_ops_counted():
    x = pt.vector("x", shape=(3,))
    fn = backend.function([x], [pt.tanh(x) * 2 + pt.dot(x, x)])
    graph = describe_function(fn, "f_small", backend="test backend")
    assert graph.name == "f_small" and graph.backend.startswith("test backend · ")
    assert not graph.truncated and graph.total_chars == len(graph.text) and "x [id" in graph.text
    counts = dict(graph.op_counts)
    assert sum(counts.values()) == graph.n_nodes == len(fn.maker.fgraph.apply_nodes)
    # every op type counted appears in the print (Elemwise by its scalar op, which dprint names too)
    for name in counts:
        assert name.replace("Elemwise{", "").rstrip("}").lower()[:4] in graph.text.lower(), name
    assert graph.summary().startswith(f"f_small: {graph.n_nodes} nodes")


def test_the_training_step_of_a_text_model_shows_its_scan_and_inner_ops(tiny_text_trainer):
    graph = describe_training(tiny_text_trainer)
    counts, inner = dict(graph.op_counts), dict(graph.inner_op_counts)
    assert counts.get("Scan", 0) >= 1  # the recurrence and its hand-written backward pass
    assert "Dot" in inner or "Dot" in counts
    assert sum(inner.values()) > 0
    assert "Scan" in graph.text and "U1" in graph.text and "f_train" == graph.name
    step = tiny_text_trainer.f_train  # JAX: a StoredStep (engine.step_store), which keeps PyTensor's function
    outer, _ = count_ops(getattr(step, "function", step).maker.fgraph)
    assert dict(outer) == counts


def test_a_long_print_is_cut_at_a_line_end_with_a_note():
    text = "".join(f"line {i}\n" for i in range(1000))
    cut, truncated = bounded(text, 100)
    assert truncated and cut.startswith("line 0\nline 1\n")
    body, note = cut.split("\n… truncated: ")
    assert len(body) <= 100 and body.endswith(text[:len(body)][-6:])
    assert note.startswith(f"{text[len(body):].count(chr(10))} more lines") and f"{len(text):,} characters" in note
    assert bounded("short\n", 100) == ("short\n", False)
    assert MAX_CHARS >= 100_000


def test_op_type_names_elemwise_by_its_scalar_op():
    x = pt.vector("x", shape=(2,))
    node = pt.exp(x).owner
    assert op_type(node.op) == "Elemwise{Exp}"
    assert op_type(pt.dot(x, x).owner.op) == type(pt.dot(x, x).owner.op).__name__
