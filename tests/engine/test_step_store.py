"""engine.step_store: the training step stored by one process trains the same in the next one;
a damaged entry or another graph falls back to compiling. Tiny models, few epochs."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import backend, step_store
from engine.training import Trainer, TrainingConfig
from tests.engine.test_training import SMALL, sine_dataset

ROOT = Path(__file__).resolve().parents[2]
CONFIG = dict(SMALL, cell="lstm", epochs=2)


@pytest.fixture
def store(tmp_path, monkeypatch):
    """The store in an empty folder of its own (only the store reads XDG_CACHE_HOME after start-up)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv(step_store.ENV_SWITCH, "on")
    step_store.forget()
    yield step_store.folder()
    step_store.forget()


def train(**changes) -> tuple[Trainer, dict]:
    """Two epochs of a tiny LSTM: the losses, and the weights and optimizer state at the end."""
    trainer = Trainer(TrainingConfig(**{**CONFIG, **changes}), sine_dataset())
    return trainer, outcome(trainer)


def outcome(trainer) -> dict:
    reports = list(trainer.epochs())
    values = {**trainer._model.get_params(), **trainer._optimizer.get_state()}
    return {"losses": [[r.train_loss, r.val_loss] for r in reports],
            "values": {k: np.asarray(v).tolist() for k, v in values.items()}}


def assert_same_training(result, reference):
    np.testing.assert_allclose(result["losses"], reference["losses"], rtol=0, atol=1e-6)
    assert result["values"].keys() == reference["values"].keys()
    for name, value in reference["values"].items():
        np.testing.assert_allclose(result["values"][name], value, rtol=0, atol=1e-6, err_msg=name)


# A launch of its own: the step from the store (or made and stored), and what JAX's compile
# cache said while the trainer got it, then two epochs.
LAUNCH = """
from engine import backend
backend.configure()
import json
import jax
from jax import monitoring
from engine.graph_text import describe_training
from tests.engine.test_step_store import CONFIG, Trainer, TrainingConfig, outcome, sine_dataset
events = []
monitoring.register_event_listener(lambda event, **_: events.append(event))
trainer = Trainer(TrainingConfig(**CONFIG), sine_dataset())
trainer._ensure_model()  # selects JAX and its compile cache
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)  # a fast machine's compile is kept too
trainer._ensure_training_functions()
step, cache = trainer.f_train, {k: events.count("/jax/compilation_cache/cache_" + k) for k in ("hits", "misses")}
result = outcome(trainer)
graph = describe_training(trainer)
print("RESULT", json.dumps({**result, "origin": step.program.origin, "cache": cache, "compiles": backend.compile_count(),
                            "n_compiles": trainer.n_compiles, "pytensor_built": step._function is not None,
                            "pytensor_ran": step._function is not None and step._function.vm.jit_fn._cache_size() > 0,
                            "graph": graph.summary(), "graph_chars": graph.total_chars}))
"""


def launch(env) -> dict:
    out = subprocess.run([sys.executable, "-c", LAUNCH], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert out.returncode == 0 and lines, out.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def test_a_stored_step_trains_in_the_next_launch_as_pytensors_function_does(store, monkeypatch):
    import pytensor

    monkeypatch.setenv(step_store.ENV_SWITCH, "off")
    compiled, reference = train()
    assert not isinstance(compiled.f_train, step_store.StoredStep)  # PyTensor's own function
    # Two launches on one empty cache folder (store and XLA); PyTensor's compile folder as this process's.
    env = {**os.environ, "PYTHONPATH": str(ROOT), step_store.ENV_SWITCH: "on",
           "PYTENSOR_FLAGS": f"base_compiledir={pytensor.config.base_compiledir}"}
    first, second = launch(env), launch(env)
    assert first["origin"] == "export" and second["origin"] == "file"
    assert first["pytensor_built"] and not first["pytensor_ran"]  # trained through the export: one XLA compile
    assert first["cache"]["misses"] >= 1 and second["cache"] == {"hits": 1, "misses": 0}  # ... which the next finds
    assert_same_training(first, reference)
    assert_same_training(second, reference)
    assert second["n_compiles"] == 2 == second["compiles"]  # the stored step and f_loss, each counted once
    assert not second["pytensor_built"]  # no graph built, no rewrites: the Graph dock's print came with the entry
    assert (second["graph"], second["graph_chars"]) == (first["graph"], first["graph_chars"])
    assert len(list(store.glob("*" + step_store.SUFFIX))) == 1


def one_step(**changes) -> Trainer:
    """A trainer that got its training step and took one step (no validation compiled)."""
    trainer = Trainer(TrainingConfig(**{**CONFIG, **changes}), sine_dataset())
    trainer._ensure_training_functions()
    loss, _, ok = trainer.f_train(*trainer._train.batch(np.arange(trainer.batch_size)))
    assert np.isfinite(float(np.asarray(loss))) and bool(np.asarray(ok))
    return trainer


def _entry(folder: Path) -> Path:
    [path] = folder.glob("*" + step_store.SUFFIX)
    return path


def _unreadable_module(data: bytes) -> bytes:
    """An entry whose checksum matches a module that is no StableHLO (JAX refuses it)."""
    header, _ = step_store._decode(data)
    module = b"not a module" * 100
    header["module_sha256"] = step_store.hashlib.sha256(module).hexdigest()
    return step_store._encode(header, module)


def _flip_module_byte(data: bytes) -> bytes:
    return data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:]


