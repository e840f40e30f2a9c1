"""The self-contained .deb (packaging/build_deb.sh) for machines without Python: its control
fields and file list, and the bundle unpacked (``dpkg-deb -x``) into a temporary root and run
there with a clean environment (no virtualenv, no PYTHONPATH, a home of its own): the version,
an exact answer, the embedded models, a spoken question answered, OCR, the sandboxed Python
tool, the sketch reader's process, and the desktop app under Xvfb until its window is up,
stopped with SIGTERM, leaving no process behind.

Runs when dist/vistavox_<version>_amd64.deb exists, or with VISTAVOX_BUILD_BUNDLE=1, which
builds it first through packaging/build_deb.sh (a minute or two the first time; then cached
under ~/.cache/vistavox/bundle and immediate while nothing changed). Measured times are
written to tests/artifacts/bundle-times.json."""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import tomllib
from pathlib import Path

import pytest

from tests.desktop_rig import ScreenUnavailable, VirtualScreen
from vistavox.models.manifest import MANIFEST, PackageSource
from vistavox.pipelines.desktop_entry import APP_ID, ICON_SIZES

REPO = Path(__file__).resolve().parents[1]
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
DEB = REPO / "dist" / f"vistavox_{VERSION}_amd64.deb"
BUILD = os.environ.get("VISTAVOX_BUILD_BUNDLE") == "1"
OPT = "opt/vistavox"

pytestmark = pytest.mark.skipif(
    not (BUILD or DEB.is_file()),
    reason=f"no bundle at {DEB.relative_to(REPO)}: build it with `bash packaging/build_deb.sh` "
    "(or run with VISTAVOX_BUILD_BUNDLE=1 to build it here; a minute or two the first time)",
)

# What the desktop app's Qt (xcb) and QtWebEngine need from the system, and PortAudio
# (packaging/setup.sh RUN_PACKAGES); the Depends field must name each.
SYSTEM_PACKAGES = {
    "libportaudio2", "libegl1", "libgl1", "libxkbcommon0", "libxkbcommon-x11-0",
    "libxcb-cursor0", "libxcb-icccm4", "libxcb-image0", "libxcb-keysyms1", "libxcb-randr0",
    "libxcb-render-util0", "libxcb-shape0", "libxcb-xkb1", "libfontconfig1", "libdbus-1-3",
    "libnss3", "libxcomposite1", "libxdamage1", "libxrandr2", "libxtst6", "libxkbfile1",
}  # fmt: skip
BUILD_TOOLS = re.compile(
    r"^(build-essential|cmake|git|gcc.*|g\+\+.*|make|python3.*|.*-dev|pyinstaller.*)$"
)
QUESTION = "What is 23 times 47?"
TIMES: dict[str, object] = {}


def _run(args, env: dict[str, str], timeout: float = 300, **kwargs):
    started = time.monotonic()
    done = subprocess.run(
        [str(a) for a in args], env=env, capture_output=True, text=True, timeout=timeout, **kwargs
    )
    done.seconds = time.monotonic() - started  # type: ignore[attr-defined]
    return done


@pytest.fixture(scope="module")
def deb() -> Path:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb is not installed")
    if BUILD:
        done = subprocess.run(
            ["bash", str(REPO / "packaging" / "build_deb.sh")],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    assert DEB.is_file()
    return DEB


@pytest.fixture(scope="module")
def root(deb, tmp_path_factory) -> Path:
    """The package unpacked as it would be installed, under a temporary root."""
    target = tmp_path_factory.mktemp("deb-root")
    done = subprocess.run(["dpkg-deb", "-x", str(deb), str(target)], capture_output=True)
    assert done.returncode == 0, done.stderr
    return target


@pytest.fixture
def home(tmp_path) -> dict:
    """A user of the bundle: a home of its own and an environment without any Python
    (no PYTHONPATH, no virtualenv on PATH)."""
    home = tmp_path / "home"
    (home / ".config" / "vistavox").mkdir(parents=True)
    (home / ".config" / "vistavox" / "settings.json").write_text(json.dumps({"welcomed": True}))
    runtime = Path(tempfile.mkdtemp(prefix="vv-run-"))  # short: a socket lives there
    runtime.chmod(0o700)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(runtime),
        "TMPDIR": str(tmp_path),
    }
    yield {"home": home, "env": env, "cwd": tmp_path}
    shutil.rmtree(runtime, ignore_errors=True)


