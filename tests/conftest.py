"""Suite-wide set-up: headless Qt, one compute thread, caches inside the test session."""
import os
import sys
from pathlib import Path

# Before anything imports Qt: no display is needed for any test.
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("RNNSCOPE_BACKEND", "jax")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import engine  # noqa: E402,F401  (thread limits before numpy/jax start)
