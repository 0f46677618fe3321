"""Compile benchmark: what a new model's first training step costs, against hand-written JAX.

    python benchmarks/bench_compile.py [--sizes 64,48,80,96] [--repeats 1] [--json PATH]

A structural change (a new hidden size, cell, ...) gives a training step of new static shapes,
which XLA must compile before the step can run (README.md, "Latency of structural changes").
This benchmark splits that time, for the app's default data and model (Elman, Adam, batch 32,
the bundled sine data: T = 200), into

    graph    building the PyTensor graph (forward scan, BPTT, optimizer updates)
    rewrite  PyTensor's graph rewrites (FunctionMaker.prepare_fgraph)
    xla      XLA's compile of the step (jax._src.compiler.backend_compile_and_load)
    other    writing and tracing the JAX function, the first call

and measures, in the same run, the XLA compile of the same step written by hand in JAX
(``jax.value_and_grad`` through ``lax.scan``, the same Adam update, same shapes and dtype):
the reference. Each measurement runs in its own process with an empty compile cache (a fresh
machine), one compute thread, as the app runs. The ratio ``engine xla / hand xla`` says how far
the engine's compile is from what JAX itself needs for the step; ``first step / hand xla`` how
much of the first step the compile is.

``--resize`` measures what a resize costs in the app instead: one process, one fresh cache, a
model of the first size trained one step (the launch), then each other size's new model to its
first step, split the same way, against the hand-written step's first call at that size in the
same process (``jax.jit`` retraces and XLA compiles for the new shapes). The engine's graph does
not name the hidden size (engine.model), so a resize reuses the rewritten graph
(engine.function_cache): graph and rewrite should be near zero.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _timed(module, name, totals, key):
    """Wrap ``module.name`` so its seconds add up in ``totals[key]``."""
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[key] += time.perf_counter() - start

    return original, wrapper


def _child_engine(hidden: int) -> dict:
    return _engine_steps([hidden])[0]


def _engine_steps(sizes) -> list[dict]:
    """Each size's new model to its first training step, in this process, one after the other."""
    sys.path.insert(0, ROOT)
    from engine import backend, step_store

    # PyTensor's own function, so XLA compiles on the first call as the split below assumes (a
    # stored step is exported, traced and compiled before that call: engine.step_store).
    os.environ[step_store.ENV_SWITCH] = "off"
    backend.configure()
    import jax._src.compiler as jax_compiler
    import pytensor.compile.maker as maker

    import resources
    from engine.data import load_sequences

    backend.select()
    totals = {"rewrite": 0.0, "xla": 0.0}
    _, rewrite = _timed(maker.FunctionMaker, "prepare_fgraph", totals, "rewrite")
    maker.FunctionMaker.prepare_fgraph = staticmethod(rewrite)
    _, xla = _timed(jax_compiler, "backend_compile_and_load", totals, "xla")
    jax_compiler.backend_compile_and_load = xla
    data = load_sequences(resources.default_dataset_path())
    rows = []
    for hidden in sizes:
        totals.update(rewrite=0.0, xla=0.0)
        rows.append(_first_step(hidden, data, totals))
    return rows


def _first_step(hidden: int, data, totals) -> dict:
    from engine.training import Trainer, TrainingConfig

    trainer = Trainer(TrainingConfig(hidden_sizes=(hidden,), epochs=1), data)
    trainer._ensure_model()
    x, mask, y = trainer._train.batch(list(range(trainer.batch_size)))
    start = time.perf_counter()
    trainer._ensure_training_functions()
    built = time.perf_counter()
    float(trainer.f_train(x, mask, y)[0])
    end = time.perf_counter()
    graph = built - start - totals["rewrite"]
    return {"first_step_s": end - start, "graph_s": graph, "rewrite_s": totals["rewrite"], "xla_s": totals["xla"],
            "other_s": end - start - graph - totals["rewrite"] - totals["xla"],
            "shapes": [list(x.shape), list(y.shape)], "batch": trainer.batch_size}


