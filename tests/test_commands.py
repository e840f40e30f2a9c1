"""The `vistavox` command line is one package (vistavox.pipelines.commands) that never
imports the desktop: `vistavox desktop` is registered by the desktop folder under the
"vistavox.commands" entry-point group, and a registered command that cannot be loaded says
so when run while every other command works."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

from vistavox.pipelines.commands import main as commands

VISTAVOX = Path(sys.executable).with_name("vistavox")
BUILT_IN = {"reply", "models", "converse", "devices", "ask", "tools", "ocr", "sketch"}
BUILT_IN |= {"desktop-entry", "wakeword"}


def test_the_desktop_registers_its_own_command():
    registered = {e.name: e.value for e in commands.registered_commands()}
    assert registered == {"desktop": "vistavox.desktop.command:add_command"}
    done = subprocess.run(
        [str(VISTAVOX), "desktop", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "usage: vistavox desktop [-h] [--db DB]" in done.stdout


def test_the_command_line_loads_no_qt(tmp_path):
    code = (
        "import sys\n"
        "from vistavox.pipelines.commands.main import build_parser\n"
        "assert not any(n.startswith('vistavox.desktop') for n in sys.modules)\n"
        "choices = build_parser()._subparsers._group_actions[0].choices\n"
        "print(sorted(choices), sorted(n for n in sys.modules if n.startswith('PySide6')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{sorted(BUILT_IN | {'desktop'})} []"


def test_a_stale_egg_info_does_not_hide_the_registered_commands(tmp_path):
    # What an old in-tree build leaves in a source tree: metadata of the same distribution,
    # first on the path when Python runs from there, without the commands' entry points.
    stale = tmp_path / "vistavox.egg-info"
    stale.mkdir()
    (stale / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: vistavox\nVersion: 0.0.1\n")
    (stale / "entry_points.txt").write_text("[console_scripts]\nvistavox = old.cli:main\n")
    code = (
        "from vistavox.pipelines.commands.main import registered_commands\n"
        "print([(e.name, e.value) for e in registered_commands()])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[('desktop', 'vistavox.desktop.command:add_command')]"


def test_a_command_that_cannot_be_loaded_says_so(monkeypatch, tmp_path, capsys):
    broken = EntryPoint("desktop", "vistavox.desktop.no_such_module:add_command", "g")
    monkeypatch.setattr(commands, "registered_commands", lambda: [broken])
    for argv in (["desktop"], ["desktop", "--help"], ["desktop", "--db", "x.db"]):
        assert commands.main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("vistavox: error: the `vistavox desktop` command cannot be loaded")
        assert "No module named 'vistavox.desktop.no_such_module'" in err

    # The others are all there, and run.
    choices = commands.build_parser()._subparsers._group_actions[0].choices
    assert set(choices) == BUILT_IN | {"desktop"}
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert commands.main(["tools", "audit"]) == 0
    assert capsys.readouterr().out == "No tool calls yet.\n"


def test_a_command_that_fails_while_being_added_says_so(monkeypatch, capsys):
    def add_half(sub):
        sub.add_parser("desktop")
        raise RuntimeError("half-way")

    def add_nothing(sub):
        raise RuntimeError("broken")

    monkeypatch.setattr(
        commands, "registered_commands", lambda: [EntryPoint("desktop", "x:y", "g")]
    )
    for add, problem in (
        (add_half, "RuntimeError: half-way"),
        (add_nothing, "RuntimeError: broken"),
    ):
        monkeypatch.setattr(EntryPoint, "load", lambda self, add=add: add)
        assert commands.main(["desktop"]) == 1
        assert f"`vistavox desktop` command cannot be loaded ({problem})" in capsys.readouterr().err
