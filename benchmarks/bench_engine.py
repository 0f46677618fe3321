"""Engine benchmark: RNN Scope's Trainer against a hand-written NumPy loop and PyTorch nn.RNN.

    python benchmarks/bench_engine.py [--json PATH] [--quick] [--epochs N] [--only W1a,W3]
                                      [--warm-cache] [--no-torch]

Four workloads (issue 3), one-layer Elman networks, float32, Adam, global-norm clip 5:

    W1a  512 sequences, T=50, 16 inputs, hidden 128, 10 classes, many-to-one, batch 1
    W1b  the same with minibatch 32
    W2   character language model on ~200 KB of text, hidden 256, BPTT window 64, batch 32
    W3   64 noisy sine sequences of length 200, 1 input, hidden 32, next-step MSE, batch 16

Every engine runs on the same split (``engine.data``: 80 % training, 20 % validation) and one
epoch is the same work for all: one pass of training steps over the training part plus the
validation loss. Seconds per epoch is the median of the epochs after the first (warm-up).
RNN Scope is timed through the public ``engine.Trainer`` API (``trainer.epochs()``), so its
epochs also include what the app needs: the hidden-state probe and per-layer norms.
After one warm-up epoch each, the engines' timed epochs are interleaved round robin, so a
change in machine load hits all of them alike; CPU seconds are reported beside wall seconds.

Time to first result = constructing the Trainer + building and compiling the graphs (the
report's ``compile_seconds``, which includes the first call's JIT) + one training call. By
default the compile caches point at a fresh temporary folder, i.e. the first launch on a new
machine; ``--warm-cache`` uses the user's cache (a second launch).

One compute thread everywhere (the second core belongs to the GUI): the environment is set
before NumPy, JAX or torch are imported, ``torch.set_num_threads(1)``, and the process is pinned
to one core (``--no-pin`` to allow more): XLA's CPU runtime otherwise runs independent ops on a
second worker thread now and then, whatever the flags say.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

TARGETS = {  # minimum speed-up over PyTorch, per workload
    "W1a": 5.0,
    "W1b": 1.5,
    "W2": 1.4,
    "W3": 4.0,
}
MAX_VS_NUMPY = 1.2  # never slower than 1.2x the NumPy loop
MAX_FIRST_RESULT_S = 3.0


def _one_thread_env() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


# --------------------------------------------------------------------------- data


def pseudo_text(n_chars: int, seed: int = 0) -> str:
    """Deterministic English-like text: Zipf-distributed pseudo-words in sentences."""
    import numpy as np

    rng = np.random.default_rng(seed)
    onsets = ["", "b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "th", "st",
              "w", "v", "k", "sh", "ch", "tr", "pl"]
    vowels = ["a", "e", "i", "o", "u", "ea", "ou", "ai", "y"]
    codas = ["", "", "n", "s", "t", "r", "l", "nd", "st", "ng", "ck", "m"]
    words = set()
    while len(words) < 600:
        n_syl = rng.choice([1, 1, 2, 2, 3])
        words.add("".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas)
                          for _ in range(n_syl)))
    words = sorted(words)
    rng.shuffle(words)
    p = 1.0 / np.arange(1, len(words) + 1)
    p /= p.sum()
    parts, size = [], 0
    while size < n_chars:
        n = int(rng.integers(4, 16))
        sentence = [words[i] for i in rng.choice(len(words), n, p=p)]
        if n > 7 and rng.random() < 0.4:
            sentence[int(rng.integers(2, n - 2))] += ","
        text = " ".join(sentence).capitalize() + rng.choice([".", ".", ".", "?", "!"])
        text += "\n" if rng.random() < 0.15 else " "
        parts.append(text)
        size += len(text)
    return "".join(parts)[:n_chars]


def _sequence_dataset():
    try:
        from engine.data import SequenceDataset
    except ImportError:  # the package's __init__ may not re-export it yet
        from engine.data.dataset import SequenceDataset
    return SequenceDataset


def classify_dataset(n, T=50, F=16, n_classes=10, seed=0):
    """Sequences whose class sets a direction and frequency of an oscillation in noise."""
    import numpy as np

    SequenceDataset = _sequence_dataset()

    rng = np.random.default_rng(seed)
    directions = rng.normal(size=(n_classes, F))
    freqs = rng.uniform(0.1, 0.6, n_classes)
    labels = np.arange(n) % n_classes
    rng.shuffle(labels)
    t = np.arange(T)[:, None]
    seqs = [
        (np.sin(freqs[c] * t + rng.uniform(0, 2 * np.pi)) * directions[c]
         + rng.normal(0, 1.0, (T, F))).astype(np.float32)
        for c in labels
    ]
    return SequenceDataset(seqs, task="classify_sequence", labels=labels, name="W1")


def sine_dataset(n=64, T=200, seed=0):
    import numpy as np

    SequenceDataset = _sequence_dataset()

    rng = np.random.default_rng(seed)
    t = np.arange(T)
    seqs = [
        (np.sin(rng.uniform(0.05, 0.3) * t + rng.uniform(0, 2 * np.pi))
         + rng.normal(0, 0.1, T)).astype(np.float32)[:, None]
        for _ in range(n)
    ]
    return SequenceDataset(seqs, task="forecast", name="W3")


def text_dataset(n_chars, seed=0):
    import numpy as np

    SequenceDataset = _sequence_dataset()

    text = pseudo_text(n_chars, seed)
    vocab = sorted(set(text))
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = np.fromiter((index[ch] for ch in text), dtype=np.int32, count=len(text))
    return SequenceDataset([ids], task="next_token", vocabulary=vocab, name="W2")


@dataclass
class Workload:
    name: str
    title: str
    make_dataset: object  # () -> SequenceDataset
    hidden: int
    batch_size: int
    window: int | None = None
    embedding_size: int | None = None  # text only


def workloads(quick: bool) -> list[Workload]:
    n_seq = 128 if quick else 512
    n_chars = 50_000 if quick else 200_000
    return [
        Workload("W1a", f"{n_seq} seq T=50 F=16 H=128 10 classes, batch 1",
                 lambda: classify_dataset(n_seq), 128, 1),
        Workload("W1b", f"{n_seq} seq T=50 F=16 H=128 10 classes, batch 32",
                 lambda: classify_dataset(n_seq), 128, 32),
        Workload("W2", f"char LM {n_chars // 1000} KB, H=256, window 64, batch 32",
                 lambda: text_dataset(n_chars), 256, 32, window=64, embedding_size=32),
        Workload("W3", "64 sines T=200, H=32, next-step MSE, batch 16",
                 lambda: sine_dataset(), 32, 16),
    ]


# --------------------------------------------------------------------------- engines


def plain_batches(arrays, batch_size, task):
    """Time-major batches of real examples only (what a hand-written loop iterates)."""
    import numpy as np

    from engine.batches import TimeMajor

    data = TimeMajor(arrays, task, str(arrays.x.dtype) if arrays.x.ndim == 3 else "float32")
    out = []
    for start in range(0, data.n, batch_size):
        idx = np.arange(start, min(start + batch_size, data.n))
        x, mask, y = data.batch(idx)
        lengths = np.maximum(mask.sum(axis=0).astype(np.int64), 1)
        out.append((x, mask, y, lengths))
    return out


class Timed:
    """One engine's epochs: a warm-up epoch, then timed ones (wall and CPU seconds)."""

    def __init__(self, name, run_epoch):
        self.name, self.run_epoch = name, run_epoch
        self.wall, self.cpu = [], []
        self.loss = float("nan")

    def timed_epoch(self):
        w0, c0 = time.perf_counter(), time.process_time()
        self.loss = self.run_epoch()
        self.cpu.append(time.process_time() - c0)
        self.wall.append(time.perf_counter() - w0)

    def result(self):
        return statistics.median(self.wall), statistics.median(self.cpu)


