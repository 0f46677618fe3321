"""GraphView (the Graph dock): the compiled graph's text, op counts, find, runs."""
import pytensor.tensor as pt
import pytest

from engine import backend
from engine.graph_text import describe_function
from gui.graph_view import GraphView


@pytest.fixture(scope="module")
def graph():
    x = pt.vector("x", shape=(4,))
    y = pt.tanh(x) * 2.0 + pt.exp(x).sum()
    return describe_function(backend.function([x], [y]), "f_small", backend="test")


@pytest.fixture
def view(qtbot):
    widget = GraphView()
    qtbot.addWidget(widget)
    widget.resize(800, 400)
    widget.show()
    return widget


def test_the_graph_its_counts_and_backend_are_shown(view, graph):
    view.set_graph(graph)
    assert view.text.toPlainText() == graph.text
    assert "f_small" in view.header.text() and "test" in view.header.text()
    assert f"{graph.n_nodes} nodes" in view.header.text()
    shown = view.op_counts()
    assert {name: outer for name, (outer, _) in shown.items()} == dict(graph.op_counts)
    column = [view.counts.item(r, 1).data(0) for r in range(view.counts.rowCount())]
    assert column == sorted(column, reverse=True)  # the most frequent op first


def test_find_highlights_every_match_and_walks_through_them(view, graph):
    view.set_graph(graph)
    view.find_edit.setText("[id")
    n = graph.text.count("[id")
    assert n > 2 and view.match_count() == n and view.highlighted() == n
    assert view.match_label.text() == f"{n} matches"
    positions = []
    for _ in range(n):
        positions.append(view.current_match()[0])
        assert view.current_match()[1] == "[id"
        assert view.find_next()
    assert positions == sorted(positions) and len(set(positions)) == n
    assert view.current_match()[0] == positions[0]  # wrapped around to the first
    assert view.find_previous() and view.current_match()[0] == positions[-1]
    view.find_edit.setText("no such op")
    assert view.match_count() == 0 and view.highlighted() == 0 and not view.find_next()


def test_clicking_an_op_type_finds_it(view, graph, qtbot):
    view.set_graph(graph)
    row = 0
    name = view.counts.item(row, 0).text()
    view.counts.cellClicked.emit(row, 0)
    assert view.find_edit.text() == name


def test_a_new_run_waits_for_its_own_graph(view, graph):
    view.begin_run(1)
    view.take(1, graph)
    assert view.graph is graph
    view.begin_run(2)
    assert "compiling the new model" in view.header.text()
    z = pt.vector("z", shape=(2,))
    other = describe_function(backend.function([z], [z * 3.0]), "f_other")
    view.take(1, other)  # still queued from the replaced run: dropped
    assert view.graph is graph
    view.take(2, other)
    assert view.graph is other and "f_other" in view.header.text()
