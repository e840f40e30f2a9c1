"""The one factory for the kernel that answers spoken turns."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ..intents.handler import add_everyday_intents
from ..kernel.direct import DirectHandler
from ..kernel.kernel import Kernel
from ..kernel.personas import Persona
from ..kernel.prompts import VOICE_SYSTEM_PROMPT
from ..kernel.store import Store


def voice_kernel(
    llm,
    store: Store,
    persona: Persona | None = None,
    *,
    system_prompt: str = VOICE_SYSTEM_PROMPT,
    handlers: Iterable[DirectHandler] = (),
    timers=None,
    on_answer: Callable | None = None,
    page_reader=None,
) -> Kernel:
    """A kernel for spoken turns on ``llm`` and ``store``: the persona (default: short
    spoken answers with ``system_prompt``), the model's spoken-reply budget, then
    ``handlers`` (page edits) and the everyday intents (with ``timers``) in front of the
    model; ``page_reader`` (a registry of the web tools) reads the pages and searches
    named aloud."""
    if persona is None:
        persona = Persona(
            name="voice",
            title="Voice",
            system_prompt=system_prompt,
            temperature=llm.settings.temperature,
        )
    # Spoken replies are short: the model's reply budget, not the kernel's text default.
    kernel = Kernel(llm, store, persona, reply_reserve=llm.settings.max_reply_tokens)
    kernel.direct_handlers.extend(handlers)
    kernel.page_reader = page_reader
    add_everyday_intents(kernel, timers=timers, on_answer=on_answer)
    return kernel


def scratch_voice_kernel(llm, settings) -> tuple[Kernel, Path | None]:
    """A voice kernel on the settings' conversation file (``settings.store_path``), or on
    a temporary one (returned, to be removed when the conversation stops)."""
    temporary = None
    path = settings.store_path
    if path is None:
        temporary = Path(tempfile.mkdtemp(prefix="vistavox-conversation-"))
        path = temporary / "conversation.db"
    return voice_kernel(llm, Store(path), system_prompt=settings.system_prompt), temporary
