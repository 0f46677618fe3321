"""--install-desktop / --uninstall-desktop write and remove a valid entry and its icons."""
import configparser
import subprocess
import sys

import pytest

from gui import desktop
from tests.conftest import ROOT


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    return tmp_path


def _entry(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    parser.read_string(path.read_text())
    return parser["Desktop Entry"]


def test_install_writes_an_entry_that_starts_this_installation_and_icons(home):
    files = desktop.install(command=["/opt/my env/bin/rnn-scope"])
    apps = home / ".local" / "share" / "applications" / "rnn-scope.desktop"
    svg = home / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "rnn-scope.svg"
    png = home / ".local" / "share" / "icons" / "hicolor" / "256x256" / "apps" / "rnn-scope.png"
    assert set(files) == {apps, svg, png}
    entry = _entry(apps)
    assert entry["Type"] == "Application" and entry["Name"] == "RNN Scope"
    assert entry["Exec"] == '"/opt/my env/bin/rnn-scope" %F'  # quoted: the path has a space
    assert entry["Icon"] == "rnn-scope" and entry["Terminal"] == "false"
    assert svg.read_bytes().lstrip().startswith(b"<") and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(home.rglob("*.tmp"))
    desktop_file_validate = subprocess.run(["sh", "-c", "command -v desktop-file-validate"],
                                           capture_output=True, text=True).stdout.strip()
    if desktop_file_validate:  # Debian's desktop-file-utils, when installed
        out = subprocess.run([desktop_file_validate, str(apps)], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr


def test_xdg_data_home_wins_and_uninstall_removes_exactly_what_was_written(home, monkeypatch):
    data = home / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    mine = data / "applications" / "someone-else.desktop"
    mine.parent.mkdir(parents=True)
    mine.write_text("[Desktop Entry]\n")
    written = desktop.install()
    assert all(str(p).startswith(str(data)) for p in written)
    assert set(desktop.uninstall()) == set(written)
    assert not any(p.exists() for p in written) and mine.exists()
    assert desktop.uninstall() == []


def test_the_flags_from_the_command_line(home):
    env_run = dict(cwd=ROOT, capture_output=True, text=True, timeout=120)
    usage = subprocess.run([sys.executable, "main.py", "--help"], **env_run).stdout
    assert "--install-desktop" in usage and "--uninstall-desktop" in usage
    out = subprocess.run([sys.executable, "main.py", "--install-desktop"], **env_run)
    assert out.returncode == 0, out.stderr
    apps = home / ".local" / "share" / "applications" / "rnn-scope.desktop"
    assert str(apps) in out.stdout and apps.exists()
    exec_line = _entry(apps)["Exec"]
    assert "main.py" in exec_line or "rnn-scope" in exec_line
    out = subprocess.run([sys.executable, "main.py", "--uninstall-desktop"], **env_run)
    assert out.returncode == 0 and "removed" in out.stdout and not apps.exists()


def test_an_unwritable_folder_is_one_line_and_exit_2(home, monkeypatch, capsys):
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "file"))
    (home / "file").write_text("not a folder")
    assert desktop.run("install") == 2
    err = capsys.readouterr().err
    assert err.startswith("rnn-scope: error: cannot write") and err.count("\n") == 1
