"""A headless run in a child process, for the tests that follow or steer it: the command line, its
environment and a wait that fails as soon as the child has ended."""
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def child_env():
    env = dict(os.environ, PYTHONPATH=ROOT, QT_QPA_PLATFORM="offscreen")
    env.pop("RNNSCOPE_BACKEND", None)
    return env


def headless(*args):
    return [sys.executable, os.path.join(ROOT, "main.py"), "--headless", *map(str, args)]


def start(*args, log):
    """The headless child of ``headless(*args)``, its stderr written to the file ``log``.

    Its progress is one stderr line per epoch. Into an unread pipe (``stderr=PIPE``) that filled
    the pipe's 64 KB after ~750 epochs of these millisecond epochs, and the child then blocked in
    the write: it no longer read control.jsonl nor trained (seen: metrics.csv stopped at 753 rows).
    """
    with open(log, "wb") as handle:  # the child keeps its own descriptor
        proc = subprocess.Popen(headless(*args), cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=handle)
    proc.log = log
    return proc


def wave_csv(path, steps: int = 80):
    """A one-column sine wave, small enough for a child run's epochs to take milliseconds."""
    path.write_text("value\n" + "\n".join(f"{v:.5f}" for v in np.sin(np.arange(steps) / 4.0)) + "\n")
    return path


def wait_for(condition, proc, timeout=180.0, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the headless run ended (exit {proc.returncode}) before {what}{_tail(proc)}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}{_tail(proc)}")


def _tail(proc) -> str:
    log = getattr(proc, "log", None)
    if log is None or not os.path.exists(log):
        return ""
    with open(log, "rb") as handle:
        return "; its stderr ends: " + handle.read()[-2000:].decode("utf-8", "replace")
