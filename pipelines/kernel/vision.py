"""Images for vision-capable language models: choosing llama-cpp-python's chat handler from
the model manifest, and preparing images the way the projector expects them."""

from __future__ import annotations

import base64
import io

from PIL import ImageOps

from ...models.resolve import ModelError, ResolvedModel
from ..vision.ingest import load_image
from .image_cache import cache_image_embeddings

# Manifest name → llama-cpp-python chat handler (each takes the mmproj as clip_model_path).
HANDLERS = {
    "llava-1.5": "Llava15ChatHandler",
    "llava-1.6": "Llava16ChatHandler",
    "moondream": "MoondreamChatHandler",
    "nanollava": "NanoLlavaChatHandler",
    "minicpm-v-2.6": "MiniCPMv26ChatHandler",
    "qwen2.5-vl": "Qwen25VLChatHandler",
    "llama3-vision-alpha": "Llama3VisionAlphaChatHandler",
    "mtmd": "MTMDChatHandler",  # generic: the GGUF's own template (SmolVLM, Gemma 3, ...)
}


def make_chat_handler(model: ResolvedModel):
    """The chat handler for a vision model, with its projector loaded lazily by llama.cpp."""
    from llama_cpp import llama_chat_format

    spec = model.spec
    name = spec.chat_handler
    if name not in HANDLERS or not spec.projector:
        raise ModelError(f"{spec.title} is not a vision model Vistavox knows how to run")
    handler_class = getattr(llama_chat_format, HANDLERS[name])
    try:
        handler = handler_class(clip_model_path=str(model.file(spec.projector)), verbose=False)
    except ValueError as exc:
        raise ModelError(f"{spec.title}: its projector cannot be used ({exc})") from exc
    cache_image_embeddings(handler)
    return handler


def prepare_image(data: bytes, size: int | None = None) -> bytes:
    """Decode, upright (EXIF), flatten transparency on white, and letterbox to a square of
    ``size`` pixels when given (what LLaVA-style projectors expect). Returns PNG bytes."""
    im = load_image(data).image
    if size:
        im = ImageOps.pad(im, (size, size), color="white")
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def image_part(png: bytes) -> dict:
    """An OpenAI-style message part carrying the image (llama.cpp and servers accept it)."""
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return {"type": "image_url", "image_url": {"url": url}}
