"""engine.names is the one declaration of the engine's vocabulary; everything else uses it."""
import subprocess
import sys
from pathlib import Path

from engine import backend, checkpoint, model, names, optim, reference
from engine.data import dataset, loading
from tests.conftest import ROOT


def test_names_imports_nothing_heavy():
    script = ("import sys; import engine.names; "
              "print(' '.join(m for m in ('numpy', 'pytensor', 'jax', 'PyQt5') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == ""


def test_engine_modules_use_the_one_declaration():
    assert model.CELLS is names.CELLS and model.GATE_NAMES is names.GATE_NAMES
    assert reference.CELLS is names.CELLS and reference.TASKS is names.TASKS
    assert dataset.TASKS is names.TASKS and loading.FORMATS is names.FORMATS
    assert optim.OPTIMIZERS is names.OPTIMIZERS
    assert backend.BACKENDS is names.BACKENDS and backend.DTYPES is names.DTYPES
    assert checkpoint._DTYPES is names.DTYPES


def test_no_module_relists_a_vocabulary():
    # A literal copy of a vocabulary tuple anywhere but engine/names.py is a second owner.
    literals = ['("elman", "gru", "lstm")', '("sgd", "momentum", "rmsprop", "adam")', '("jax", "c", "numba")',
                '("classify_sequence", "next_token", "forecast")', '"learning_rate", "clip_norm", "momentum"']
    sources = [p for p in Path(ROOT).glob("*.py")] + list(Path(ROOT, "engine").rglob("*.py")) \
        + list(Path(ROOT, "gui").rglob("*.py"))
    offenders = [f"{p.relative_to(ROOT)}: {lit}" for p in sources if p.name != "names.py"
                 for lit in literals if lit in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_run_states():
    assert names.RUN_STATES == ("ready", "compiling", "running", "paused", "finished", "stopped", "diverged",
                                "failed", "interrupted")
    assert names.RunState("paused") is names.RunState.PAUSED and str(names.RunState.PAUSED) == "paused"
    assert names.RunState.RUNNING.is_active and not names.RunState.FINISHED.is_active
