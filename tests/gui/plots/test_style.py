"""pyqtgraph's global options are set by the app at start-up, never by importing the plots."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_importing_plots_leaves_pyqtgraph_options_alone_until_configure():
    code = (
        "import pyqtgraph as pg\n"
        "before = pg.getConfigOption('imageAxisOrder')\n"
        "import gui.plots\n"
        "assert pg.getConfigOption('imageAxisOrder') == before == 'col-major', before\n"
        "from gui.app import make_application\n"
        "make_application(['test'])\n"
        "assert pg.getConfigOption('imageAxisOrder') == 'row-major'\n"
        "assert pg.getConfigOption('antialias') is False\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            env={"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                            timeout=120)
    assert result.returncode == 0, result.stderr
