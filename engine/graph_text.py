"""The compiled training function as text: what PyTensor made of the model (``pytensor.dprint``).

This is the Theano tutorial's ``theano.function`` made visible: after the rewrites (fusion,
in-place ops, the scans) and for the backend in force. :func:`describe_function` prints one
compiled function to a string, counts its ops by type (the outer graph, and separately the
inner graphs of its scans), and bounds the text: a print longer than ``max_chars`` is cut at a
line end with a note saying how much is left out. Qt-free; the window's worker calls it on its
thread once a run has compiled and sends the result (plain strings and tuples) in a signal.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

MAX_CHARS = 400_000  # about 10,000 lines: more than anyone reads, small enough to search at once


@dataclass(frozen=True)
class GraphText:
    name: str  # the compiled function, e.g. "f_train"
    backend: str  # engine.backend.describe() and the linker, e.g. "... · JAXLinker"
    text: str  # pytensor.dprint of the function (cut at max_chars, with a note)
    op_counts: tuple  # ((op type, count), ...) of the outer graph, most frequent first
    inner_op_counts: tuple  # the same for the inner graphs of its Scan / OpFromGraph nodes
    n_nodes: int  # apply nodes of the outer graph
    total_chars: int  # length of the full print
    truncated: bool
    seconds: float  # time taken to print and count

    def summary(self) -> str:
        ops = ", ".join(f"{name} {count}" for name, count in self.op_counts[:6])
        return f"{self.name}: {self.n_nodes} nodes ({ops}{', ...' if len(self.op_counts) > 6 else ''})"


def op_type(op) -> str:
    """The op's type as the count names it: the class, with the scalar op for Elemwise."""
    name = type(op).__name__
    scalar = getattr(op, "scalar_op", None)
    if name == "Elemwise" and scalar is not None:
        return f"Elemwise{{{type(scalar).__name__}}}"
    return name


def count_ops(fgraph) -> tuple[Counter, Counter]:
    """(outer, inner) op counts of a FunctionGraph; inner = inside Scan / OpFromGraph nodes, recursively."""
    outer, inner = Counter(), Counter()
    for node in fgraph.toposort():
        outer[op_type(node.op)] += 1
        _count_inner(node.op, inner, depth=0)
    return outer, inner


def _count_inner(op, counter: Counter, depth: int) -> None:
    graph = getattr(op, "fgraph", None)
    if graph is None or depth > 8:
        return
    for node in graph.toposort():
        counter[op_type(node.op)] += 1
        _count_inner(node.op, counter, depth + 1)


def bounded(text: str, max_chars: int) -> tuple[str, bool]:
    """``text`` cut at the last line end within ``max_chars``, with a note of what is left out."""
    if len(text) <= max_chars:
        return text, False
    cut = text.rfind("\n", 0, max_chars)
    cut = cut if cut > 0 else max_chars
    rest = text[cut:]
    note = (f"\n… truncated: {rest.count(chr(10))} more lines ({len(rest):,} characters) not shown; "
            f"the print has {len(text):,} characters in all")
    return text[:cut] + note, True


def describe_function(fn, name: str = "f_train", backend: str = "", max_chars: int = MAX_CHARS) -> GraphText:
    """Print and count one compiled PyTensor function (see the module docstring)."""
    import pytensor

    start = time.perf_counter()
    full = pytensor.dprint(fn, file="str")
    text, truncated = bounded(full, max_chars)
    fgraph = fn.maker.fgraph
    outer, inner = count_ops(fgraph)
    linker = type(fn.maker.linker).__name__
    return GraphText(
        name=name, backend=f"{backend} · {linker}" if backend else linker, text=text,
        op_counts=tuple(sorted(outer.items(), key=lambda kv: (-kv[1], kv[0]))),
        inner_op_counts=tuple(sorted(inner.items(), key=lambda kv: (-kv[1], kv[0]))),
        n_nodes=len(fgraph.apply_nodes), total_chars=len(full), truncated=truncated,
        seconds=time.perf_counter() - start)


def describe_training(trainer, max_chars: int = MAX_CHARS) -> GraphText | None:
    """The trainer's compiled training step (None before it has compiled)."""
    fn = getattr(trainer, "f_train", None)
    if fn is None:
        return None
    if hasattr(fn, "describe"):  # engine.step_store.StoredStep: its stored print, or PyTensor's function
        return fn.describe(max_chars)
    from engine import backend

    return describe_function(fn, "f_train", backend.describe(), max_chars)