def _hand_step(jax, jnp, lr=3e-3, b1=0.9, b2=0.999, eps=1e-8, clip=5.0):
    """An Elman forecast step in plain JAX: masked MSE, global-norm clip, Adam."""

    def loss(p, x, m, y):
        xw = x @ p["W"] + p["b"]

        def step(h, inp):
            xw_t, m_t = inp
            new = jnp.tanh(xw_t + h @ p["U"])
            new = m_t[:, None] * new + (1 - m_t[:, None]) * h
            return new, new

        _, hs = jax.lax.scan(step, jnp.zeros((x.shape[1], p["U"].shape[0]), x.dtype), (xw, m))
        out = hs @ p["V"] + p["c"]
        return jnp.sum(m[..., None] * (out - y) ** 2) / jnp.maximum(jnp.sum(m), 1.0)

    def train(p, m1, m2, t, x, m, y):
        value, g = jax.value_and_grad(loss)(p, x, m, y)
        leaves = jax.tree_util.tree_leaves(g)
        norm = jnp.sqrt(sum(jnp.sum(v * v) for v in leaves))
        scale = jnp.minimum(1.0, clip / (norm + 1e-6))
        g = jax.tree_util.tree_map(lambda v: v * scale, g)
        m1 = jax.tree_util.tree_map(lambda a, v: b1 * a + (1 - b1) * v, m1, g)
        m2 = jax.tree_util.tree_map(lambda a, v: b2 * a + (1 - b2) * v * v, m2, g)
        t = t + 1
        step = lr * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p = jax.tree_util.tree_map(lambda w, a, v: w - step * a / (jnp.sqrt(v) + eps), p, m1, m2)
        return value, norm, p, m1, m2, t

    return train


def _child_hand(hidden: int, shapes) -> dict:
    return _hand_steps([hidden], shapes)[0]


def _hand_steps(sizes, shapes) -> list[dict]:
    """The hand-written step's first call at each size, one jitted function in this process."""
    sys.path.insert(0, ROOT)
    from engine import backend

    backend.configure()
    backend.select()
    import jax
    import jax._src.compiler as jax_compiler
    import jax.numpy as jnp

    totals = {"xla": 0.0}
    _, xla = _timed(jax_compiler, "backend_compile_and_load", totals, "xla")
    jax_compiler.backend_compile_and_load = xla
    train = jax.jit(_hand_step(jax, jnp))
    rows = []
    for hidden in sizes:
        totals["xla"] = 0.0
        rows.append(_hand_first_call(jax, jnp, train, hidden, shapes, totals))
    return rows


def _hand_first_call(jax, jnp, train, hidden, shapes, totals) -> dict:
    import numpy as np

    (T, B, F), (_, _, O) = shapes
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((F, hidden)), "U": np.eye(hidden) * 0.5, "b": np.zeros(hidden),
              "V": rng.standard_normal((hidden, O)) * 0.1, "c": np.zeros(O)}
    params = {k: jnp.asarray(v, jnp.float32) for k, v in params.items()}
    zeros = [{k: jnp.zeros_like(v) for k, v in params.items()} for _ in range(2)]
    x = np.zeros((T, B, F), np.float32)
    m = np.ones((T, B), np.float32)
    y = np.zeros((T, B, O), np.float32)
    t = jnp.float32(0)
    jax.block_until_ready((params, zeros, t))
    start = time.perf_counter()
    out = train(params, *zeros, t, x, m, y)
    float(out[0])
    return {"hand_first_step_s": time.perf_counter() - start, "hand_xla_s": totals["xla"]}


def _in_child(kind: str, hidden, shapes=None):
    """Run ``kind`` in a fresh process on an empty compile cache (``hidden``: a size, or a list)."""
    env = dict(os.environ, XDG_CACHE_HOME=tempfile.mkdtemp(prefix="rnnscope-bench-compile-"))
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    sizes = ",".join(str(h) for h in hidden) if isinstance(hidden, list) else str(hidden)
    args = [sys.executable, os.path.abspath(__file__), "--child", kind, "--hidden", sizes]
    if shapes is not None:
        args += ["--shapes", json.dumps(shapes)]
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"{kind} child failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def _row(hidden: int, engine: dict, hand: dict, reference: str, **extra) -> dict:
    """One size's figures; ``first_step_ratio`` is the engine's first step over ``hand[reference]``."""
    row = {"hidden": hidden, **extra, **engine, **hand, "load": os.getloadavg()[0]}
    row["xla_ratio"] = row["xla_s"] / row["hand_xla_s"]
    row["first_step_ratio"] = row["first_step_s"] / row[reference]
    return row


