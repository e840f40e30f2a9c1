"""Every tool the assistant has, assembled into one registry: built-ins, workspace tools,
file search, and third-party tools from the ``vistavox.tools`` entry point group."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from pathlib import Path

from ..web.search import search_base, web_search_tool
from ..web.tool import web_fetch_tool
from .builtin import calculator_tool, datetime_tool, memory_tools
from .permissions import load_permissions
from .registry import Confirm, Tool, ToolRegistry
from .workspace import (
    plot_tool,
    python_tool,
    screenshot_tool,
    search_files_tool,
    write_page_tool,
)

_log = logging.getLogger(__name__)


def plugin_tools() -> tuple[list[Tool], list[str]]:
    """Tools from installed packages; a broken plugin is reported, never fatal."""
    tools, problems = [], []
    for entry in entry_points(group="vistavox.tools"):
        try:
            made = entry.load()()
            tools.extend(made if isinstance(made, list | tuple) else [made])
        except Exception as exc:  # noqa: BLE001 - third-party code
            problems.append(f"tool plugin '{entry.name}' could not be loaded: {exc}")
            _log.warning(problems[-1])
    return tools, problems


def default_registry(
    store,
    *,
    confirm: Confirm | None,
    workspace: Path,
    persona_name: str,
    documents=None,
) -> ToolRegistry:
    """The registry for a persona, with the user's remembered permissions."""
    from .documents import DocumentIndex

    index = documents if documents is not None else DocumentIndex()
    tools = [
        calculator_tool(),
        datetime_tool(),
        *memory_tools(store),
        python_tool(workspace),
        plot_tool(workspace),
        write_page_tool(workspace),
        search_files_tool(index),
        screenshot_tool(workspace),
        web_fetch_tool(allowed_hosts=_allowed_private_hosts),
        web_search_tool(_search_url, allowed_hosts=_allowed_private_hosts),
    ]
    extra, _ = plugin_tools()
    registry = ToolRegistry(
        tools + extra, permissions=load_permissions(persona_name), confirm=confirm
    )
    registry.documents = index
    registry.audit_file = audit_path()
    return registry


def web_registry(persona_name: str, confirm: Confirm | None = None) -> ToolRegistry:
    """Only the web tools, for the pages and searches named in spoken turns. No one is
    asked in the middle of a spoken turn (``confirm`` None): a site not allowed yet is
    refused, with a word on how to allow it."""
    tools = [
        web_fetch_tool(allowed_hosts=_allowed_private_hosts),
        web_search_tool(_search_url, allowed_hosts=_allowed_private_hosts),
    ]
    registry = ToolRegistry(tools, permissions=load_permissions(persona_name), confirm=confirm)
    registry.audit_file = audit_path()
    return registry


def _search_url() -> str:
    """The search service set in Settings or by VISTAVOX_SEARCH_URL ("" for none)."""
    from ..app_settings import AppSettings

    return search_base(AppSettings.load().search_url)


def _allowed_private_hosts() -> list[str]:
    """The local-network hosts the user allowed pages to be read from (Settings)."""
    from ..app_settings import AppSettings

    return AppSettings.load().web_allow


def audit_path() -> Path:
    """Every tool call, as JSON lines, in the user's data folder."""
    import platformdirs

    return Path(platformdirs.user_data_dir("vistavox")) / "tool-audit.jsonl"
