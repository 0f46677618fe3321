"""The house rule: engine/ and resources/ are pure computation and never load Qt."""
import json
import math
import os
import subprocess
import sys
import textwrap

from tests.conftest import ROOT

QT_PREFIXES = ("PyQt5", "PyQt6", "PySide2", "PySide6", "pyqtgraph", "gui")


def _modules_loaded_by(code: str) -> list[str]:
    script = textwrap.dedent(code) + textwrap.dedent("""
        import sys
        print("\\n".join(sorted(sys.modules)))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=300)
    return out.stdout.split()


def _qt_modules(modules):
    return [m for m in modules if m.split(".")[0] in QT_PREFIXES]


def test_importing_engine_loads_no_qt():
    mods = _modules_loaded_by("import engine")
    assert "engine" in mods and "engine.backend" in mods
    assert _qt_modules(mods) == []


def test_using_every_engine_module_loads_no_qt():
    # Touch every submodule, including the lazily imported ones, and build a real graph.
    mods = _modules_loaded_by("""
        import pkgutil, importlib, engine, resources
        for info in pkgutil.walk_packages(engine.__path__, "engine."):
            importlib.import_module(info.name)
        for info in pkgutil.walk_packages(resources.__path__, "resources."):
            importlib.import_module(info.name)
        from engine import backend
        backend.configure("jax")
    """)
    assert "pytensor" in mods
    assert _qt_modules(mods) == []


# What RNN Scope's own process set-up touches; a library user's process must keep all of it.
HOST_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS",
             "XLA_FLAGS", "JAX_PLATFORMS", "PYTENSOR_FLAGS", "RNNSCOPE_BACKEND")


def _guest_env(home) -> dict:
    """The environment of a fresh interpreter that has never heard of RNN Scope's set-up."""
    env = {k: v for k, v in os.environ.items() if k not in HOST_VARS and not k.startswith("XDG_")}
    env.update(HOME=str(home), PYTHONPATH=str(ROOT))
    return env


def _run_json(code: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_importing_and_training_the_engine_leaves_the_host_process_alone(tmp_path):
    env = _guest_env(tmp_path)
    # What importing PyTensor and JAX does by itself (JAX sets TF_CPP_MIN_LOG_LEVEL, ...).
    reference = _run_json("""
        import json, os
        before = dict(os.environ)
        import pytensor, jax
        jax.numpy.zeros(1).block_until_ready()
        changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
        print(json.dumps({"changed": changed, "compiledir": str(pytensor.config.compiledir),
                          "jax_cache": jax.config.jax_compilation_cache_dir}))
    """, env)
    guest = _run_json("""
        import json, os
        before = dict(os.environ)
        import engine
        from engine import Trainer, TrainingConfig
        from engine.data import load_sequences
        from resources import sample_path
        dataset = load_sequences(sample_path("sine_forecast.csv"))
        trainer = Trainer(TrainingConfig(hidden_sizes=(4,), epochs=2, batch_size=64), dataset)
        losses = [report.train_loss for report in trainer.epochs()]
        import pytensor
        changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))
        import jax
        print(json.dumps({"changed": changed, "compiledir": str(pytensor.config.compiledir),
                          "jax_cache": jax.config.jax_compilation_cache_dir,
                          "losses": [float(x) for x in losses],
                          "backend": engine.backend.describe()}))
    """, env)
    assert guest["changed"] == reference["changed"]  # nothing of ours
    assert guest["compiledir"] == reference["compiledir"]
    assert str(tmp_path / ".pytensor") in guest["compiledir"]  # PyTensor's own default
    assert guest["jax_cache"] == reference["jax_cache"]  # JAX's own (no persistent cache) unless the app asks
    assert len(guest["losses"]) == 2 and all(math.isfinite(x) for x in guest["losses"])
    assert "compute thread" not in guest["backend"]  # nobody limited the threads


def test_configure_limits_compute_to_one_thread_and_caches_in_rnn_scopes_folder(tmp_path):
    env = _guest_env(tmp_path)
    out = _run_json("""
        import json, os, sys
        from engine import backend
        backend.configure()
        assert "numpy" not in sys.modules  # cheap enough to call before the heavy imports
        import pytensor
        import jax
        backend.select()  # the JAX backend: its persistent compile cache goes under the app's folder too
        print(json.dumps({k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "XLA_FLAGS",
                          "JAX_PLATFORMS")} | {"compiledir": str(pytensor.config.compiledir),
                                              "jax_cache": jax.config.jax_compilation_cache_dir}))
    """, env)
    assert out["OMP_NUM_THREADS"] == "1" and out["JAX_PLATFORMS"] == "cpu"
    assert "--xla_cpu_multi_thread_eigen=false" in out["XLA_FLAGS"]
    assert "intra_op_parallelism_threads=1" in out["XLA_FLAGS"]
    assert out["compiledir"].startswith(str(tmp_path / ".cache" / "rnn-scope" / "pytensor"))
    assert out["jax_cache"] == str(tmp_path / ".cache" / "rnn-scope" / "jax")


def test_configure_keeps_the_users_own_thread_setting(tmp_path):
    env = _guest_env(tmp_path) | {"OMP_NUM_THREADS": "3"}
    out = _run_json("""
        import json, os
        from engine import backend
        backend.configure()
        print(json.dumps({"omp": os.environ["OMP_NUM_THREADS"]}))
    """, env)
    assert out["omp"] == "3"
