"""The language model a user chose: a vision model with its projector, a named GGUF, the
embedded default, or an OpenAI-compatible server."""

from __future__ import annotations


def load_llm(llm_model: str = "", vision_model: str = "", backend: str | None = None):
    """A LocalLlm (``vision_model`` wins over ``llm_model``; "" = the best one installed) or,
    with ``backend`` (http://HOST:PORT), a RemoteLlm. Loading is slow: not on a GUI thread."""
    if backend:
        from .remote_llm import RemoteLlm

        return RemoteLlm(backend)
    from ...models.resolve import resolve, resolve_language_model
    from .local_llm import LocalLlm

    if vision_model:
        from .vision import make_chat_handler

        vision = resolve(vision_model)
        return LocalLlm(vision, chat_handler=make_chat_handler(vision))
    return LocalLlm(resolve_language_model(llm_model))
