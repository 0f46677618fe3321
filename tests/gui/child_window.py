"""The window in a child process (``gui.app.run_gui`` as ``main.py --start`` runs it), closed by a
test-given condition polled every 20 ms: for tests of how the real process exits."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TEMPLATE = r"""
import sys, time, threading
sys.path.insert(0, {root!r})
import engine
from argparse import Namespace
from PyQt5 import QtCore
import gui.app as app_module
{prelude}
closed = {{}}
original_setup = app_module.setup_window

def watch(window):
    if {close_when}:
        closed["at"] = time.monotonic()
        window.close()
        {after_close}
    else:
        QtCore.QTimer.singleShot(20, lambda: watch(window))

def setup(args):
    window = original_setup(args)
    QtCore.QTimer.singleShot(0, lambda: watch(window))
    return window

app_module.setup_window = setup
args = Namespace(files=[{path!r}], cell=None, hidden=(8,), lr=None, optimizer=None, batch_size=None,
                 epochs={epochs}, seed=None, backend=None, dtype=None, checkpoint=None, start=True)
code = app_module.run_gui(args)
{after_run}
"""


def run_window_child(tmp_path, path, *, close_when, epochs, prelude="", after_close="pass", after_run="",
                     timeout=180):
    """Run the child to its end (settings in ``tmp_path/config``); the CompletedProcess."""
    script = TEMPLATE.format(root=ROOT, path=str(path), prelude=prelude, close_when=close_when,
                             after_close=after_close, after_run=after_run, epochs=epochs)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "config"))
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=timeout)
