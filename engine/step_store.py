"""The training step kept across launches (JAX only): a later process skips building, rewriting
and tracing a graph that an earlier one compiled.

A launch that trains a model spends ~2 s of GIL-bound work before XLA's compile even starts
(building the graph and its gradient, PyTensor's rewrites, the JAX linker writing its Python
function, JAX tracing and lowering that function), and redoes all of it for the very same graph
on every launch; XLA's own compile already comes from JAX's persistent cache. The store keeps
the one thing that work produces, the lowered StableHLO module of the training step
(``jax.export``), under ``backend.cache_dir() / "step_store"``, with how its inputs and outputs
map onto the trainer's shared variables and the step's printed graph (the Graph dock).

:func:`training_step` is the Trainer's door. Its key is everything the graph depends on: the
trainer's graph key (model spec, batch shape, optimizer, dtype, backend), the shared variables'
names, shapes and dtypes, the PyTensor/JAX/jaxlib/NumPy versions and a digest of the engine
files that shape the graph, so a code change starts a new entry. A hit binds the stored program
to the trainer's shared variables (:class:`StoredStep`: ``f_train``'s call signature, the updated
values written back into the same variables PyTensor's function would write, so validation,
inference, checkpoints and roll-back see them). A miss compiles as before, exports PyTensor's
jitted function and trains through that export, so the first launch compiles XLA once, for the
very module a later launch loads, and the later launch finds that executable in JAX's cache.

It is a cache: an unreadable, corrupt or mismatched entry is logged and ignored, and a step that
cannot be exported or written trains through PyTensor's function; ``RNNSCOPE_STEP_STORE=off``
turns it off. Entries are written atomically and the folder is pruned to the newest
:data:`MAX_ENTRIES` (at most :data:`MAX_BYTES`). Programs loaded in this process are kept
(:data:`MAX_PROGRAMS`), so a Reset or the LR finder's copy reuses one without a trace.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import struct
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np

from engine import backend
from engine.atomic import write_bytes_atomically

log = logging.getLogger("rnnscope.step_store")

FOLDER = "step_store"
SUFFIX = ".step"
MAGIC = b"RNNSCOPE-STEP\n"
FORMAT = 1
ENV_SWITCH = "RNNSCOPE_STEP_STORE"  # "0" / "off" / "no" / "false": every step is compiled
MAX_ENTRIES = 64
MAX_BYTES = 64 * 2**20
MAX_PROGRAMS = 8
N_DATA = 3  # x, mask, y: the call's own arguments; the shared variables follow them
N_RETURNED = 3  # loss, norms, ok: what the call returns; the updated values follow them
# The engine files whose code shapes the training graph (and this file's entry format).
GRAPH_SOURCES = ("model.py", "optim.py", "training.py", "jax_linker.py", "backend.py", "batches.py",
                 "step_store.py")
_GRAPH_FIELDS = ("name", "backend", "text", "op_counts", "inner_op_counts", "n_nodes", "total_chars", "truncated")


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "on").strip().lower() not in ("0", "off", "no", "false")


def folder() -> Path:
    return backend.cache_dir() / FOLDER


# ---------------------------------------------------------------------------- the step
class StoredStep:
    """``f_train`` over a stored program: ``step(x, mask, y) -> [loss, norms, ok]``, writing the
    updated values into the trainer's shared variables, as PyTensor's function does."""

    name = "f_train"

    def __init__(self, program: "_Program", shared, compile_function, function=None):
        storages = [var.container.storage for var in shared]
        self.program = program
        self._call = program.call
        self._inputs = [storages[i] for i in program.inputs]
        self._updates = [(k, storages[i]) for k, i in program.updates]
        self._compile_function = compile_function  # PyTensor's function again (a Graph dock without a stored print)
        self._function = function  # PyTensor's function when this process compiled it (a miss)

    def __call__(self, x, mask, y):
        out = self._call(x, mask, y, *[storage[0] for storage in self._inputs])
        for k, storage in self._updates:
            storage[0] = out[k]
        return list(out[:N_RETURNED])

    @property
    def function(self):
        """PyTensor's compiled function of this step (built on first use after a hit; never called)."""
        if self._function is None:
            self._function = self._compile_function()
        return self._function

    def describe(self, max_chars: int):
        """The step as ``engine.graph_text.GraphText``: the print stored with the entry, else
        PyTensor's function's."""
        from engine import graph_text

        start = time.perf_counter()
        fields = self.program.graph
        if fields is None or self._function is not None:
            return graph_text.describe_function(self.function, self.name, backend.describe(), max_chars)
        text, truncated = graph_text.bounded(fields["text"], max_chars)
        return graph_text.GraphText(**{**fields, "text": text, "truncated": truncated or fields["truncated"],
                                       "seconds": time.perf_counter() - start})


