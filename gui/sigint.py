"""Ctrl+C in the terminal closes the window: SIGINT while Qt's event loop runs.

Python runs a signal handler only when the interpreter gets control back, and Qt's event loop
keeps it in C++ for as long as no Python slot is called, so a plain handler (or the default
KeyboardInterrupt) is never seen while the window idles. The C-level handler that Python installs
writes the signal number to the wakeup descriptor (``signal.set_wakeup_fd``) at once; a
``QSocketNotifier`` on the other end of a socket pair wakes the event loop, which lets the Python
handler run. That handler closes the window as the close button would (settings saved, the run
stopped and checkpointed, the training thread ended) and leaves the event loop with exit code 130,
as shells report a Ctrl+C (``gui.cli_output.EXIT_INTERRUPTED``).
"""

from __future__ import annotations

import logging
import signal
import socket

from PyQt5 import QtCore

from gui.cli_output import EXIT_INTERRUPTED

log = logging.getLogger(__name__)


class SigintQuit(QtCore.QObject):
    """Installed by :func:`install`; keeps the socket pair and the notifier alive."""

    def __init__(self, app, window):
        super().__init__(app)
        self._app = app
        self._window = window
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._write.fileno())
        self._previous_handler = signal.signal(signal.SIGINT, self._on_sigint)
        self._notifier = QtCore.QSocketNotifier(self._read.fileno(), QtCore.QSocketNotifier.Read, self)
        self._notifier.activated.connect(self._drain)
        self.interrupted = False

    def _drain(self, _fd=None) -> None:
        """The wakeup byte arrived: read it (the Python handler runs around this slot)."""
        try:
            while self._read.recv(64):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _on_sigint(self, _signum, _frame) -> None:
        if self.interrupted:  # a second Ctrl+C while closing: closing is under way already
            return
        self.interrupted = True
        log.info("Ctrl+C: closing the window")
        window = self._window
        self._app.setQuitOnLastWindowClosed(False)  # its quit() would make the exit code 0
        if window is not None and window.isVisible():
            window.close()  # closeEvent: settings, worker shutdown, as the close button does
        self._app.exit(EXIT_INTERRUPTED)

    def uninstall(self) -> None:
        self._notifier.setEnabled(False)
        signal.signal(signal.SIGINT, self._previous_handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._read.close()
        self._write.close()


def install(app, window) -> SigintQuit | None:
    """Make SIGINT close ``window`` and end ``app``'s event loop with 130 (main thread only)."""
    try:
        return SigintQuit(app, window)
    except (ValueError, OSError) as exc:  # not the main thread, or no socket pair here
        log.info("Ctrl+C handling not installed: %s", exc)
        return None
