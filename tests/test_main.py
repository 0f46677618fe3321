"""The launcher: thin, helpful on bad flags, and honest when no window can open."""
import subprocess
import textwrap
import sys

import pytest

import main
from tests.conftest import ROOT


def test_version_and_help_work_without_a_display():
    out = subprocess.run([sys.executable, "main.py", "--version"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("rnn-scope ")
    out = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0
    for flag in ("--cell", "--hidden", "--lr", "--optimizer", "--batch-size", "--epochs",
                 "--seed", "--backend", "--start", "--checkpoint", "--headless", "--out"):
        assert flag in out.stdout


def test_help_imports_no_numpy_pytensor_jax_or_qt():
    # --help only builds the parser: the option table (engine.data.options) must not pull NumPy in
    # through engine.data's package __init__ (it cost ~1.5 s of --help's 2 s).
    code = textwrap.dedent("""
        import runpy, sys
        sys.argv = ["main.py", "--help"]
        try:
            runpy.run_path("main.py", run_name="__main__")
        except SystemExit:
            pass
        heavy = ("numpy", "jax", "pytensor", "PyQt5", "pyqtgraph")
        print("loaded:", sorted(m for m in sys.modules if m.split(".")[0] in heavy), file=sys.stderr)
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "--nonfinite" in out.stdout
    assert out.stderr.splitlines()[-1] == "loaded: []"


def test_flags_are_parsed_into_typed_values():
    args = main.build_parser().parse_args(
        ["a.csv", "b.csv", "--hidden", "64, 32", "--lr", "0.01", "--cell", "gru", "--start"])
    assert args.files == ["a.csv", "b.csv"]
    assert args.hidden == (64, 32) and args.lr == 0.01 and args.cell == "gru" and args.start


@pytest.mark.parametrize("bad, message", [
    (["--hidden", "64,0"], "positive integers"),
    (["--hidden", "sixty"], "separated by commas"),
    (["--lr", "-1"], "greater than 0"),
    (["--cell", "transformer"], "invalid choice"),
])
def test_bad_flags_exit_2_with_a_message(bad, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main.build_parser().parse_args(bad)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_no_display_says_how_to_run_headless(monkeypatch):
    from gui import qt_env

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    problem = qt_env.display_problem()
    assert problem and "--headless" in problem


def test_missing_xcb_libraries_give_the_apt_get_line(monkeypatch):
    from gui import qt_env

    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(qt_env, "missing_libraries",
                        lambda platform="xcb": ["libxcb-icccm.so.4", "libxkbcommon-x11.so.0"])
    problem = qt_env.display_problem()
    assert "apt-get install -y libxcb-icccm4 libxkbcommon-x11-0" in problem


def test_main_sets_up_the_process_before_numpy_jax_or_qt_load():
    # One compute thread only works if the environment is set before those libraries start.
    code = textwrap.dedent("""
        import sys
        import main
        from engine import backend
        real = backend.configure
        def spy(*args, **kwargs):
            print("loaded:", sorted(m for m in ("numpy", "jax", "pytensor", "PyQt5") if m in sys.modules))
            return real(*args, **kwargs)
        backend.configure = spy
        main.main(["--headless", "no-such-file.csv"])
    """)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.splitlines()[0] == "loaded: []"