def numpy_engine(w, split, n_out, n_in):
    from numpy_rnn import NumpyElman

    task = split.task
    net = NumpyElman(task, n_in, w.hidden, n_out, embedding_size=w.embedding_size, seed=0)
    train = plain_batches(split.train, w.batch_size, task)
    val = plain_batches(split.val, max(w.batch_size, 32), task)

    def epoch():
        losses = [net.train_step(*b) for b in train]
        for b in val:
            net.loss(*b)
        return float(sum(losses) / len(losses))

    epoch()  # warm-up
    return Timed("numpy", epoch)


def torch_engine(w, split, n_out, n_in):
    from torch_rnn import TorchTrainer

    task = split.task
    trainer = TorchTrainer(task, n_in, w.hidden, n_out, embedding_size=w.embedding_size, seed=0)
    train = [trainer.tensors(*b) for b in plain_batches(split.train, w.batch_size, task)]
    val = [trainer.tensors(*b) for b in plain_batches(split.val, max(w.batch_size, 32), task)]

    def epoch():
        losses = [trainer.train_step(b) for b in train]
        for b in val:
            trainer.loss(b)
        return float(sum(losses) / len(losses))

    epoch()  # warm-up
    return Timed("torch", epoch)


def rnnscope_engine(w, dataset, split, n_epochs):
    """The Trainer through its public API; the first epoch (with the compile) is the warm-up."""
    from engine import Trainer, TrainingConfig

    config = TrainingConfig(
        cell="elman", hidden_sizes=(w.hidden,), optimizer="adam", learning_rate=3e-3,
        batch_size=w.batch_size, clip_norm=5.0, epochs=1 + n_epochs, validation_fraction=0.2,
        seed=0, dtype="float32", backend="jax", window=w.window,
        embedding_size=w.embedding_size or 32,
    )
    t0 = time.perf_counter()
    trainer = Trainer(config, dataset, split=split)
    construct_s = time.perf_counter() - t0
    gen = trainer.epochs()
    t1 = time.perf_counter()
    first = next(gen)
    first_epoch_s = time.perf_counter() - t1
    reports = []

    def epoch():
        report = next(gen)
        reports.append(report)
        return report.train_loss

    timed = Timed("rnnscope", epoch)
    timed.info = {
        "first_result_s": construct_s + first.compile_seconds + first.step_ms / 1e3,
        "first_epoch_s": construct_s + first_epoch_s,
        "compile_s": first.compile_seconds,
    }
    timed.reports = reports
    timed.trainer = trainer
    return timed


