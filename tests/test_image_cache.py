"""The per-image embedding cache of vision chat handlers.

No vision weights can be had here, so the llama.cpp calls are replaced by a recording
stand-in for the ``mtmd_cpp`` module (the cache's logic and its ctypes copying are real)."""

from __future__ import annotations

import ctypes

from vistavox.pipelines.kernel.image_cache import EmbeddingCachingMtmd, cache_image_embeddings

N_TOKENS, WIDTH = 4, 3


class FakeMtmd:
    MTMD_INPUT_CHUNK_TYPE_TEXT = 0
    MTMD_INPUT_CHUNK_TYPE_IMAGE = 1

    def __init__(self):
        self.calls: list[str] = []
        self.output = (ctypes.c_float * (N_TOKENS * WIDTH))()
        self.decoded: list[list[float]] = []
        self.ids: dict[int, bytes] = {}

    def mtmd_input_chunk_get_type(self, chunk):
        return chunk["type"]

    def mtmd_input_chunk_get_id(self, chunk):
        return chunk.get("id")

    def mtmd_input_chunk_get_n_tokens(self, chunk):
        return N_TOKENS

    def mtmd_encode_chunk(self, ctx, chunk):
        self.calls.append("encode")
        for i in range(N_TOKENS * WIDTH):  # the "embedding" of this image
            self.output[i] = chunk["pixels"] + i
        return 0

    def mtmd_get_output_embd(self, ctx):
        return self.output

    def mtmd_helper_post_decode_callback(self):
        return None

    def mtmd_helper_decode_image_chunk(self, ctx, lctx, chunk, embd, *rest):
        self.calls.append("decode")
        self.decoded.append(list(embd))
        return 0

    def mtmd_helper_eval_chunk_single(self, *args):
        self.calls.append("eval")
        return 0

    def mtmd_bitmap_set_id(self, bitmap, key):
        self.ids[id(bitmap)] = key


class FakeLlamaApi:
    @staticmethod
    def llama_get_model(lctx):
        return "model"

    @staticmethod
    def llama_model_n_embd_inp(model):
        return WIDTH


def _eval(cache, chunk):
    return cache.mtmd_helper_eval_chunk_single("ctx", "lctx", chunk, 0, 0, 512, False, None)


def test_an_image_is_encoded_once_and_reused_for_follow_up_questions():
    mtmd = FakeMtmd()
    cache = EmbeddingCachingMtmd(mtmd, FakeLlamaApi(), capacity=2)
    photo = {"type": 1, "id": b"hash-of-photo", "pixels": 100.0}
    assert _eval(cache, photo) == 0
    mtmd.output[0] = -1.0  # the encoder's buffer is reused by the next image
    assert _eval(cache, photo) == 0
    assert mtmd.calls == ["encode", "decode", "decode"]
    assert (cache.encoded, cache.reused) == (1, 1)
    # The second decode got the first image's embedding, copied, not the overwritten buffer.
    assert mtmd.decoded[1] == [100.0 + i for i in range(N_TOKENS * WIDTH)]


def test_text_chunks_and_images_without_an_id_take_the_normal_path():
    mtmd = FakeMtmd()
    cache = EmbeddingCachingMtmd(mtmd, FakeLlamaApi())
    _eval(cache, {"type": 0})
    _eval(cache, {"type": 1, "id": None, "pixels": 1.0})
    assert mtmd.calls == ["eval", "eval"]


def test_least_recently_used_images_are_evicted():
    mtmd = FakeMtmd()
    cache = EmbeddingCachingMtmd(mtmd, FakeLlamaApi(), capacity=2)
    a, b, c = ({"type": 1, "id": k, "pixels": float(i)} for i, k in enumerate([b"a", b"b", b"c"]))
    for chunk in (a, b, a, c, a, b):
        _eval(cache, chunk)
    # a stays (recently used); b was evicted by c and had to be encoded again.
    assert mtmd.calls.count("encode") == 4
    assert cache.reused == 2


def test_handlers_get_content_ids_for_their_images():
    class Handler:
        def __init__(self):
            self._mtmd_cpp = FakeMtmd()

        def _create_bitmap_from_bytes(self, image_bytes):
            return object()

    handler = Handler()
    mtmd = handler._mtmd_cpp
    cache = cache_image_embeddings(handler)
    assert handler._mtmd_cpp is cache
    one = handler._create_bitmap_from_bytes(b"same image")
    two = handler._create_bitmap_from_bytes(b"same image")
    other = handler._create_bitmap_from_bytes(b"another image")
    assert mtmd.ids[id(one)] == mtmd.ids[id(two)] != mtmd.ids[id(other)]