@dataclasses.dataclass
class _Program:
    call: object  # jax.jit(Exported.call), compiled: (x, mask, y, *inputs) -> (loss, norms, ok, *updated values)
    inputs: tuple  # per graph input after the data: its index in the trainer's shared list
    updates: tuple  # ((output index, shared index), ...)
    avals: tuple  # ((shape, dtype), ...) of every argument
    graph: dict | None  # GraphText's fields (the Graph dock) or None
    origin: str = "export"  # "export": made by this process from PyTensor's function; "file": loaded


_programs: OrderedDict = OrderedDict()  # key text -> _Program loaded or made in this process
_lock = threading.Lock()


def training_step(graph_key, shared, compile_function):
    """The trainer's training step for ``graph_key`` over ``shared`` (in the trainer's order).

    ``compile_function()`` makes PyTensor's function (the trainer's way: it may reuse a
    same-shape one). Returns a :class:`StoredStep`, or PyTensor's function
    when the store is off, the backend is not JAX, or the step cannot be exported."""
    if not enabled() or backend.info().name != "jax":
        return compile_function()
    shared = list(shared)
    key = _key_text(graph_key, shared)
    program = _remembered(key) or _load(key, shared)
    if program is not None:
        backend.count_compile()  # a function the engine made for this trainer (tests count them)
        return StoredStep(program, shared, compile_function)
    fn = compile_function()
    program = _export(fn, shared, key)
    return fn if program is None else StoredStep(program, shared, compile_function, function=fn)


def _remembered(key: str):
    with _lock:
        program = _programs.get(key)
        if program is not None:
            _programs.move_to_end(key)
        return program


def _remember(key: str, program: _Program) -> _Program:
    with _lock:
        _programs[key] = program
        while len(_programs) > MAX_PROGRAMS:
            _programs.popitem(last=False)
    return program


def forget() -> None:
    """Drop the programs kept in this process (the files stay)."""
    with _lock:
        _programs.clear()


# ---------------------------------------------------------------------------- the key
_sources_digest: str | None = None


def _graph_sources_digest() -> str:
    global _sources_digest
    if _sources_digest is None:
        here = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for name in GRAPH_SOURCES:
            h.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
        _sources_digest = h.hexdigest()
    return _sources_digest


def _versions() -> dict:
    import jax
    import jaxlib
    import pytensor

    return {"pytensor": pytensor.__version__, "jax": jax.__version__, "jaxlib": jaxlib.__version__,
            "numpy": np.__version__, "python": sys.version.split()[0], "x64": bool(jax.config.jax_enable_x64),
            "platform": jax.default_backend()}


def _key_text(graph_key, shared) -> str:
    variables = [(var.name, str(var.type.dtype), list(np.shape(var.get_value(borrow=True)))) for var in shared]
    return json.dumps({"format": FORMAT, "graph": repr(graph_key), "shared": variables, "versions": _versions(),
                       "sources": _graph_sources_digest()}, sort_keys=True)


