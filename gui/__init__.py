"""RNN Scope desktop GUI (all Qt lives here; ``engine`` never imports it).

PyQt5 is imported before anything imports pyqtgraph so pyqtgraph binds to PyQt5 rather than
to whichever other Qt binding happens to be installed.
"""

from PyQt5 import QtCore  # noqa: F401  (must precede every pyqtgraph import)