@pytest.fixture(scope="module", autouse=True)
def times_file():
    yield
    if TIMES:
        out = Path(os.environ.get("VISTAVOX_TEST_ARTIFACTS", REPO / "tests" / "artifacts"))
        out.mkdir(parents=True, exist_ok=True)
        (out / "bundle-times.json").write_text(json.dumps(TIMES, indent=2) + "\n")


def _control(deb: Path) -> dict[str, str]:
    done = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    fields, key = {}, None
    for line in done.stdout.splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _contents(deb: Path) -> list[tuple[str, str, str, str]]:
    """(mode, owner, path, link target) of every entry of the data archive."""
    done = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    entries = []
    for line in done.stdout.splitlines():
        mode, owner, _size, _date, _time, rest = line.split(None, 5)
        path, _, target = rest.partition(" -> ")
        entries.append((mode, owner, path.removeprefix("./").rstrip("/"), target))
    return entries


def _installed_size(root: Path) -> int:
    """KiB as dpkg-gencontrol counts it: files rounded up, 1 for each folder and link."""
    total = 0
    for top, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(top, name)
            if path.is_symlink() or not path.is_file():
                total += 1
            else:
                total += -(-path.stat().st_size // 1024)
    return total


# --- the package ----------------------------------------------------------------------------


def test_control_fields(deb, root):
    fields = _control(deb)
    assert fields["Package"] == "vistavox"
    assert fields["Version"] == VERSION
    assert fields["Architecture"] == "amd64"
    assert re.fullmatch(r"[^<>]+ <[^<>@\s]+@[^<>\s]+>", fields["Maintainer"]), fields
    measured = _installed_size(root)
    assert abs(int(fields["Installed-Size"]) - measured) <= 0.01 * measured, measured
    alternatives = [
        {re.sub(r"\s*\(.*\)", "", name).strip() for name in entry.split("|")}
        for entry in fields["Depends"].split(",")
    ]
    named = set().union(*alternatives)
    assert not SYSTEM_PACKAGES - named, SYSTEM_PACKAGES - named
    assert not [n for n in named if BUILD_TOOLS.match(n)], named
    assert re.search(r"\blibc6 \(>= 2\.\d+\)", fields["Depends"]), fields["Depends"]
    TIMES["deb_mb"] = round(deb.stat().st_size / 2**20)
    TIMES["installed_mb"] = round(int(fields["Installed-Size"]) / 1024)


def test_dependencies_resolve_here(deb):
    """apt would install it on this machine (a simulation: nothing is installed)."""
    if shutil.which("apt-get") is None:
        pytest.skip("apt-get is not installed")
    done = subprocess.run(
        ["apt-get", "install", "--simulate", "--no-install-recommends", str(deb)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"^Inst vistavox ", done.stdout, re.M), done.stdout[-2000:]


def test_file_list(deb):
    entries = _contents(deb)
    paths = {path: (mode, owner, target) for mode, owner, path, target in entries}
    # Nothing of a user's: conversations and settings (~/.local/share/vistavox,
    # ~/.config/vistavox) are never in the package, so removing it cannot touch them.
    assert not [p for p in paths if p.split("/")[0] in ("home", "root", "etc", "var", "tmp")]
    allowed = (OPT, "usr/bin", "usr/share/applications", "usr/share/icons/hicolor",
               "usr/share/metainfo", "usr/share/doc/vistavox")  # fmt: skip
    parents = ("", "opt", "usr", "usr/share", "usr/share/doc", "usr/share/icons")
    strays = [p for p in paths if p not in parents]
    strays = [p for p in strays if not any(p == a or p.startswith(a + "/") for a in allowed)]
    assert not strays, strays[:20]
    assert all(owner == "root/root" for _mode, owner, _path, _target in entries)
    writable = [p for m, _o, p, _t in entries if not m.startswith("l") and "w" in m[4:]]
    assert not writable, writable[:10]  # only root may change what is installed
    assert not [p for p in paths if "/__pycache__/" in p or "tkinter" in p]

    assert paths[f"{OPT}/vistavox"][0] == "-rwxr-xr-x"
    assert paths[f"{OPT}/vistavox-desktop"][2] == "vistavox"
    assert paths["usr/bin/vistavox"][2] == f"../../{OPT}/vistavox"
    assert paths["usr/bin/vistavox-desktop"][2] == f"../../{OPT}/vistavox-desktop"
    assert f"usr/share/applications/{APP_ID}.desktop" in paths
    assert f"usr/share/metainfo/{APP_ID}.metainfo.xml" in paths
    assert f"usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg" in paths
    for size in ICON_SIZES:
        assert f"usr/share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png" in paths
    # The embedded models, where the resolver looks: inside their packages.
    for spec in MANIFEST:
        if isinstance(spec.source, PackageSource):
            parts = [OPT, "_internal", spec.source.package, spec.source.subdir]
            folder = "/".join(filter(None, parts))
            for file in spec.files:
                assert f"{folder}/{file.path}" in paths, (spec.name, file.path)
    # QtWebEngine: the helper process, its resources and (English) strings.
    qt = f"{OPT}/_internal/PySide6/Qt"
    assert f"{qt}/libexec/QtWebEngineProcess" in paths
    assert f"{qt}/resources/qtwebengine_resources.pak" in paths
    assert f"{qt}/translations/qtwebengine_locales/en-US.pak" in paths
    assert f"{OPT}/_internal/faster_whisper/assets/silero_vad_v6.onnx" in paths
    assert [p for p in paths if re.fullmatch(rf"{OPT}/_internal/llama_cpp/lib/libllama\.so.*", p)]


def test_launcher_entry(root):
    path = root / "usr" / "share" / "applications" / f"{APP_ID}.desktop"
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read_string(path.read_text(encoding="utf-8"))
    entry = parser["Desktop Entry"]
    assert entry["Exec"] == "/usr/bin/vistavox-desktop"
    assert entry["TryExec"] == "/usr/bin/vistavox-desktop"
    assert entry["Icon"] == APP_ID
    if shutil.which("desktop-file-validate"):
        done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
        problems = [line for line in done.stdout.splitlines() if re.search(r"error|warning", line)]
        assert done.returncode == 0 and not problems, done.stdout + done.stderr
    metainfo = root / "usr" / "share" / "metainfo" / f"{APP_ID}.metainfo.xml"
    if shutil.which("appstreamcli"):
        done = subprocess.run(
            ["appstreamcli", "validate", "--no-net", str(metainfo)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert not re.search(r"^[EW]: ", done.stdout, re.M), done.stdout


def test_maintainer_scripts_only_refresh_caches(deb, tmp_path):
    control = tmp_path / "DEBIAN"
    subprocess.run(["dpkg-deb", "-e", str(deb), str(control)], check=True)
    for name, argument in (("postinst", "configure"), ("postrm", "remove"), ("postrm", "purge")):
        script = control / name
        text = script.read_text()
        assert "/home" not in text.replace("~/", "") and "$HOME" not in text
        assert not re.search(r"^\s*(rm|mv|cp|chown|chmod)\b", text, re.M), name
        # Without the cache tools (a minimal system) the scripts do nothing and succeed.
        done = subprocess.run(
            ["/bin/sh", str(script), argument],
            env={"PATH": str(tmp_path / "nothing")},
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr


# --- the bundle, run from the unpacked package ----------------------------------------------


def test_version(root, home):
    for program in (root / OPT / "vistavox", root / "usr" / "bin" / "vistavox"):
        done = _run([program, "--version"], home["env"], cwd=home["cwd"])
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"vistavox {VERSION}"
    TIMES["version_s"] = round(done.seconds, 2)


def test_the_desktop_command_is_registered(root, home):
    # `vistavox desktop` comes from the desktop folder's entry point: the bundle holds the
    # metadata that registers it.
    done = _run([root / OPT / "vistavox", "desktop", "--help"], home["env"], cwd=home["cwd"])
    assert done.returncode == 0, done.stderr
    assert "--db" in done.stdout


def test_ask_answers_exactly(root, home):
    done = _run([root / OPT / "vistavox", "ask", QUESTION], home["env"], cwd=home["cwd"])
    assert done.returncode == 0, done.stderr
    assert "1,081" in done.stdout, done.stdout
    assert "[intent] calculate" in done.stderr
    TIMES["ask_s"] = round(done.seconds, 2)


def test_models_lists_the_embedded_ones_as_present(root, home):
    done = _run([root / OPT / "vistavox", "models"], home["env"], cwd=home["cwd"])
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for spec in MANIFEST:
        if spec.default:
            at = next(i for i, line in enumerate(lines) if line.split()[:1] == [spec.name])
            status = lines[at + 1].split()
            assert status[0] == "ok", lines[at : at + 2]
            assert Path(status[1]).is_relative_to(root / OPT), status


def test_a_spoken_question_is_answered(root, home):
    """Whisper (CTranslate2, PyAV), the language model (llama.cpp) and the voice (Piper,
    espeak-ng, ONNX Runtime), all from the bundle."""
    question = root / OPT / "_internal" / "vistavox" / "resources" / "samples" / "question.wav"
    answer = home["cwd"] / "answer.wav"
    done = _run(
        [root / OPT / "vistavox", "reply", "--audio-in", question, "--audio-out", answer],
        home["env"],
        cwd=home["cwd"],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "You said: How many legs does the spider have?" in done.stdout, done.stdout
    assert answer.stat().st_size > 22050, "less than half a second of speech"
    TIMES["reply_s"] = round(done.seconds, 2)


def test_ocr_reads_an_image(root, home):
    from PIL import Image, ImageDraw, ImageFont

    image = home["cwd"] / "words.png"
    picture = Image.new("RGB", (900, 200), "white")
    font = ImageFont.load_default(size=56)
    ImageDraw.Draw(picture).text((30, 60), "Vistavox reads 1081 words", fill="black", font=font)
    picture.save(image)
    done = _run([root / OPT / "vistavox", "ocr", image, "--text"], home["env"], cwd=home["cwd"])
    assert done.returncode == 0, done.stderr
    assert "Vistavox reads 1081 words" in done.stdout, done.stdout


def test_the_sandboxed_python_tool_runs_on_the_bundle(root, home):
    """The tool starts "Python" as sys.executable, which is the bundle's own executable."""
    code = json.dumps({"code": "import statistics; print(statistics.mean([2, 4, 9]) * 17)"})
    done = _run([root / OPT / "vistavox", "tools", "run", "python", code], home["env"])
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(json.loads(done.stdout)["content"])
    assert result["ok"] and result["stdout"].strip() == "85", result
    plot = json.dumps({"kind": "bar", "title": "t", "x": [1, 2, 3], "y": [3, 1, 2]})
    done = _run([root / OPT / "vistavox", "tools", "run", "plot", plot], home["env"])
    assert done.returncode == 0, done.stdout + done.stderr
    image = Path(json.loads(json.loads(done.stdout)["content"])["image"])
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_sketch_process_starts_from_the_bundle(root, home):
    """The app reads sketches in a `multiprocessing` spawn process, which starts the bundle's
    executable again; here through the same initializer (OpenCV and the OCR models)."""
    code = (
        "import multiprocessing, concurrent.futures as cf\n"
        "from vistavox.pipelines import assistant as a\n"
        "spawn = multiprocessing.get_context('spawn')\n"
        "with cf.ProcessPoolExecutor(1, mp_context=spawn, initializer=a._start_sketch_process)"
        " as pool:\n"
        "    print('ready', pool.submit(a._sketch_process_ready).result(timeout=240))\n"
    )
    done = _run([root / OPT / "vistavox", "-c", code], home["env"], cwd=home["cwd"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ready True"


def test_desktop_entry_install_starts_the_bundle(root, home):
    """`vistavox desktop-entry install` from the bundle (a user's own menu entry) starts the
    bundle's desktop app."""
    program = root / OPT / "vistavox"
    done = _run([program, "desktop-entry", "install"], home["env"], cwd=home["cwd"])
    assert done.returncode == 0, done.stderr
    data = Path(home["env"]["XDG_DATA_HOME"])
    entry = (data / "applications" / f"{APP_ID}.desktop").read_text()
    assert f"\nExec={root / OPT / 'vistavox-desktop'}\n" in entry, entry
    done = _run([program, "desktop-entry", "uninstall"], home["env"], cwd=home["cwd"])
    assert done.returncode == 0, done.stderr
    assert not (data / "applications" / f"{APP_ID}.desktop").exists()


# --- the desktop app ------------------------------------------------------------------------


def _bundle_processes(root: Path) -> dict[int, str]:
    """Processes whose program is inside the unpacked bundle (pid → program)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                program = os.readlink(entry / "exe")
            except OSError:
                continue
            if program.startswith(str(root) + os.sep):
                found[int(entry.name)] = program
    return found


def _window_up(display: str, env: dict[str, str]) -> bool:
    """The main window is mapped: xwininfo lists a viewable window of the app's class
    bigger than a placeholder."""
    done = subprocess.run(
        ["xwininfo", "-root", "-tree", "-display", display],
        capture_output=True,
        text=True,
        env=env,
    )
    for line in done.stdout.splitlines():
        if f'"{APP_ID}"' in line:
            size = re.search(r"\)\s+(\d+)x(\d+)\+", line)
            if size and int(size.group(1)) > 200 and int(size.group(2)) > 200:
                return True
    return False


@pytest.fixture
def screen():
    if shutil.which("xwininfo") is None:
        pytest.skip("xwininfo is not installed (Debian: apt-get install x11-utils)")
    number = 150 + os.getpid() % 500
    while Path(f"/tmp/.X{number}-lock").exists():
        number += 1
    try:
        display = VirtualScreen(f":{number}").start()
    except ScreenUnavailable as exc:
        pytest.skip(str(exc))
    yield display
    display.close()


def test_desktop_app_starts_and_stops_cleanly(root, home, screen):
    env = {
        **home["env"],
        "DISPLAY": screen.name,
        "QT_QPA_PLATFORM": "xcb",
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
        "VISTAVOX_LOG_LEVEL": "INFO",
    }
    started = time.monotonic()
    app = subprocess.Popen(
        [str(root / OPT / "vistavox-desktop"), "--db", str(home["cwd"] / "conversations.db")],
        env=env,
        cwd=home["cwd"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    said: list[str] = []
    threading.Thread(target=lambda: said.extend(app.stderr), daemon=True).start()
    try:
        deadline = started + 240
        while not any("single instance: listening on" in line for line in said):
            assert app.poll() is None, "the app ended:\n" + "".join(said[-40:])
            assert time.monotonic() < deadline, "never listening:\n" + "".join(said[-40:])
            time.sleep(0.05)
        while not _window_up(screen.name, env):
            assert app.poll() is None, "the app ended:\n" + "".join(said[-40:])
            assert time.monotonic() < deadline, "no window:\n" + "".join(said[-40:])
            time.sleep(0.1)
        window_s = time.monotonic() - started
        # The preview's QtWebEngine runs from the bundle: its helper processes are up.
        while not any(p.endswith("QtWebEngineProcess") for p in _bundle_processes(root).values()):
            assert time.monotonic() < deadline, "QtWebEngine never started:\n" + "".join(said)
            time.sleep(0.1)
        ours = _bundle_processes(root)
        assert app.pid in ours and len(ours) > 1, ours
        app.send_signal(signal.SIGTERM)
        code = app.wait(60)
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(30)
    assert code in (0, -signal.SIGTERM), "".join(said[-40:])
    deadline = time.monotonic() + 20
    while (left := _bundle_processes(root)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"processes left behind: {left}"
    assert not [line for line in said if "Traceback" in line], "".join(said)
    TIMES.setdefault("desktop_window_s", []).append(round(window_s, 2))  # type: ignore[union-attr]
