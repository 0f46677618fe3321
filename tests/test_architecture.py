"""The house rule: engine/ and resources/ are pure computation and never load Qt."""
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


def test_engine_limits_compute_to_one_thread():
    out = subprocess.run(
        [sys.executable, "-c",
         "import os; os.environ.pop('XLA_FLAGS', None); os.environ.pop('OMP_NUM_THREADS', None);"
         "import engine; print(os.environ['OMP_NUM_THREADS']); print(os.environ['XLA_FLAGS'])"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120)
    omp, xla = out.stdout.splitlines()
    assert omp == "1"
    assert "--xla_cpu_multi_thread_eigen=false" in xla and "intra_op_parallelism_threads=1" in xla
