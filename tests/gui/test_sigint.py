"""Ctrl+C in the terminal closes the window process (gui.sigint): a real subprocess, offscreen."""
import os
import signal
import subprocess
import sys
import threading
import time

from tests.conftest import ROOT

READY_LINE = "window open"  # gui.app logs it (--verbose) just before the event loop runs


def test_sigint_closes_the_window_with_130_and_no_traceback(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--verbose"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def read():
        for line in proc.stderr:
            lines.append(line)
            if READY_LINE in line:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ready.wait(60)  # (without the handler there is no such line: Ctrl+C comes after the wait)
        time.sleep(0.5)  # idle in Qt's event loop, where a plain Python handler never runs
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)
    stderr = "".join(lines)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert list((tmp_path / "config").rglob("*.conf")), "closed as the close button does: settings saved"
