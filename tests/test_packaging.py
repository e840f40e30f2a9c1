"""Vistavox installed as a desktop app: the launcher files (checked by the real
freedesktop validators), `vistavox desktop-entry install|uninstall`, the version it reports,
and the wheel and sdist (everything in them, and the wheel working without the repository)."""

from __future__ import annotations

import configparser
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import tomllib
import venv
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vistavox.pipelines.desktop_entry import APP_ID, ICON_SIZES, entry_paths, exec_value

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = REPO / "packaging" / "freedesktop"
DESKTOP_FILE = LAUNCHER / f"{APP_ID}.desktop"
METAINFO = LAUNCHER / f"{APP_ID}.metainfo.xml"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
BIN = Path(sys.executable).parent


def _run(args, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (Debian: apt-get install {package})")
    return path


def _desktop_entry(path: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"))
    return dict(parser["Desktop Entry"])


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra)
    return env


def parse_exec(value: str) -> list[str]:
    """An Exec value read back the way the Desktop Entry Specification says: string escapes
    first, then quoted arguments (with \\" \\` \\$ \\\\ inside quotes), then %% for %."""
    escapes = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    text = re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), value, flags=re.S)
    args, current, quoted, started, i = [], "", False, False, 0
    while i < len(text):
        c = text[i]
        if quoted:
            if c == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
                current += text[i + 1]
                i += 1
            elif c == '"':
                quoted = False
            else:
                current += c
        elif c == '"':
            quoted = started = True
        elif c == " ":
            if started:
                args.append(current)
            current, started = "", False
        else:
            current += c
            started = True
        i += 1
    assert not quoted, f"unterminated quote in {value!r}"
    if started:
        args.append(current)
    return [a.replace("%%", "%") for a in args]


# --- the launcher files ----------------------------------------------------------------------
def test_desktop_file_passes_desktop_file_validate():
    tool = _tool("desktop-file-validate", "desktop-file-utils")
    done = _run([tool, DESKTOP_FILE])
    problems = [line for line in done.stdout.splitlines() if re.search(r"error|warning", line)]
    assert done.returncode == 0 and not problems, done.stdout + done.stderr


def test_metainfo_passes_appstreamcli_validate():
    tool = _tool("appstreamcli", "appstream")
    done = _run([tool, "validate", "--no-net", "--explain", METAINFO])
    assert done.returncode == 0, done.stdout + done.stderr
    # Errors and warnings fail validation; pedantic notes remain (the capital letter of
    # the app id io.github.vistavox.Vistavox is one).
    assert not re.search(r"^[EW]: ", done.stdout, re.M), done.stdout


def test_desktop_file_and_metainfo_agree_with_the_app():
    entry = _desktop_entry(DESKTOP_FILE)
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "vistavox-desktop"
    assert entry["Icon"] == APP_ID
    # The app names itself so (desktop/app.py): its desktop file name and X11 window class.
    assert entry["StartupWMClass"] == APP_ID
    assert "Utility" in entry["Categories"].split(";")
    assert "voice" in entry["Keywords"].split(";")
    assert "vistavox-desktop" in PYPROJECT["project"]["gui-scripts"]

    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable") == f"{APP_ID}.desktop"
    assert root.findtext("project_license") == PYPROJECT["project"]["license"]
    newest = root.find("releases/release")
    assert newest is not None and newest.get("version") == VERSION, (
        "the newest <release> in the metainfo must be pyproject's version"
    )


