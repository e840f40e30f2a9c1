"""Tools that make files for the user in the workspace: web pages and plots; and the tools
that look at the user's things: file search and screenshots."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from ..files import write_atomic
from .registry import SideEffect, Tool
from .sandbox import SandboxLimits, run_python


def _safe_name(name: str, suffix: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).stem).strip("-.") or "page"
    return stem[:60] + suffix


def page_path(workspace: Path, name: str) -> Path:
    """Where ``write_page`` puts the page called ``name``."""
    return workspace / "pages" / _safe_name(name, ".html")


def write_page_tool(workspace: Path) -> Tool:
    def write_page(name: str, html: str) -> str:
        target = page_path(workspace, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, html.encode("utf-8"))  # a crash leaves the old page whole
        return json.dumps({"path": str(target), "bytes": len(html.encode())})

    return Tool(
        "write_page",
        "Write or replace an HTML page in the user's workspace (it opens in the preview). "
        "Give a short file name and the complete HTML.",
        {
            "type": "object",
            "properties": {
                "name": {"type": "string", "maxLength": 80},
                "html": {"type": "string", "maxLength": 200_000},
            },
            "required": ["name", "html"],
        },
        SideEffect.WRITES_WORKSPACE,
        write_page,
    )


def python_tool(workspace: Path) -> Tool:
    def python(code: str) -> str:
        result = run_python(code, outputs_dir=workspace / "outputs")
        return result.as_json()

    return Tool(
        "python",
        "Run Python code in a sandbox (no network, no access to the user's files; numpy and "
        "matplotlib available; print() what you need; images saved in the current folder "
        "come back). Example: print(17 * 23)",
        {
            "type": "object",
            "properties": {"code": {"type": "string", "maxLength": 20_000}},
            "required": ["code"],
        },
        SideEffect.EXECUTES_CODE,
        python,
        timeout_s=30.0,
    )


def plot_tool(workspace: Path) -> Tool:
    def plot(kind: str, title: str, x: list, y: list, xlabel: str = "", ylabel: str = "") -> str:
        if len(x) != len(y) or not x:
            raise ValueError("x and y must be non-empty lists of the same length")
        spec = json.dumps(
            {"kind": kind, "title": title, "x": x, "y": y, "xlabel": xlabel, "ylabel": ylabel}
        )
        code = (
            "import json\nimport matplotlib.pyplot as plt\n"
            f"s = json.loads({spec!r})\n"
            "fig, ax = plt.subplots(figsize=(6, 4), dpi=120)\n"
            "{'line': ax.plot, 'bar': ax.bar, 'scatter': ax.scatter}[s['kind']](s['x'], s['y'])\n"
            "ax.set_title(s['title']); ax.set_xlabel(s['xlabel']); ax.set_ylabel(s['ylabel'])\n"
            "fig.tight_layout(); fig.savefig('plot.png')\n"
        )
        result = run_python(code, limits=SandboxLimits(wall_s=30), outputs_dir=workspace / "plots")
        if not result.ok or not result.files:
            raise RuntimeError(result.stderr[-500:] or "the plot could not be drawn")
        return json.dumps({"image": result.files[0]})

    return Tool(
        "plot",
        "Draw a chart (line, bar or scatter) from numbers and save it as an image.",
        {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["line", "bar", "scatter"]},
                "title": {"type": "string", "maxLength": 120},
                "x": {"type": "array", "items": {"type": "number"}},
                "y": {"type": "array", "items": {"type": "number"}},
                "xlabel": {"type": "string", "maxLength": 60},
                "ylabel": {"type": "string", "maxLength": 60},
            },
            "required": ["kind", "title", "x", "y"],
        },
        SideEffect.WRITES_WORKSPACE,
        plot,
    )


def search_files_tool(index) -> Tool:
    def search_files(query: str) -> str:
        hits = index.search(query, limit=3)
        if not hits:
            return "No documents have been added yet, or nothing matches."
        return "\n\n".join(f"[{h.cite()}]\n{h.text}" for h in hits)

    return Tool(
        "search_files",
        "Search the documents the user added; returns the best passages, each with its "
        "file and place to cite.",
        {
            "type": "object",
            "properties": {"query": {"type": "string", "maxLength": 300}},
            "required": ["query"],
        },
        SideEffect.READ_ONLY,
        search_files,
        available=lambda: bool(index.documents()),
    )


def screenshot_tool(workspace: Path) -> Tool:
    def screenshot() -> str:
        from ..vision.describe import describe_image
        from ..vision.screenshot import capture_screen

        image = capture_screen()
        shots = workspace / "screenshots"
        shots.mkdir(parents=True, exist_ok=True)
        path = shots / time.strftime("screen-%Y%m%d-%H%M%S.png")
        image.save(path)
        return f"Saved {path}.\n" + describe_image(path).as_text()

    return Tool(
        "screenshot",
        "Capture the user's screen and read the text on it.",
        {"type": "object", "properties": {}},
        SideEffect.OUTSIDE,
        screenshot,
        timeout_s=30.0,
    )
