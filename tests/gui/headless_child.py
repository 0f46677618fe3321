"""A headless run in a child process, for the tests that follow or steer it: the command line, its
environment and a wait that fails as soon as the child has ended."""
import os
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
            raise AssertionError(f"the headless run ended (exit {proc.returncode}) before {what}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
