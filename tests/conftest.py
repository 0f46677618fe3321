"""Suite-wide set-up: headless Qt, one compute thread, caches inside the test session."""
import os
import signal
import sys
from pathlib import Path

# Before anything imports Qt: no display is needed for any test.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("RNNSCOPE_BACKEND", "jax")

ROOT = Path(__file__).resolve().parent.parent


# A suite started as a background job of a non-interactive shell inherits SIGINT ignored, and
# every child would inherit that too: the Ctrl+C tests would then test nothing but it. With
# Python's own handler here, children start with the default action (exec resets handlers).
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import backend  # noqa: E402

# The app's process set-up, as gui.app and headless mode do it: one compute thread before
# numpy/jax start, compiled code cached, JAX's expected warnings silenced.
backend.configure()
