"""Can Qt open a window here? Checked before Qt is asked, so users get an actionable message.

Qt's own failure ("could not load the Qt platform plugin 'xcb' ... Aborted") names neither the
missing library nor the fix. We run ``ldd`` on the plugin, map each missing library to its Debian
package and print the one ``apt-get install`` line that fixes it. Nothing here imports Qt widgets.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Missing shared object (as ldd prints it) -> Debian package that ships it.
DEBIAN_PACKAGES = {
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXext.so.6": "libxext6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}


def _plugin_dir() -> Path | None:
    try:
        import PyQt5  # the package only: no QtCore, no display needed
    except ImportError:
        return None
    return Path(PyQt5.__file__).parent / "Qt5" / "plugins" / "platforms"


def missing_libraries(platform: str = "xcb") -> list[str]:
    """Shared libraries the Qt platform plugin needs and this system lacks."""
    plugin_dir = _plugin_dir()
    if plugin_dir is None or not shutil.which("ldd"):
        return []
    plugin = plugin_dir / f"libq{platform}.so"
    libs_to_check = [plugin, plugin_dir.parent.parent / "lib" / "libQt5Gui.so.5"]
    missing: list[str] = []
    for lib in libs_to_check:
        if not lib.exists():
            continue
        out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "not found" in line:
                name = line.split("=>")[0].strip()
                if name not in missing:
                    missing.append(name)
    return missing


def apt_line(missing: list[str]) -> str:
    packages = sorted({DEBIAN_PACKAGES.get(name, name) for name in missing})
    return "sudo apt-get install -y " + " ".join(packages)


def display_problem() -> str | None:
    """A message saying why no window can open here and what to do, or None if it can."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux"):
        return None
    if platform and platform not in ("xcb", "wayland"):
        return None  # offscreen, vnc, ...: the user chose it
    if not platform and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return ("No display found (DISPLAY is not set), so the window cannot open.\n"
                "Train without a window instead:\n"
                "    .venv/bin/python main.py --headless [FILE] --epochs 50 --out results/\n"
                "or run the app under a virtual screen: xvfb-run .venv/bin/python main.py")
    if platform == "wayland" or (not platform and not os.environ.get("DISPLAY")):
        return None
    missing = missing_libraries("xcb")
    if missing:
        return ("Qt cannot open a window: the X11 (xcb) platform plugin needs libraries this "
                f"system lacks ({', '.join(missing)}). Install them with:\n    {apt_line(missing)}")
    return None


if __name__ == "__main__":  # `python -m gui.qt_env`: print the apt line if anything is missing
    names = missing_libraries("xcb") + missing_libraries("offscreen")
    if names:
        print(apt_line(sorted(set(names))))
        sys.exit(1)
    print("Qt platform libraries: all present")