@pytest.mark.parametrize("damage", ["truncated", "module byte flipped", "refused by JAX", "a folder"])
def test_a_damaged_entry_is_ignored_and_the_step_compiles(store, caplog, damage):
    one_step()
    path = _entry(store)
    data = path.read_bytes()
    if damage == "a folder":  # unreadable, and no entry can be written over it either
        path.unlink()
        path.mkdir()
    else:
        path.write_bytes({"truncated": lambda: data[:len(data) // 2],
                          "module byte flipped": lambda: _flip_module_byte(data),
                          "refused by JAX": lambda: _unreadable_module(data)}[damage]())
    step_store.forget()
    caplog.set_level("WARNING", logger="rnnscope.step_store")
    trainer = one_step()
    assert trainer.f_train.program.origin == "export"  # compiled, exported and trained as on a miss
    assert any("ignoring" in r.getMessage() or "could not be read" in r.getMessage() for r in caplog.records)
    if damage == "a folder":
        assert any("could not be written" in r.getMessage() for r in caplog.records)
    else:
        header, module = step_store._decode(path.read_bytes())  # written anew, whole
        assert header["module_sha256"] == step_store.hashlib.sha256(module).hexdigest()


def test_another_graph_key_misses_and_an_equal_one_loads(store, monkeypatch):
    one_step()
    step_store.forget()
    assert one_step(batch_size=4).f_train.program.origin == "export"
    step_store.forget()
    assert one_step().f_train.program.origin == "file"
    step_store.forget()
    monkeypatch.setattr(step_store, "_sources_digest", "an edited engine")  # the graph's code changed
    assert one_step().f_train.program.origin == "export"
    assert len(list(store.glob("*" + step_store.SUFFIX))) == 3


def test_a_second_trainer_in_the_process_reuses_the_program_without_compiling_it(store):
    first, _ = train(epochs=1)
    before = first._model.get_params()
    compiles = backend.compile_count()
    second, _ = train(epochs=1, seed=1)
    assert second.f_train.program is first.f_train.program
    assert backend.compile_count() - compiles == 2  # the bound step and f_loss, as a copy counts
    after = first._model.get_params()
    for name in before:  # each trainer's step writes its own variables
        np.testing.assert_array_equal(before[name], after[name])
    graph = second.f_train.describe(200)  # the Graph dock's bound applies to the stored print too
    assert graph.truncated and len(graph.text) < 400 and graph.total_chars > 200
    assert second.f_train._function is None  # printed from the entry: PyTensor's function was never built


def test_the_store_is_only_for_jax_and_can_be_turned_off(monkeypatch):
    made = object()
    monkeypatch.setenv(step_store.ENV_SWITCH, "off")
    assert step_store.training_step(("f_train",), [], lambda: made) is made
    monkeypatch.setenv(step_store.ENV_SWITCH, "on")
    monkeypatch.setattr(backend, "info", lambda: backend.BackendInfo("c", "c", "float32", "C (gcc)"))
    assert step_store.training_step(("f_train",), [], lambda: made) is made


def test_prune_keeps_the_newest_entries_and_removes_stale_temporary_files(tmp_path):
    for k in range(5):
        path = tmp_path / f"{k}{step_store.SUFFIX}"
        path.write_bytes(b"x" * 100)
        os.utime(path, (1000 + k, 1000 + k))
    stale, fresh = tmp_path / ".0.step.ab12.tmp", tmp_path / ".1.step.cd34.tmp"
    stale.write_bytes(b"")
    fresh.write_bytes(b"")
    os.utime(stale, (1000, 1000))
    step_store.prune(tmp_path, max_entries=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "2.step", "3.step", "4.step"]
    step_store.prune(tmp_path, max_bytes=250)
    assert sorted(p.name for p in tmp_path.glob("*.step")) == ["3.step", "4.step"]
