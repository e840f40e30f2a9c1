"""Encode each image once: a follow-up question about the same picture reuses its embedding.

llama-cpp-python's multimodal chat handlers re-run the vision encoder (the expensive part,
seconds on a CPU) for every image on every call. ``cache_image_embeddings`` gives a handler
content-keyed images and routes its image chunks through :class:`EmbeddingCachingMtmd`,
which encodes an image the first time and afterwards decodes it from the stored embedding.
"""

from __future__ import annotations

import ctypes
import hashlib
import threading
from collections import OrderedDict
from types import ModuleType
from typing import Any


class EmbeddingCachingMtmd:
    """Stands in for the ``mtmd_cpp`` bindings module: identical, except that image chunks
    with an id are encoded once and then decoded from the cached embedding (LRU)."""

    def __init__(self, mtmd: ModuleType, llama_api: Any, capacity: int = 8):
        self._mtmd = mtmd
        self._llama_api = llama_api
        self._capacity = capacity
        self._cache: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.encoded = 0  # images run through the encoder
        self.reused = 0  # images decoded from the cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._mtmd, name)

    def _embedding_width(self, lctx: Any) -> int:
        model = self._llama_api.llama_get_model(lctx)
        width = getattr(self._llama_api, "llama_model_n_embd_inp", None)
        return int(width(model) if width else self._llama_api.llama_model_n_embd(model))

    def mtmd_helper_eval_chunk_single(
        self, ctx, lctx, chunk, n_past, seq_id, n_batch, logits_last, new_n_past
    ) -> int:
        mtmd = self._mtmd
        key = None
        if mtmd.mtmd_input_chunk_get_type(chunk) == mtmd.MTMD_INPUT_CHUNK_TYPE_IMAGE:
            key = mtmd.mtmd_input_chunk_get_id(chunk)
        if not key:
            return mtmd.mtmd_helper_eval_chunk_single(
                ctx, lctx, chunk, n_past, seq_id, n_batch, logits_last, new_n_past
            )
        with self._lock:
            embedding = self._cache.get(key)
            if embedding is not None:
                self._cache.move_to_end(key)
                self.reused += 1
        if embedding is None:
            status = mtmd.mtmd_encode_chunk(ctx, chunk)
            if status != 0:
                return status
            size = mtmd.mtmd_input_chunk_get_n_tokens(chunk) * self._embedding_width(lctx)
            embedding = (ctypes.c_float * size)()
            ctypes.memmove(embedding, mtmd.mtmd_get_output_embd(ctx), size * 4)
            with self._lock:
                self._cache[key] = embedding
                self.encoded += 1
                while len(self._cache) > self._capacity:
                    self._cache.popitem(last=False)
        no_callback = mtmd.mtmd_helper_post_decode_callback()  # a NULL function pointer
        return mtmd.mtmd_helper_decode_image_chunk(
            ctx, lctx, chunk, embedding, n_past, seq_id, n_batch, new_n_past, no_callback, None
        )


def cache_image_embeddings(handler: Any, capacity: int = 8) -> EmbeddingCachingMtmd:
    """Make ``handler`` (a llama-cpp-python multimodal chat handler) encode each distinct
    image once. Returns the cache, whose counters show what was encoded and reused."""
    import llama_cpp

    mtmd = handler._mtmd_cpp
    cache = EmbeddingCachingMtmd(mtmd, llama_cpp, capacity)
    make_bitmap = handler._create_bitmap_from_bytes

    def bitmap_with_content_id(image_bytes: bytes):
        bitmap = make_bitmap(image_bytes)
        mtmd.mtmd_bitmap_set_id(bitmap, hashlib.sha256(image_bytes).hexdigest().encode())
        return bitmap

    handler._create_bitmap_from_bytes = bitmap_with_content_id
    handler._mtmd_cpp = cache
    return cache