def _entry_path(key: str) -> Path:
    return folder() / (hashlib.sha256(key.encode()).hexdigest()[:32] + SUFFIX)


# ---------------------------------------------------------------------------- a miss: export
def _export(fn, shared, key: str):
    """Export PyTensor's jitted ``fn``, save it, and return the program a later launch would load
    from the saved bytes (so both launches compile the same module); None if it cannot be."""
    try:
        header, module = _exported_entry(fn, shared, key)
    except Exception as exc:  # an op JAX cannot export, a PyTensor or JAX change: train as before
        log.warning("step store: the training step was not exported (%s: %s); it trains through "
                    "PyTensor's function", type(exc).__name__, exc)
        return None
    # The Graph dock's print and the file are written while XLA compiles (which releases the GIL),
    # not before it: a resize's first step does not wait for them.
    printed: list = []  # the saver's print, for the program kept in this process
    saver = threading.Thread(target=_save_with_graph, args=(fn, key, header, module, printed),
                             name="step-store-save", daemon=True)
    saver.start()
    try:
        program = _program(header, module)
    except Exception as exc:
        saver.join()
        _remove(_entry_path(key))  # a module this process cannot compile is not kept for the next one
        log.warning("step store: the exported training step did not compile (%s: %s); it trains through "
                    "PyTensor's function", type(exc).__name__, exc)
        return None
    saver.join()
    return _remember(key, dataclasses.replace(program, graph=_graph_of(printed[0]) if printed else None))


def _save_with_graph(fn, key: str, header: dict, module: bytes, printed: list) -> None:
    try:
        graph = _graph_fields(fn)
        printed.append(graph)
        _save(key, {**header, "graph": graph}, module)
    except Exception as exc:  # a cache: never a traceback from its thread
        log.warning("step store: the entry was not saved (%s: %s)", type(exc).__name__, exc)


def _exported_entry(fn, shared, key: str) -> tuple[dict, bytes]:
    import jax
    from jax import export
    from pytensor.link.jax.linker import JAXLinker

    jit_fn = getattr(fn.vm, "jit_fn", None)
    linker = fn.maker.linker
    if not isinstance(linker, JAXLinker) or jit_fn is None or linker.scalar_shape_inputs:
        raise ValueError(f"{type(linker).__name__} did not make one jitted function without static arguments")
    variables = [inp.variable for inp in fn.maker.inputs]
    position = {id(var): k for k, var in enumerate(shared)}
    inputs = [position[id(var)] for var in variables[N_DATA:]]  # KeyError: an input that is not the trainer's
    fgraph = fn.maker.fgraph
    if len(fgraph.outputs) - len(fgraph.update_mapping) != N_RETURNED:
        raise ValueError(f"{len(fgraph.outputs) - len(fgraph.update_mapping)} returned outputs, not {N_RETURNED}")
    updates = [[out, inputs[inp - N_DATA]] for out, inp in sorted(fgraph.update_mapping.items())]
    avals = [[list(var.type.shape), str(var.type.dtype)] for var in variables[:N_DATA]]
    avals += [[list(np.shape(shared[i].get_value(borrow=True))), str(shared[i].type.dtype)] for i in inputs]
    if any(d is None for shape, _ in avals for d in shape):
        raise ValueError("the data inputs have no static shape")
    exported = export.export(jit_fn)(*[jax.ShapeDtypeStruct(tuple(s), np.dtype(d)) for s, d in avals])
    module = bytes(exported.mlir_module_serialized)
    header = {
        "format": FORMAT, "key": key, "inputs": inputs, "updates": updates, "avals": avals,
        "module_sha256": hashlib.sha256(module).hexdigest(),
        "exported": {
            "fun_name": exported.fun_name, "platforms": list(exported.platforms),
            "out_avals": [[list(a.shape), str(a.dtype), bool(a.weak_type)] for a in exported.out_avals],
            "calling_convention_version": int(exported.calling_convention_version),
            "module_kept_var_idx": [int(i) for i in exported.module_kept_var_idx],
            "uses_global_constants": bool(exported.uses_global_constants)},
        "graph": None,  # the Graph dock's print: added when the entry is saved (_save_with_graph)
    }
    rebuilt = _exported(header, module)
    differ = [f.name for f in dataclasses.fields(exported)
              if f.name != "_get_vjp" and getattr(rebuilt, f.name) != getattr(exported, f.name)]
    if differ:
        raise ValueError(f"the stored form would differ in {', '.join(differ)}")
    return header, module