def run_workload(w, dataset, split, n_epochs, have_torch):
    """Warm every engine up, then interleave their timed epochs (round robin), so a change in
    machine load during the run hits all engines alike and the ratios stay fair."""
    n_out, n_in = dataset.n_outputs, dataset.n_features
    engines = [rnnscope_engine(w, dataset, split, n_epochs), numpy_engine(w, split, n_out, n_in)]
    if have_torch:
        engines.append(torch_engine(w, split, n_out, n_in))
    for i in range(n_epochs):
        for e in engines[i % len(engines):] + engines[: i % len(engines)]:
            e.timed_epoch()
    ours = engines[0]
    r = dict(ours.info)
    r["rnnscope_s"], r["rnnscope_cpu_s"] = ours.result()
    r["step_ms"] = statistics.median(rep.step_ms for rep in ours.reports)
    r["n_compiles"] = ours.trainer.n_compiles
    r["rnnscope_loss"] = ours.loss
    r["torch_s"] = r["torch_cpu_s"] = r["torch_loss"] = None
    for e in engines[1:]:
        r[f"{e.name}_s"], r[f"{e.name}_cpu_s"] = e.result()
        r[f"{e.name}_loss"] = e.loss
    return r


# --------------------------------------------------------------------------- ablation


ABLATION_SHAPES = {  # T, B, F, H, n_out, task, text
    "W1a": (50, 1, 16, 128, 10, "classify_sequence", False),
    "W1b": (50, 32, 16, 128, 10, "classify_sequence", False),
    "W2": (64, 32, 45, 256, 45, "next_token", True),
    "W3": (200, 16, 1, 32, 1, "forecast", False),
}