def test_the_app_window_class_is_the_launchers_startup_wm_class(tmp_path):
    """On X11 the desktop matches a window to its launcher by WM_CLASS: the app's (under
    Xvfb, with Qt's xcb platform) names the entry's StartupWMClass."""
    xwininfo = _tool("xwininfo", "x11-utils")
    from tests.desktop_rig import ScreenUnavailable, VirtualScreen

    try:
        screen = VirtualScreen(":89", "1280x800").start()
    except ScreenUnavailable as exc:
        pytest.skip(str(exc))
    (tmp_path / "config" / "vistavox").mkdir(parents=True)
    (tmp_path / "config" / "vistavox" / "settings.json").write_text('{"welcomed": true}')
    env = _clean_env(
        DISPLAY=":89",
        QT_QPA_PLATFORM="xcb",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_RUNTIME_DIR=str(tmp_path),
    )
    log = tmp_path / "app.log"
    app = subprocess.Popen(
        [BIN / "vistavox-desktop", "--db", tmp_path / "conversations.db"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        deadline = time.monotonic() + 240
        found = None
        while found is None and app.poll() is None and time.monotonic() < deadline:
            tree = _run([xwininfo, "-root", "-tree"], env=env).stdout
            found = re.search(r'"Vistavox": \("([^"]*)" "([^"]*)"\)', tree)
            if found is None:
                time.sleep(0.2)  # polling for the window, not waiting for a result
        assert found, f"no Vistavox window appeared (exit code {app.poll()}): {log.read_text()}"
        assert found.groups() == (APP_ID, "Vistavox")
        assert _desktop_entry(DESKTOP_FILE)["StartupWMClass"] == found.group(1)
    finally:
        app.kill()
        app.wait(30)
        screen.close()


def test_icons_are_the_svg_rendered(tmp_path):
    """The committed PNGs are what packaging/render_icons.py makes from the app's SVG
    now (re-render after changing the SVG)."""
    done = _run([sys.executable, REPO / "packaging" / "render_icons.py", "--out", tmp_path])
    assert done.returncode == 0, done.stderr
    for size in ICON_SIZES:
        rel = Path("hicolor", f"{size}x{size}", "apps", f"{APP_ID}.png")
        committed, fresh = Image.open(LAUNCHER / "icons" / rel), Image.open(tmp_path / rel)
        assert committed.size == fresh.size == (size, size)
        assert committed.mode == "RGBA"
        a = np.asarray(committed.convert("RGBA"), dtype=np.int16)
        b = np.asarray(fresh.convert("RGBA"), dtype=np.int16)
        assert np.abs(a - b).mean() < 1.0, f"{rel} is out of date: run packaging/render_icons.py"
        alpha = a[..., 3]
        assert alpha[0, 0] == 0 and alpha[size // 2, size // 2] == 255  # a rounded square


def test_exec_values_read_back_as_the_same_arguments(tmp_path):
    awkward = [
        "/opt/My Apps/bin/vistavox-desktop",
        "/home/o'neil/.venv/bin/python",
        'quote " and back\\slash',
        "$HOME `cmd` 100% ;|&<>~*?#()",
        "tab\tand\nnewline",
    ]
    assert exec_value(["/usr/bin/vistavox-desktop"]) == "/usr/bin/vistavox-desktop"
    assert exec_value(["/opt/My Apps/x"]) == '"/opt/My Apps/x"'
    for arg in awkward:
        assert parse_exec(exec_value([arg, "-m", "vistavox.desktop.app"])) == [
            arg,
            "-m",
            "vistavox.desktop.app",
        ]
    tool = shutil.which("desktop-file-validate")
    if tool:  # the validator checks the quoting of Exec too
        text = DESKTOP_FILE.read_text().replace(
            "Exec=vistavox-desktop", "Exec=" + exec_value(awkward[:2] + awkward[3:4])
        )
        sample = tmp_path / f"{APP_ID}.desktop"
        sample.write_text(text)
        done = _run([tool, sample])
        assert done.returncode == 0, done.stdout


# --- installing the entry --------------------------------------------------------------------
def test_desktop_entry_install_and_uninstall(tmp_path):
    home = tmp_path / "data"
    (home / "applications").mkdir(parents=True)
    other = home / "applications" / "other.desktop"
    other.write_text("[Desktop Entry]\nType=Application\nName=Other\nExec=other\n")
    cache = home / "applications" / "mimeinfo.cache"
    cache.write_text("[MIME Cache]\nx-test/stale=gone.desktop;\n")
    before = sorted(p for p in home.rglob("*") if p.is_file())
    env = _clean_env(XDG_DATA_HOME=str(home))

    done = _run([BIN / "vistavox", "desktop-entry", "install"], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    paths = entry_paths(home)
    assert [Path(line) for line in done.stdout.splitlines()] == paths
    assert all(p.is_file() for p in paths)
    assert len(paths) == 3 + len(ICON_SIZES)
    for size in ICON_SIZES:
        icon = home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert Image.open(icon).size == (size, size)
    svg = home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"
    assert svg.read_bytes() == (REPO / "resources" / "icons" / "vistavox.svg").read_bytes()
    assert (home / "metainfo" / f"{APP_ID}.metainfo.xml").read_bytes() == METAINFO.read_bytes()

    # Exec is this installation's own desktop app, by absolute path, and it runs.
    installed = home / "applications" / f"{APP_ID}.desktop"
    entry = _desktop_entry(installed)
    command = parse_exec(entry["Exec"])
    assert command == [str(BIN / "vistavox-desktop")]
    assert entry["TryExec"] == command[0]
    assert os.access(command[0], os.X_OK)
    answered = _run([*command, "--version"], env=env)
    assert answered.returncode == 0 and answered.stdout.strip() == f"vistavox {VERSION}"
    if shutil.which("desktop-file-validate"):
        checked = _run(["desktop-file-validate", installed])
        assert checked.returncode == 0, checked.stdout
    if shutil.which("update-desktop-database"):
        assert "x-test/stale" not in cache.read_text()  # the existing cache was rebuilt

    done = _run([BIN / "vistavox", "desktop-entry", "uninstall"], env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [Path(line) for line in done.stdout.splitlines()] == paths
    assert not any(p.exists() for p in paths)
    assert not (home / "icons" / "hicolor" / "512x512").exists()
    after = sorted(p for p in home.rglob("*") if p.is_file())
    assert after == before  # the other entry and the cache stay
    again = _run([BIN / "vistavox", "desktop-entry", "uninstall"], env=env, cwd=tmp_path)
    assert again.returncode == 0 and again.stdout == ""


# --- the version -----------------------------------------------------------------------------
def test_the_commands_report_the_version():
    for script in ("vistavox", "vistavox-desktop"):
        done = _run([BIN / script, "--version"])
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"vistavox {VERSION}"


def test_the_about_box_shows_the_version(request, tmp_path, monkeypatch):
    pytest.importorskip("pytestqt", reason="pytest-qt is not installed (pip install -e .[test])")
    qtbot = request.getfixturevalue("qtbot")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from vistavox.desktop.main_window import MainWindow
    from vistavox.pipelines.app_settings import AppSettings
    from vistavox.pipelines.assistant import Assistant
    from vistavox.pipelines.events import EventBus

    bus = EventBus()
    assistant = Assistant(bus, AppSettings(), db_path=tmp_path / "conversations.db")
    window = MainWindow(assistant, bus, owns_assistant=False)
    qtbot.addWidget(window)
    try:
        help_menu = next(
            a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Help"
        )
        assert window.about_action in help_menu.actions()
        window.about_action.trigger()
        qtbot.waitUntil(lambda: window.about_box.isVisible(), timeout=10_000)
        assert f"Vistavox {VERSION}" in window.about_box.text()
        window.about_box.close()
    finally:
        window.bridge.close()
        window.preview.close_view()
        assistant.shutdown()


# --- the wheel and the sdist -----------------------------------------------------------------
def _not_sources(folder: str, names: list[str]) -> set[str]:
    left_out = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "build", "dist"}
    left_out |= {"out"} if Path(folder) == REPO else set()
    left_out |= {"artifacts"} if Path(folder) == REPO / "tests" else set()
    return {n for n in names if n in left_out or n.endswith(".egg-info")}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The wheel and sdist, built once (`python -m build`: the wheel is built from the
    sdist, so it shows that the sdist is complete too)."""
    pytest.importorskip("build", reason="`build` is not installed (pip install -e .[test])")
    # From a copy of the sources without the build leftovers (.gitignore's): an old
    # vistavox.egg-info/SOURCES.txt would put files into the sdist that the configuration
    # itself misses.
    source = tmp_path_factory.mktemp("source") / "vistavox"
    shutil.copytree(REPO, source, ignore=_not_sources)
    out = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "-m", "build", "--outdir", out, source]
    if importlib.util.find_spec("setuptools") and importlib.util.find_spec("wheel"):
        command.insert(3, "--no-isolation")  # the backend is here: no index needed
    done = _run(command, timeout=900, cwd=out)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (wheel,) = out.glob("vistavox-*.whl")
    (sdist,) = out.glob("vistavox-*.tar.gz")
    return {"wheel": wheel, "sdist": sdist}


def _launcher_files() -> list[str]:
    files = [f"{APP_ID}.desktop", f"{APP_ID}.metainfo.xml"]
    return files + [f"icons/hicolor/{s}x{s}/apps/{APP_ID}.png" for s in ICON_SIZES]


def test_the_wheel_holds_every_package_the_resources_and_the_launcher(dist):
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = set(wheel.namelist())
        info = f"vistavox-{VERSION}.dist-info"
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert {n.split("/")[0] for n in names} == {"vistavox", info}
    assert "vistavox/__init__.py" not in names  # one namespace, mapped onto the folders
    for package in PYPROJECT["tool"]["setuptools"]["packages"]:
        assert package.replace(".", "/") + "/__init__.py" in names, package
    for package, folder in PYPROJECT["tool"]["setuptools"]["package-dir"].items():
        prefix = package.replace(".", "/")
        for path in (REPO / folder).rglob("*.py"):
            if "__pycache__" not in path.parts:
                rel = path.relative_to(REPO / folder).as_posix()
                assert f"{prefix}/{rel}" in names, f"{folder}/{rel} is not in the wheel"
    resources = REPO / "resources"
    for path in resources.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            assert f"vistavox/resources/{path.relative_to(resources).as_posix()}" in names
    assert "vistavox/resources/sketch_detector.npz" in names
    for rel in _launcher_files():
        assert f"vistavox/resources/freedesktop/{rel}" in names, rel
    assert re.search(r"^vistavox = vistavox\.pipelines\.commands\.main:main$", entry_points, re.M)
    assert re.search(
        r"\[gui_scripts\]\nvistavox-desktop = vistavox\.desktop\.app:main", entry_points
    )
    assert re.search(
        r"\[vistavox\.commands\]\ndesktop = vistavox\.desktop\.command:add_command", entry_points
    )


def test_the_sdist_holds_the_sources_and_the_launcher(dist):
    with tarfile.open(dist["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for name in (
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "pipelines/commands/main.py",
        "desktop/app.py",
    ):
        assert name in names, name
    for rel in _launcher_files():
        assert f"packaging/freedesktop/{rel}" in names, rel


def test_the_wheel_works_without_the_repository(dist, tmp_path):
    """Installed (not editable) into a new environment whose only other path is the
    dependencies' site-packages: every import comes from the install, and the commands run."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = env_dir / "bin" / "python"
    env = _clean_env()
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps"]
    install += ["--no-index", "--disable-pip-version-check", "--quiet", dist["wheel"]]
    done = _run(install, timeout=300, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(_run([python, "-c", where], env=env).stdout.strip())
    assert site.is_relative_to(env_dir)
    # The dependencies: this interpreter's site-packages (added as a path, its .pth files
    # are not run: the editable install's finder that maps the repository stays out).
    dependencies = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (site / "vistavox-test-dependencies.pth").write_text("\n".join(dependencies) + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import json, sys, vistavox, vistavox.pipelines, vistavox.desktop, vistavox.models, "
        "vistavox.resources, vistavox.resources.freedesktop, vistavox.desktop.app\n"
        "from importlib.resources import files\n"
        "print(json.dumps({'namespace': list(vistavox.__path__), 'files': [m.__file__ for m in "
        "(vistavox.pipelines, vistavox.desktop, vistavox.models, vistavox.resources, "
        "vistavox.resources.freedesktop, vistavox.desktop.app)], 'path': sys.path, "
        "'npz': str(files('vistavox.resources') / 'sketch_detector.npz')}))"
    )
    done = _run([python, "-c", code], env=env, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    for path in [*found["namespace"], *found["files"], found["npz"]]:
        assert Path(path).is_relative_to(env_dir), path
    for entry in filter(None, found["path"]):  # nothing of the repository but its .venv
        resolved = Path(entry).resolve()
        assert not resolved.is_relative_to(REPO) or resolved.is_relative_to(REPO / ".venv")
    assert Path(found["npz"]).is_file()

    bin_dir = env_dir / "bin"
    done = _run([bin_dir / "vistavox", "--version"], env=env, cwd=elsewhere)
    assert done.returncode == 0 and done.stdout.strip() == f"vistavox {VERSION}", done.stderr
    done = _run([bin_dir / "vistavox", "models"], env=env, cwd=elsewhere, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smollm2-135m-instruct" in done.stdout
    # `vistavox desktop`, registered by the desktop folder through the wheel's entry points.
    done = _run([bin_dir / "vistavox", "desktop", "--help"], env=env, cwd=elsewhere)
    assert done.returncode == 0 and "--db" in done.stdout, done.stdout + done.stderr

    # The launcher entry from the wheel's own files, starting the wheel's own app.
    data = tmp_path / "data"
    entry_env = _clean_env(XDG_DATA_HOME=str(data))
    done = _run([bin_dir / "vistavox", "desktop-entry", "install"], env=entry_env, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    entry = _desktop_entry(data / "applications" / f"{APP_ID}.desktop")
    assert parse_exec(entry["Exec"]) == [str(bin_dir / "vistavox-desktop")]
    assert all(p.is_file() for p in entry_paths(data))
    done = _run([bin_dir / "vistavox", "desktop-entry", "uninstall"], env=entry_env, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert not any(p.exists() for p in entry_paths(data))


_TYPED_IN_THE_WINDOW = """
import sys
from PySide6.QtCore import QTimer, Qt
from PySide6.QtTest import QTest
from vistavox.desktop.app import build
from vistavox.pipelines.events import EngineError, ModelsReady, ReplyFinished

app, window, assistant = build([sys.argv[0]])
window.show()

def on_event(event):
    if isinstance(event, ModelsReady):
        QTest.keyClicks(window.composer.edit, "What is 23 times 47?")
        QTest.keyClick(window.composer.edit, Qt.Key.Key_Return)
    elif isinstance(event, ReplyFinished):
        print("REPLY:", event.text, "| MODULE:", sys.modules["vistavox.desktop.app"].__file__)
        QTimer.singleShot(0, app.quit)
    elif isinstance(event, EngineError):
        print("ERROR:", event.message)
        QTimer.singleShot(0, app.quit)

window.bridge.event.connect(on_event)
assistant.load_in_background()
QTimer.singleShot(240_000, app.quit)
app.exec()
assistant.shutdown()
"""


def test_the_installed_wheel_answers_a_spoken_question_and_in_its_window(dist, tmp_path):
    """From the wheel's own install, outside the repository: `vistavox reply` hears the
    sample question and speaks an answer, and the desktop window answers a typed one."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = env_dir / "bin" / "python"
    env = _clean_env(
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        QT_QPA_PLATFORM="offscreen",
        QTWEBENGINE_DISABLE_SANDBOX="1",
    )
    install = [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps"]
    install += ["--no-index", "--disable-pip-version-check", "--quiet", dist["wheel"]]
    assert _run(install, timeout=300, env=env, cwd=tmp_path).returncode == 0
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     env=env).stdout.strip())  # fmt: skip
    dependencies = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (site / "vistavox-test-dependencies.pth").write_text("\n".join(dependencies) + "\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    question = site / "vistavox" / "resources" / "samples" / "question.wav"
    assert question.is_file()
    out = elsewhere / "answer.wav"
    done = _run(
        [env_dir / "bin" / "vistavox", "reply", "--audio-in", question, "--audio-out", out,
         "--text-out", elsewhere / "answer.txt"],
        env=env, cwd=elsewhere, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert (elsewhere / "answer.txt").read_text().strip()
    assert out.stat().st_size > 10_000  # seconds of speech, not an empty file

    done = _run([python, "-c", _TYPED_IN_THE_WINDOW], env=env, cwd=elsewhere, timeout=600)
    assert "REPLY: 23 times 47 is 1,081." in done.stdout, done.stdout + done.stderr[-3000:]
    module = done.stdout.split("MODULE:")[1].strip()
    assert Path(module).is_relative_to(env_dir)
