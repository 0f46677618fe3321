"""The wheel holds exactly what is intended, builds without warnings, and says what it needs."""
import configparser
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser

import pytest

from tests.conftest import ROOT

PACKAGES = ("engine", "gui", "resources")
DATA = {
    "resources/rnn-scope.desktop",
    "resources/help/getting_started.md",
    "resources/icons/rnnscope.png",
    "resources/icons/rnnscope.svg",
    "resources/samples/README.md",
    "resources/samples/sine_forecast.csv",
    "resources/samples/waveforms_TRAIN.tsv",
    "resources/samples/words.txt",
    "resources/samples/words_COPYRIGHT.txt",
}
DIST_INFO = {"METADATA", "WHEEL", "RECORD", "entry_points.txt", "top_level.txt", "licenses/LICENSE"}


def _intended_modules() -> set[str]:
    """Every .py file of the three packages (folders with an __init__.py) plus the launcher."""
    found = {"main.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "__pycache__" not in path.parts and (path.parent / "__init__.py").exists():
                found.add(path.relative_to(ROOT).as_posix())
    return found


def _dirty_copy(dest):
    """The source tree as a developer has it: with a stray .pyc and a scratch .npz lying around."""
    ignore = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", ".pytest_cache",
                                    ".hypothesis", "__pycache__", "tests", "benchmarks", "docs")
    shutil.copytree(ROOT, dest, ignore=ignore)
    (dest / "resources" / "samples" / "scratch.npz").write_bytes(b"not ours")
    (dest / "resources" / "icons" / "__pycache__").mkdir()
    (dest / "resources" / "icons" / "__pycache__" / "stray.cpython-311.pyc").write_bytes(b"")
    (dest / "engine" / "__pycache__").mkdir(exist_ok=True)
    (dest / "engine" / "__pycache__" / "backend.cpython-311.pyc").write_bytes(b"")
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    src = _dirty_copy(tmp_path_factory.mktemp("src") / "rnn-scope")
    out = tmp_path_factory.mktemp("wheel")
    # The PEP 517 hook itself, in this venv: its pinned setuptools (the Makefile's), no build
    # isolation, no download, and no pip needed (what `pip wheel --no-build-isolation` calls).
    build = "import sys; from setuptools import build_meta; print(build_meta.build_wheel(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", build, str(out)], cwd=src,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("rnn_scope-*.whl")
    return path, done.stdout + done.stderr


def test_wheel_holds_exactly_the_modules_data_and_licence(wheel):
    path, _ = wheel
    names = set(zipfile.ZipFile(path).namelist())
    dist_info = {n for n in names if n.split("/")[0].endswith(".dist-info")}
    payload = names - dist_info
    assert {n.split("/", 1)[1] for n in dist_info} == DIST_INFO
    assert payload == _intended_modules() | DATA
    assert not [n for n in names if n.endswith((".pyc", ".npz")) or "__pycache__" in n]


def test_build_is_warning_free(wheel):
    _, log = wheel
    bad = [line for line in log.splitlines()
           if ("warning" in line.lower() or "would be ignored" in line.lower())
           and "byte-compiling is disabled" not in line]  # PYTHONDONTWRITEBYTECODE in this shell
    assert bad == []


def test_metadata_declares_the_tested_python_licence_and_both_launchers(wheel):
    path, _ = wheel
    zf = zipfile.ZipFile(path)
    meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
    meta = Parser().parsestr(zf.read(meta_name).decode())
    assert meta["Requires-Python"] == "<3.12,>=3.11"
    assert meta["License"] == "MIT" or meta["License-Expression"] == "MIT"
    assert "RNN Scope developers" in zf.read(meta_name.replace("METADATA", "licenses/LICENSE")).decode()
    requires = meta.get_all("Requires-Dist")
    assert "numpy<3,>=2.3" in requires and "pytensor<3.1,>=3.0.3" in requires
    entry = configparser.ConfigParser()
    entry.read_string(zf.read(meta_name.replace("METADATA", "entry_points.txt")).decode())
    assert entry["gui_scripts"]["rnn-scope"] == "main:main"
    assert entry["console_scripts"]["rnn-scope-cli"] == "main:main"


def test_constraints_pin_every_requirement_exactly():
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "constraints.txt").read_text().splitlines()]
    pins = dict(ln.split("==") for ln in lines if ln)
    for name in ("numpy", "pytensor", "jax", "jaxlib", "pyqt5", "pyqtgraph", "pytest", "nbclient",
                 "ipykernel", "setuptools"):
        assert name in pins, f"constraints.txt does not pin {name}"
    makefile = (ROOT / "Makefile").read_text()
    assert f"SETUPTOOLS_VERSION := {pins['setuptools']}" in makefile  # one setuptools everywhere
    assert "-c constraints.txt" in makefile


def test_make_run_writes_the_apps_byte_code_before_it_starts_the_app():
    """A shell with PYTHONDONTWRITEBYTECODE (these machines) never writes it: every launch compiled
    each of the app's modules from source again (~0.5 s of the launch, issue 10's launch latency)."""
    out = subprocess.run(["make", "-n", "run", "PYTHON=python3"], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    compiling = [k for k, line in enumerate(out) if "-m compileall" in line]
    starting = [k for k, line in enumerate(out) if line.split()[-1:] == ["main.py"]]
    assert compiling and starting and compiling[0] < starting[0]
    assert {"main.py", "engine", "gui", "resources"} <= set(out[compiling[0]].split())