def _unmasked_forward(spec, tp, x, mask):
    """The textbook graph: ``h = tanh(xw_t + h_tm1 @ U)``, no mask inside the scan."""
    import pytensor
    import pytensor.tensor as pt

    T, B = mask.type.shape
    W, U, b = tp["W1"], tp["U1"], tp["b1"]
    xw = (pt.dot(tp["emb"], W) + b)[x] if spec.is_text else pt.dot(x, W) + b
    h0 = pt.zeros((B, spec.hidden_sizes[0]), dtype=pytensor.config.floatX)
    h = pytensor.scan(lambda xw_t, h_tm1, U: pt.tanh(xw_t + pt.dot(h_tm1, U)),
                      sequences=[xw], outputs_info=[h0], non_sequences=[U], strict=True,
                      return_updates=False)
    if spec.task == "classify_sequence":
        last = pt.maximum(pt.sum(mask, axis=0).astype("int32") - 1, 0)
        return pt.dot(h[last, pt.arange(B)], tp["V"]) + tp["c"]
    return pt.dot(h, tp["V"]) + tp["c"]


def _cpu_ms(fn, args, n_calls):
    """Median CPU milliseconds of one call, after three warm-up calls."""
    import numpy as np

    for _ in range(3):
        np.asarray(fn(*args)[0])
    times = []
    for _ in range(n_calls):
        c0 = time.process_time()
        np.asarray(fn(*args)[0])
        times.append(time.process_time() - c0)
    return statistics.median(times) * 1e3


def _ablation_batch(rng, T, B, F, n_out, task, text):
    """Random inputs, a full mask and targets of one workload's shape."""
    import numpy as np

    x = rng.integers(0, F, (T, B)).astype("int32") if text else rng.normal(size=(T, B, F)).astype("float32")
    mask = np.ones((T, B), "float32")
    if task == "classify_sequence":
        y = rng.integers(0, n_out, B).astype("int32")
    elif task == "next_token":
        y = rng.integers(0, n_out, (T, B)).astype("int32")
    else:
        y = rng.normal(size=(T, B, n_out)).astype("float32")
    return x, mask, y


def _ablation_functions(spec, T, B, batch):
    """{variant: compiled Adam step} and {variant: its first loss} for both graphs."""
    import numpy as np

    from engine import backend, optim
    from engine.model import Model, build_forward, mean_loss, symbolic_inputs

    fns, losses = {}, {}
    for variant in ("engine.model", "plain autograd"):
        model = Model(spec)
        xs, ms, ys = symbolic_inputs(spec, T, B)
        if variant == "engine.model":
            out = build_forward(spec, model.tparams, xs, ms)["outputs"]
        else:
            out = _unmasked_forward(spec, model.tparams, xs, ms)
        loss = mean_loss(spec, out, ys, ms)
        opt = optim.Optimizer("adam", model.tparams, learning_rate=1e-3)
        updates, norms, ok = opt.updates(loss, spec.param_groups())
        fns[variant] = backend.function([xs, ms, ys], [loss, norms, ok], updates=updates)
        losses[variant] = float(np.asarray(fns[variant](*batch)[0]))
    return fns, losses