def _graph_fields(fn) -> dict | None:
    """The Graph dock's print of ``fn``, to store with the entry (None if it cannot be printed)."""
    from engine import graph_text

    try:
        graph = graph_text.describe_function(fn, StoredStep.name, backend.describe(), graph_text.MAX_CHARS)
    except Exception as exc:
        log.info("step store: the training graph was not printed (%s)", exc)
        return None
    return {name: getattr(graph, name) for name in _GRAPH_FIELDS}


# ---------------------------------------------------------------------------- entries
def _exported(header: dict, module: bytes):
    """The ``jax.export.Exported`` that ``header`` and ``module`` describe (one device, unsharded)."""
    from jax import export, tree_util
    from jax.core import ShapedArray

    e = header["exported"]
    ins = tuple(ShapedArray(tuple(shape), np.dtype(dtype)) for shape, dtype in header["avals"])
    outs = tuple(ShapedArray(tuple(shape), np.dtype(dtype), weak_type=bool(weak)) for shape, dtype, weak in e["out_avals"])
    n_in, n_out = len(ins), len(outs)
    return export.Exported(
        fun_name=str(e["fun_name"]), in_tree=tree_util.tree_structure(((0,) * n_in, {})), in_avals=ins,
        out_tree=tree_util.tree_structure((0,) * n_out), out_avals=outs, _has_named_shardings=True,
        _in_named_shardings=(None,) * n_in, _out_named_shardings=(None,) * n_out,
        in_shardings_hlo=(None,) * n_in, out_shardings_hlo=(None,) * n_out, nr_devices=1,
        platforms=tuple(e["platforms"]), ordered_effects=(), unordered_effects=(), disabled_safety_checks=(),
        mlir_module_serialized=module, calling_convention_version=int(e["calling_convention_version"]),
        module_kept_var_idx=tuple(int(i) for i in e["module_kept_var_idx"]),
        uses_global_constants=bool(e["uses_global_constants"]), _get_vjp=None)


def _program(header: dict, module: bytes) -> _Program:
    import jax

    if header.get("format") != FORMAT:
        raise ValueError(f"format {header.get('format')!r}, not {FORMAT}")
    if hashlib.sha256(module).hexdigest() != header["module_sha256"]:
        raise ValueError("its module does not match its checksum")
    exported = _exported(header, module)
    graph = _graph_of(header.get("graph"))
    # Compiled here, not on the first step: a module XLA refuses is one more entry to ignore. The
    # executable comes from JAX's persistent cache when a launch before compiled the same module.
    with _no_lapack_set_up(exported):
        lowered = jax.jit(exported.call).lower(*exported.in_avals)
    compiled = lowered.compile()
    return _Program(call=compiled, inputs=tuple(int(i) for i in header["inputs"]),
                    updates=tuple((int(k), int(i)) for k, i in header["updates"]),
                    avals=tuple((tuple(s), str(d)) for s, d in header["avals"]), graph=graph)


@contextlib.contextmanager
def _no_lapack_set_up(exported):
    """Lowering an exported call first registers JAX's LAPACK kernels on the CPU, which imports
    SciPy (~0.2-0.4 s before the first step). A module that calls no LAPACK kernel does not need
    them, so that set-up is skipped for it (JAX's internals: if they move, it simply runs)."""
    try:
        from jax._src.export import _export as internals
    except ImportError:
        internals = None
    original = getattr(internals, "_ensure_backends_initialized", None)
    if original is None or b"lapack" in exported.mlir_module_serialized:
        yield
        return
    internals._ensure_backends_initialized = lambda platforms: None
    try:
        yield
    finally:
        internals._ensure_backends_initialized = original


