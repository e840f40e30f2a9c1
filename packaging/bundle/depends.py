"""The Debian packages the bundle needs from the system, worked out from its binaries.

Every ELF file under the bundle names the shared libraries it needs (NEEDED); those not in
the bundle itself come from the system. Each is looked up on this (the build) machine:
``ldconfig -p`` gives its file, ``dpkg -S`` the package that owns it. Libraries the app opens
by name through ctypes (PortAudio for sounddevice, X11 for mss) are added, as is the oldest
C library that has every GLIBC symbol version the binaries ask for.

    python packaging/bundle/depends.py ROOT/opt/vistavox    → prints the Depends value

Exits non-zero, naming the files, if a needed library is neither in the bundle nor on this
machine (the bundle would not start anywhere).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Opened with ctypes.util.find_library, so no ELF file names them.
CTYPES_LIBRARIES = {
    "libportaudio.so.2": "sounddevice (audio devices)",
    "libX11.so.6": "mss (screenshots)",
    "libXrandr.so.2": "mss (screenshots)",
    "libXfixes.so.3": "mss (screenshots)",
}
# Packages renamed in the 64-bit time_t transition (Debian 13, Ubuntu 24.04): either name.
T64_RENAMED = {
    "libasound2", "libatk-bridge2.0-0", "libatk1.0-0", "libatspi2.0-0", "libcups2",
    "libcurl4", "libdb5.3", "libelf1", "libflac12", "libgdk-pixbuf-2.0-0", "libglib2.0-0",
    "libgnutls30", "libgtk-3-0", "libhogweed6", "libmpg123-0", "libnettle8", "libpng16-16",
    "libreadline8", "libssl3",
}  # fmt: skip
_VERSION_REF = re.compile(r"\bGLIBC_(\d+)\.(\d+)(?:\.(\d+))?\b")


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def elf_facts(path: Path) -> tuple[list[str], tuple[int, ...]]:
    """The libraries ``path`` needs and the newest GLIBC symbol version it refers to."""
    done = subprocess.run(["objdump", "-p", str(path)], capture_output=True, text=True)
    libs, newest = [], (0,)
    for line in done.stdout.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "NEEDED":
            libs.append(words[1])
        for match in _VERSION_REF.finditer(line):
            newest = max(newest, tuple(int(g) for g in match.groups() if g))
    return libs, newest


def system_libraries() -> dict[str, str]:
    """soname → file, for this machine's x86-64 libraries (``ldconfig -p``)."""
    found: dict[str, str] = {}
    done = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines()[1:]:
        name, _, rest = line.strip().partition(" (")
        flags, _, path = rest.partition(") => ")
        if "x86-64" in flags:
            found.setdefault(name, path.strip())
    return found


def owner(path: str) -> str | None:
    """The Debian package that installed ``path`` (its real file, or the link itself)."""
    for candidate in dict.fromkeys([os.path.realpath(path), path]):
        done = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout.split(":", 1)[0].strip()
        # merged /usr: dpkg knows /lib/... where ldconfig says /usr/lib/...
        if candidate.startswith("/usr/lib/"):
            done = subprocess.run(
                ["dpkg", "-S", candidate.removeprefix("/usr")], capture_output=True, text=True
            )
            if done.returncode == 0:
                return done.stdout.split(":", 1)[0].strip()
    return None


def depends(bundle: Path) -> tuple[list[str], dict[str, list[str]]]:
    """The Depends entries, and per package the libraries that made it needed."""
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)]
    present = {p.name for p in bundle.rglob("*")}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        facts = dict(zip(files, pool.map(elf_facts, files), strict=True))
    wanted: dict[str, list[str]] = defaultdict(list)  # soname → who needs it
    newest_glibc: tuple[int, ...] = (0,)
    for path, (libs, glibc) in facts.items():
        newest_glibc = max(newest_glibc, glibc)
        for lib in libs:
            if lib not in present:
                wanted[lib].append(str(path.relative_to(bundle)))
    for lib, why in CTYPES_LIBRARIES.items():
        wanted[lib].append(why)
    system = system_libraries()
    packages: dict[str, list[str]] = defaultdict(list)
    missing = []
    for lib, users in sorted(wanted.items()):
        path = system.get(lib)
        package = owner(path) if path else None
        if package is None:
            missing.append(f"{lib} (needed by {', '.join(users[:3])})")
            continue
        packages[package].append(lib)
    if missing:
        raise SystemExit("not in the bundle nor on this machine:\n  " + "\n  ".join(missing))
    entries = []
    for package in sorted(packages):
        if package == "libc6":
            version = ".".join(str(n) for n in newest_glibc)
            entries.append(f"libc6 (>= {version})")
        elif package.removesuffix("t64") in T64_RENAMED:
            base = package.removesuffix("t64")
            entries.append(f"{base} | {base}t64")
        else:
            entries.append(package)
    if "libc6" not in packages:
        entries.insert(0, f"libc6 (>= {'.'.join(str(n) for n in newest_glibc)})")
    return entries, dict(packages)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    entries, packages = depends(Path(argv[0]))
    for package, libs in sorted(packages.items()):
        print(f"  {package}: {' '.join(sorted(libs))}", file=sys.stderr)
    print(", ".join(entries))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