def ablate_mask(names, n_calls=40):
    """CPU ms of one f_train call: engine.model's graph vs a plain automatic-gradient scan.

    The comparison graph is the textbook one: step ``h = tanh(xw_t + h_tm1 @ U)`` with no mask
    inside the scan and ``pt.grad`` through it (per-step losses are masked anyway, and with the
    trailing padding engine.data makes the classifier reads ``h[length - 1]`` with one gather).
    It tells whether engine.model's choices (state carried through padding inside the step,
    its own backward pass) cost or save time. With the mask inside the step and ``pt.grad``,
    PyTensor's scan gradient recomputes ``tanh(xw_t + h_tm1 @ U)`` (a second matmul per step)
    in the backward loop, because the stored output is the masked state.
    """
    import numpy as np

    from engine.model import ModelSpec

    rng = np.random.default_rng(0)
    for name in names:
        T, B, F, H, n_out, task, text = ABLATION_SHAPES[name]
        spec = ModelSpec("elman", task, F, (H,), n_out, is_text=text, embedding_size=32)
        batch = _ablation_batch(rng, T, B, F, n_out, task, text)
        fns, losses = _ablation_functions(spec, T, B, batch)
        runs = [[_cpu_ms(fns[v], batch, n_calls) for v in fns] for _ in range(2)]  # interleaved
        ours, plain = min(r[0] for r in runs), min(r[1] for r in runs)
        print(f"{name}: f_train {ours:.2f} ms (engine.model) vs {plain:.2f} ms (plain autograd, "
              f"mask out of scan): engine.model {plain / ours:.2f}x as fast; "
              f"same first loss: {np.isclose(*losses.values(), rtol=1e-5)}", flush=True)


# --------------------------------------------------------------------------- report


def fmt(v, spec=".4f"):
    return "n/a" if v is None else format(v, spec)


def table(results: dict) -> str:
    head = (f"{'':5} {'rnnscope':>9} {'numpy':>9} {'torch':>9} {'vs torch':>15} "
            f"{'vs numpy':>15} {'first result':>15} {'step':>8}")
    lines = ["seconds per epoch (median), float32, 1 thread; ratios = other / rnnscope", head]
    for name, r in results.items():
        vt = r.get("speedup_vs_torch")
        vs_torch = "n/a" if vt is None else \
            f"{vt:5.2f}x {'ok' if vt >= TARGETS[name] else 'MISS'} >={TARGETS[name]:g}"
        vn = r["speedup_vs_numpy"]
        vs_numpy = f"{vn:5.2f}x {'ok' if vn >= 1 / MAX_VS_NUMPY else 'MISS'}"
        fr = r["first_result_s"]
        first = f"{fr:5.2f}s {'ok' if fr < MAX_FIRST_RESULT_S else 'MISS'}"
        lines.append(
            f"{name:5} {fmt(r['rnnscope_s']):>9} {fmt(r['numpy_s']):>9} {fmt(r['torch_s']):>9} "
            f"{vs_torch:>15} {vs_numpy:>15} {first:>15} {r['step_ms']:6.2f}ms"
        )
    lines.append("CPU seconds per epoch (median; insensitive to other processes on the machine):")
    for name, r in results.items():
        cpu_t = "n/a" if r["torch_cpu_s"] is None else \
            f"{r['torch_cpu_s']:.4f} ({r['torch_cpu_s'] / r['rnnscope_cpu_s']:.2f}x)"
        lines.append(f"{name:5} rnnscope {r['rnnscope_cpu_s']:.4f}  numpy {r['numpy_cpu_s']:.4f} "
                     f"({r['numpy_cpu_s'] / r['rnnscope_cpu_s']:.2f}x)  torch {cpu_t}")
    lines.append(f"targets: vs torch W1a>=5x W1b>=1.5x W2>=1.4x W3>=4x; never slower than "
                 f"{MAX_VS_NUMPY}x numpy (ratio >= {1 / MAX_VS_NUMPY:.2f}); first result < "
                 f"{MAX_FIRST_RESULT_S:g} s")
    return "\n".join(lines)


def _parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: smaller data, 3 timed epochs")
    parser.add_argument("--epochs", type=int, default=None,
                        help="timed epochs after the warm-up (default 5, --quick 3; minimum 3)")
    parser.add_argument("--only", default="", help="comma-separated workloads, e.g. W1a,W3")
    parser.add_argument("--warm-cache", action="store_true",
                        help="use the user's compile caches (second launch) instead of fresh ones")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch even if installed")
    parser.add_argument("--ablate", action="store_true",
                        help="instead of the benchmark: time engine.model's f_train against a "
                             "plain automatic-gradient scan with the mask outside it")
    parser.add_argument("--no-pin", action="store_true",
                        help="do not pin the process to one CPU core")
    return parser.parse_args(argv)


