"""Suite-wide set-up: headless Qt, one compute thread, caches inside the test session."""
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

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


@pytest.fixture(autouse=True)
def restore_logging():
    """Each test leaves the logging set-up as it found it: no handler of gui.logging_setup's stays.

    ``main.main()`` installs a handler on the ``sys.stderr`` of the moment (logging_setup.configure),
    in a test pytest's capture of that test. Left on the root logger, the next tests' warnings went
    to a closed stream and printed "--- Logging error --- Traceback ..." on stderr, which a test that
    checks stderr for tracebacks then failed on (tests/gui in reverse file order: test_headless_results,
    then test_file_actions). Only the handlers configure() marks are removed: pytest's own capture
    handlers differ between a test's setup and teardown."""
    root = logging.getLogger()
    level = root.level
    levels = {name: logger.level for name, logger in logging.root.manager.loggerDict.items()
              if isinstance(logger, logging.Logger)}  # (placeholders have no level)
    yield
    for handler in list(root.handlers):
        if getattr(handler, "_rnnscope", False):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    setup = sys.modules.get("gui.logging_setup")  # not imported here: engine tests stay without Qt
    for name in (setup.OUR_LOGGERS if setup is not None else ()):
        logging.getLogger(name).setLevel(levels.get(name, logging.NOTSET))
