"""The install layout: one import name, mapped onto the top-level folders, with no Qt below
the desktop and no generic top-level module names."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = {
    "desktop": "vistavox.desktop",
    "pipelines": "vistavox.pipelines",
    "models": "vistavox.models",
    "resources": "vistavox.resources",
}


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    for folder, name in FOLDERS.items():
        assert config["package-dir"][name] == folder
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder)
            dotted = ".".join((name, *rel.parts)) if rel.parts else name
            assert dotted in listed, f"{dotted} is missing from [tool.setuptools] packages"


def _run_elsewhere(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Run outside the repo so the folders themselves are not importable from the cwd.
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def test_installed_under_vistavox_only(tmp_path):
    code = (
        "import importlib.util as u\n"
        "print([n for n in ('models', 'pipelines', 'desktop', 'resources') if u.find_spec(n)])\n"
        "import vistavox.pipelines, vistavox.models, vistavox.desktop, vistavox.resources\n"
    )
    done = _run_elsewhere(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_pipelines_never_import_qt(tmp_path):
    modules = sorted(
        ".".join(
            ("vistavox.pipelines", *p.relative_to(REPO / "pipelines").with_suffix("").parts)
        ).removesuffix(".__init__")
        for p in (REPO / "pipelines").rglob("*.py")
    )
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(n for n in sys.modules if n.startswith('PySide6')))"
    )
    done = _run_elsewhere(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_pipelines_never_import_the_desktop():
    """Not even inside a function: the desktop adds its own command to the command line
    (an entry point), so the pipelines work where the desktop is not installed."""
    for path in (REPO / "pipelines").rglob("*.py"):
        rel = path.relative_to(REPO / "pipelines").with_suffix("")
        package = ["vistavox", "pipelines", *rel.parts[:-1]]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *filter(None, [node.module])])
                names = [f"{module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                assert not (name + ".").startswith("vistavox.desktop."), f"{path}: {name}"


def test_console_entry_point_answers_help():
    vistavox = Path(sys.executable).with_name("vistavox")
    done = subprocess.run([str(vistavox), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "reply" in done.stdout


def test_code_is_ruff_clean():
    ruff = Path(sys.executable).with_name("ruff")
    done = subprocess.run(
        [str(ruff), "check", str(REPO)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:]