def _prepare_process(args):
    """One thread, one pinned core, the chosen compile cache, then the engine's imports.

    Returns (pinned core or None, the fresh cache folder to keep alive or None, import seconds).
    """
    _one_thread_env()
    pinned = None
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        # XLA keeps a pool of worker threads (one per core) and its thunk executor can run
        # independent ops on two of them at once despite the flags above; pinning before any
        # thread exists holds every engine to exactly one core, like the app's worker.
        pinned = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {pinned})
    cold = None
    if not args.warm_cache:
        cold = tempfile.TemporaryDirectory(prefix="rnnscope-bench-cache-")
        os.environ["XDG_CACHE_HOME"] = cold.name
    sys.path[:0] = [str(ROOT), str(HERE)]

    # The engine's int64 -> int32 casts under JAX are expected (x64 is off for float32).
    warnings.filterwarnings("ignore", message=r"Explicitly requested dtype int64")
    t0 = time.perf_counter()
    import numpy as np  # noqa: F401  (after the thread limits)

    from engine import backend

    backend.configure("jax")  # cache folder, expected warnings (threads: set above)
    backend.select("jax", "float32")
    import engine.training  # noqa: F401

    return pinned, cold, time.perf_counter() - t0


def _have_torch(args) -> bool:
    if args.no_torch:
        return False
    try:
        import torch
    except ImportError:
        print("torch is not importable: the PyTorch column is skipped "
              "(pip install /opt/wheels/torch-*.whl to include it)")
        return False
    torch.set_num_threads(1)
    return True


def _run_workloads(args, only, n_epochs, have_torch) -> dict:
    results = {}
    for w in workloads(args.quick):
        if only and w.name not in only:
            continue
        dataset = w.make_dataset()
        split = dataset.split(0.2, seed=0, window=w.window)
        print(f"{w.name}: {w.title}; train {len(split.train)} x T={split.window}, "
              f"val {len(split.val)}", flush=True)
        r = run_workload(w, dataset, split, n_epochs, have_torch)
        r["speedup_vs_numpy"] = r["numpy_s"] / r["rnnscope_s"]
        r["speedup_vs_torch"] = r["torch_s"] / r["rnnscope_s"] if have_torch else None
        r["target_vs_torch"] = TARGETS[w.name]
        losses = ", ".join(f"{k} {fmt(r[k + '_loss'], '.3f')}" for k in ("rnnscope", "numpy", "torch"))
        print(f"  rnnscope {r['rnnscope_s']:.4f} s/epoch, numpy {r['numpy_s']:.4f}, "
              f"torch {fmt(r['torch_s'])}; first result {r['first_result_s']:.2f} s "
              f"(compile {r['compile_s']:.2f} s); train loss after {n_epochs + 1} epochs: {losses}",
              flush=True)
        results[w.name] = r
    return results


def main(argv=None) -> int:
    args = _parse_args(argv)
    n_epochs = max(3, args.epochs or (3 if args.quick else 5))
    pinned, _cold_cache, import_s = _prepare_process(args)
    from engine import backend

    only = {s.strip() for s in args.only.split(",") if s.strip()}
    if args.ablate:
        ablate_mask([n for n in TARGETS if not only or n in only])
        return 0

    from numpy_rnn import check_against_reference

    err = check_against_reference()
    if err > 1e-9:
        print(f"NumPy baseline disagrees with engine.reference (rel. error {err:.2e})")
        return 1
    have_torch = _have_torch(args)
    if have_torch:
        import torch
    print(f"{backend.describe()}; imports {import_s:.2f} s; "
          f"torch {torch.__version__ if have_torch else 'absent'}; "
          f"{'warm' if args.warm_cache else 'fresh'} compile cache; {n_epochs} timed epochs; "
          f"{'pinned to CPU %d' % pinned if pinned is not None else 'not pinned'}")
    results = _run_workloads(args, only, n_epochs, have_torch)
    print()
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