def _graph_of(stored: dict | None) -> dict | None:
    """GraphText's fields as stored (JSON lists) -> as GraphText takes them."""
    if stored is None:
        return None
    return {**stored, "op_counts": _pairs(stored["op_counts"]), "inner_op_counts": _pairs(stored["inner_op_counts"])}


def _pairs(counts) -> tuple:
    return tuple((str(name), int(count)) for name, count in counts)


def _encode(header: dict, module: bytes) -> bytes:
    head = json.dumps(header).encode("utf-8")
    return MAGIC + struct.pack("<Q", len(head)) + head + module


def _decode(data: bytes) -> tuple[dict, bytes]:
    if not data.startswith(MAGIC):
        raise ValueError("not a stored training step")
    start = len(MAGIC) + 8
    (size,) = struct.unpack("<Q", data[len(MAGIC):start])
    if start + size > len(data):
        raise ValueError("it is cut short")
    return json.loads(data[start:start + size].decode("utf-8")), data[start + size:]


def _load(key: str, shared):
    path = _entry_path(key)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("step store: %s could not be read (%s); compiling the training step", path, exc)
        return None
    try:
        header, module = _decode(data)
        if header.get("key") != key:
            raise ValueError("it was stored for another graph")
        _check_binding(header, shared)
        program = _program(header, module)
    except Exception as exc:  # damaged, or from another version: a cache entry never stops training
        log.warning("step store: ignoring %s (%s: %s); compiling the training step", path, type(exc).__name__, exc)
        return None
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return _remember(key, dataclasses.replace(program, origin="file"))


def _check_binding(header: dict, shared) -> None:
    """The entry's inputs and updates name the trainer's shared variables, of the stored shapes."""
    inputs = header["inputs"]
    if len(inputs) + N_DATA != len(header["avals"]):
        raise ValueError(f"{len(inputs)} shared inputs for {len(header['avals'])} arguments")
    if any(not 0 <= int(i) < len(shared) for i in [*inputs, *(i for _, i in header["updates"])]):
        raise ValueError("it names a shared variable the trainer does not have")
    for (shape, dtype), i in zip(header["avals"][N_DATA:], inputs):
        var = shared[int(i)]
        if list(np.shape(var.get_value(borrow=True))) != list(shape) or str(var.type.dtype) != dtype:
            raise ValueError(f"{var.name} is {np.shape(var.get_value(borrow=True))} {var.type.dtype}, "
                             f"stored {tuple(shape)} {dtype}")


def _save(key: str, header: dict, module: bytes) -> None:
    path = _entry_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # No fsync: a torn entry after a crash fails its checks and is compiled again.
        write_bytes_atomically(path, _encode(header, module), fsync=False)
        prune(path.parent)
    except OSError as exc:
        log.warning("step store: %s could not be written (%s); the next launch compiles the step again", path, exc)


def prune(where: Path, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
    """Keep the newest entries in ``where`` (at most ``max_entries``, ``max_bytes``); remove the
    rest and temporary files left by a killed write (older than an hour)."""
    entries = []
    for path in where.iterdir():
        try:
            st = path.stat()
        except OSError:
            continue
        if path.name.endswith(SUFFIX):
            entries.append((st.st_mtime, st.st_size, path))
        elif path.name.startswith(".") and path.name.endswith(".tmp") and time.time() - st.st_mtime > 3600:
            _remove(path)
    total = 0
    for k, (_, size, path) in enumerate(sorted(entries, key=lambda e: e[0], reverse=True)):
        total += size
        if k >= max_entries or total > max_bytes:
            _remove(path)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
