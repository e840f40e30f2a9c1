"""What the bundle leaves out of what PyInstaller collected (used by vistavox.spec).

- The build machine's own system libraries (X11/xcb, GLib, NSS, ALSA, …): those come from
  the target system, named in the .deb's Depends (packaging/build_deb.sh works them out from
  what the bundle's binaries need). Copies from an older release shadowed the system's own
  and broke what else loads them (libstdc++ under Mesa's drivers, libxcb under libGL). Kept:
  the Python runtime's libraries whose names differ between releases (libffi7/8,
  libssl1.1/3) and that nothing but Python loads.
- Qt's QML modules (nothing here is written in QML; PyInstaller's QtQuick hook takes them
  all, with Qt 3D, Charts and the rest), the Qt plugins the app cannot use (printing through
  CUPS, the GTK theme with all of GTK, eglfs, VNC, QML debugging, the virtual keyboard), the
  Qt libraries only those needed, and Qt's translations (the app is in English; Chromium's
  en-US strings stay).
- Piper's Hebrew and Arabic diacritisers (no such voice is offered).
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Iterable

SYSTEM_DIRS = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/usr/local/lib/")
KEEP_SYSTEM = ("libffi.so.*", "libssl.so.*", "libcrypto.so.*", "libsqlite3.so.*", "libmpdec.so.*")

QT = "PySide6/Qt/"
QT_PLUGINS_KEPT = (
    "platforms/libqxcb.so",
    "platforms/libqwayland*.so",
    "platforms/libqoffscreen.so",
    "platforms/libqminimal.so",
    "platforminputcontexts/libcompose*.so",
    "platforminputcontexts/libibus*.so",
    "platformthemes/libqxdgdesktopportal.so",
    "imageformats/*",
    "iconengines/*",
    "xcbglintegrations/*",
    "tls/*",
    "wayland-*/*",
)
DATA_LEFT_OUT = (
    QT + "qml/*",
    QT + "translations/*.qm",
    QT + "translations/qtwebengine_locales/*",
    "piper/hebrew/*",
    "piper/tashkeel/*.onnx",
)
DATA_KEPT = (QT + "translations/qtwebengine_locales/en-US.pak",)


def _matches(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, pattern) for pattern in patterns)


def _from_system(source: str) -> bool:
    real = os.path.realpath(source)
    if not real.startswith(SYSTEM_DIRS):
        return False
    return not _matches(os.path.basename(real), KEEP_SYSTEM)


def _qt_plugin_unused(dest: str) -> bool:
    if not dest.startswith(QT + "plugins/"):
        return False
    return not _matches(dest.removeprefix(QT + "plugins/"), QT_PLUGINS_KEPT)


def needed(path: str) -> list[str]:
    """The shared libraries an ELF file names as NEEDED (objdump, which PyInstaller needs
    anyway)."""
    done = subprocess.run(["objdump", "-p", path], capture_output=True, text=True, check=False)
    lines = [line.split() for line in done.stdout.splitlines()]
    return [words[1] for words in lines if len(words) == 2 and words[0] == "NEEDED"]


def trim(binaries: list, datas: list) -> tuple[list, list, list[str]]:
    """The binaries and data files to collect, and what was left out (for the log)."""
    left_out: list[str] = []
    kept = []
    for entry in binaries:
        dest, source, _kind = entry
        if _from_system(source) or _qt_plugin_unused(dest) or dest.startswith(QT + "qml/"):
            left_out.append(dest)
        else:
            kept.append(entry)
    # Qt's libraries: only those that what is kept needs, directly or through one another.
    by_name = {os.path.basename(dest): (dest, source) for dest, source, _ in kept}
    is_qt_lib = {name for name, (dest, _) in by_name.items() if dest.startswith(QT + "lib/")}
    wanted: set[str] = set()
    queue = [name for name in by_name if name not in is_qt_lib]
    while queue:
        name = queue.pop()
        dest, source = by_name[name]
        if not os.path.isfile(source) or name in wanted:
            continue
        wanted.add(name)
        queue += [lib for lib in needed(source) if lib in by_name and lib not in wanted]
    binaries_out = []
    for entry in kept:
        name = os.path.basename(entry[0])
        # A top-level link to a Qt library is named like the library itself.
        if name in is_qt_lib and name not in wanted:
            left_out.append(entry[0])
        else:
            binaries_out.append(entry)
    datas_out = []
    for entry in datas:
        dest = entry[0]
        if _matches(dest, DATA_LEFT_OUT) and not _matches(dest, DATA_KEPT):
            left_out.append(dest)
        else:
            datas_out.append(entry)
    return binaries_out, datas_out, left_out
