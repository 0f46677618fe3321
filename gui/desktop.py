"""Linux desktop integration: a ``.desktop`` entry and icons, so RNN Scope is in the app menus.

``rnn-scope --install-desktop`` writes, under ``$XDG_DATA_HOME`` (default ``~/.local/share``):

- ``applications/rnn-scope.desktop`` (from ``resources/rnn-scope.desktop``, with ``Exec`` set to
  the launcher that is running now, so a venv install starts its own interpreter);
- ``icons/hicolor/scalable/apps/rnn-scope.svg`` and ``icons/hicolor/256x256/apps/rnn-scope.png``.

``--uninstall-desktop`` removes exactly those files. No Qt: this runs before any window exists.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

APP_ID = "rnn-scope"
SCRIPT = "rnn-scope"  # the gui_scripts entry point setup.cfg declares


def data_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base)


def installed_paths(base: Path | None = None) -> dict[str, Path]:
    """Where each file goes: ``{"desktop": ..., "svg": ..., "png": ...}``."""
    base = base or data_home()
    icons = base / "icons" / "hicolor"
    return {
        "desktop": base / "applications" / f"{APP_ID}.desktop",
        "svg": icons / "scalable" / "apps" / f"{APP_ID}.svg",
        "png": icons / "256x256" / "apps" / f"{APP_ID}.png",
    }


def _quote(arg: str) -> str:
    """One Exec argument, quoted as the Desktop Entry spec asks (reserved characters, spaces)."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    return f'"{escaped}"'


def launch_command() -> list[str]:
    """How this installation starts the window: its ``rnn-scope`` script, else python main.py."""
    script = Path(sys.executable).with_name(SCRIPT)
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which(SCRIPT)
    if found:
        return [os.path.abspath(found)]
    # From a source tree (python main.py): the launcher next to the gui package.
    return [sys.executable, str(Path(__file__).resolve().parent.parent / "main.py")]


def desktop_entry(command: list[str]) -> str:
    """The bundled template with ``Exec`` (and ``TryExec``) pointing at ``command``."""
    import resources

    exec_line = " ".join(_quote(a) for a in command) + " %F"
    lines = []
    for line in Path(resources.DESKTOP_FILE).read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            lines.append(f"Exec={exec_line}")
            lines.append(f"TryExec={command[0]}")
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def install(base: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the entry and the icons; returns the files written. OSError if a folder is not writable."""
    import resources

    paths = installed_paths(base)
    sources = {"svg": resources.icon_path("rnnscope.svg"), "png": resources.icon_path("rnnscope.png")}
    for key, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        if key == "desktop":
            tmp.write_text(desktop_entry(command or launch_command()), encoding="utf-8")
        else:
            shutil.copyfile(sources[key], tmp)
        os.replace(tmp, path)  # a half-written entry never shows up in a menu
    return list(paths.values())


def uninstall(base: Path | None = None) -> list[Path]:
    """Remove what :func:`install` wrote; returns the files that were there."""
    removed = []
    for path in installed_paths(base).values():
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed


def run(action: str) -> int:
    """``--install-desktop`` / ``--uninstall-desktop`` from main.py: report on stdout, exit code."""
    try:
        files = install() if action == "install" else uninstall()
    except OSError as exc:
        where = exc.filename or data_home()
        print(f"rnn-scope: error: cannot write {where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    if action == "install":
        print("RNN Scope is now in your application menu:")
    elif not files:
        print(f"nothing to remove: no RNN Scope desktop entry under {data_home()}")
    else:
        print("removed:")
    for path in files:
        print(f"  {path}")
    return 0
