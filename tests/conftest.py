"""Suite-wide set-up: headless Qt, one compute thread, caches inside the test session."""
import os
import sys
from pathlib import Path

# Before anything imports Qt: no display is needed for any test.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("RNNSCOPE_BACKEND", "jax")

ROOT = Path(__file__).resolve().parent.parent


def default_sigint() -> None:
    """Popen(preexec_fn=...): give the child Ctrl+C's default action. A job started in the
    background by a non-interactive shell inherits SIGINT ignored, and a Ctrl+C test would then
    test nothing but that."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine import backend  # noqa: E402

# The app's process set-up, as gui.app and headless mode do it: one compute thread before
# numpy/jax start, compiled code cached, JAX's expected warnings silenced.
backend.configure()