def measure(sizes, repeats: int) -> list[dict]:
    rows = []
    for hidden in sizes:
        for _ in range(repeats):
            engine = _in_child("engine", hidden)
            hand = _in_child("hand", hidden, engine["shapes"])
            row = _row(hidden, engine, hand, "hand_xla_s")
            rows.append(row)
            print(f"  hidden {hidden:4d}: first step {row['first_step_s']:.2f} s = graph {row['graph_s']:.2f} + "
                  f"rewrite {row['rewrite_s']:.2f} + xla {row['xla_s']:.2f} + other {row['other_s']:.2f}; "
                  f"hand-written JAX: xla {row['hand_xla_s']:.2f} s (first step {row['hand_first_step_s']:.2f} s); "
                  f"xla ratio {row['xla_ratio']:.2f}x, first step / hand xla {row['first_step_ratio']:.2f}x "
                  f"(load {row['load']:.1f})", flush=True)
    return rows


def measure_resize(sizes) -> list[dict]:
    """The first size is the launch; each later one a resize in the same process."""
    engine = _in_child("engine-resize", sizes)
    hand = _in_child("hand-resize", sizes, engine[0]["shapes"])
    rows = []
    for hidden, e, h in zip(sizes, engine, hand):
        row = _row(hidden, e, h, "hand_first_step_s", resize=bool(rows))
        rows.append(row)
        print(f"  {'resize to' if row['resize'] else 'launch at'} {hidden:4d}: first step {row['first_step_s']:.2f} s = "
              f"graph {row['graph_s']:.2f} + rewrite {row['rewrite_s']:.2f} + xla {row['xla_s']:.2f} + other "
              f"{row['other_s']:.2f}; hand-written JAX first call {row['hand_first_step_s']:.2f} s (xla "
              f"{row['hand_xla_s']:.2f}); engine / hand first step {row['first_step_ratio']:.2f}x", flush=True)
    resized = [r["first_step_ratio"] for r in rows[1:]]
    if resized:
        print(f"median resize first step / hand-written first call {statistics.median(resized):.2f}x")
    return rows


def _run_child(kind: str, hidden: str, shapes):
    sizes = [int(h) for h in hidden.split(",")]
    if kind == "engine":
        return _child_engine(sizes[0])
    if kind == "hand":
        return _child_hand(sizes[0], shapes)
    return _engine_steps(sizes) if kind == "engine-resize" else _hand_steps(sizes, shapes)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,48,80,96", help="hidden sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", help="save the rows here")
    parser.add_argument("--resize", action="store_true",
                        help="one process: the first size, then a resize to each other size (see above)")
    parser.add_argument("--child", choices=("engine", "hand", "engine-resize", "hand-resize"), help=argparse.SUPPRESS)
    parser.add_argument("--hidden", default="64", help=argparse.SUPPRESS)
    parser.add_argument("--shapes", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = _run_child(args.child, args.hidden, json.loads(args.shapes) if args.shapes else None)
        print("RESULT " + json.dumps(result), flush=True)
        os._exit(0)  # skip interpreter shutdown with XLA's threads about (as the app does)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.resize:
        rows = measure_resize(sizes)
    else:
        rows = measure(sizes, args.repeats)
        ratios = [r["xla_ratio"] for r in rows]
        print(f"median engine/hand XLA compile ratio {statistics.median(ratios):.2f}x; median share of the first "
              f"step that is XLA's compile {statistics.median(r['xla_s'] / r['first_step_s'] for r in rows):.0%}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(rows, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
