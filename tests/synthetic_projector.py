"""A LLaVA-1.5-style vision projector (mmproj GGUF) with random weights, for tests.

No real vision weights can be downloaded here, but llama.cpp's multimodal path only needs a
projector it can load: a CLIP vision tower (patch embedding, class embedding, positions,
pre-layernorm, transformer blocks) and the two-layer MLP that maps its features to the text
model's embedding width. This one is tiny (a few hundred kB to ~1.5 MB), so encoding an image
takes milliseconds. Its "embeddings" mean nothing; the code path that carries them is real.

Key and tensor names follow llama.cpp's ``tools/mtmd/clip-impl.h``; the layout (f16 matrices,
f32 vectors) follows the mmproj files that llama.cpp's LLaVA converter writes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PATCH_SIZE = 14  # CLIP ViT-L/14, as in LLaVA-1.5
# LLaVA-1.5 normalises pixels with OpenAI CLIP's mean and std.
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def patch_count(image_size: int) -> int:
    """Image tokens the projector produces per image: one per patch (the class token is
    dropped by the LLaVA projector)."""
    return (image_size // PATCH_SIZE) ** 2


def text_embedding_length(gguf_path: str | Path) -> int:
    """``<arch>.embedding_length`` of a text model GGUF: the width the projector must output."""
    from gguf import GGUFReader

    reader = GGUFReader(str(gguf_path))

    def scalar(key: str):
        field = reader.fields[key]
        return field.parts[field.data[0]]

    arch = bytes(scalar("general.architecture")).decode("utf-8")
    return int(scalar(f"{arch}.embedding_length")[0])


def write_llava_projector(
    path: str | Path,
    *,
    text_embd: int,
    image_size: int = 112,
    seed: int = 0,
    width: int = 64,
    heads: int = 4,
    ffn: int = 128,
    blocks: int = 2,
) -> Path:
    """Write a LLaVA-1.5 mmproj GGUF with deterministic random weights to ``path``.

    ``text_embd`` must equal the text model's embedding width (llama.cpp refuses a projector
    whose output width differs). LLaVA takes the features of the second-to-last block, so
    ``blocks=2`` runs one transformer block. ``ffn`` must differ from ``width``: llama.cpp
    takes an FFN whose down matrix has ``width`` inputs for a legacy file with up and down
    swapped."""
    from gguf import GGUFWriter

    if image_size % PATCH_SIZE:
        raise ValueError(f"image_size must be a multiple of {PATCH_SIZE}, not {image_size}")
    if width % heads or ffn == width or blocks < 1:
        raise ValueError("width must divide into heads, ffn must differ from width, blocks >= 1")
    rng = np.random.default_rng(seed)

    def matrix(rows: int, *cols: int) -> np.ndarray:
        # Small weights keep every activation finite and of the scale of token embeddings.
        return (rng.standard_normal((rows, *cols)) * 0.02).astype(np.float16)

    def vector(n: int, centre: float = 0.0) -> np.ndarray:
        return (centre + rng.standard_normal(n) * 0.02).astype(np.float32)

    path = Path(path)
    writer = GGUFWriter(str(path), arch="clip")  # general.architecture = "clip"
    writer.add_string("general.name", "synthetic-llava-projector")
    writer.add_string("general.description", f"random weights (seed {seed}), for tests only")
    writer.add_uint32("general.file_type", 1)  # mostly f16, like mmproj-model-f16.gguf
    writer.add_bool("clip.has_vision_encoder", True)
    writer.add_bool("clip.has_text_encoder", False)
    writer.add_bool("clip.has_llava_projector", True)  # read by older loaders
    writer.add_string("clip.projector_type", "mlp")
    writer.add_bool("clip.use_gelu", False)  # LLaVA-1.5's CLIP uses quick GELU
    writer.add_uint32("clip.vision.image_size", image_size)
    writer.add_uint32("clip.vision.patch_size", PATCH_SIZE)
    writer.add_uint32("clip.vision.embedding_length", width)
    writer.add_uint32("clip.vision.feed_forward_length", ffn)
    writer.add_uint32("clip.vision.projection_dim", text_embd)
    writer.add_uint32("clip.vision.block_count", blocks)
    writer.add_uint32("clip.vision.attention.head_count", heads)
    writer.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-5)
    writer.add_array("clip.vision.image_mean", CLIP_MEAN)
    writer.add_array("clip.vision.image_std", CLIP_STD)

    positions = patch_count(image_size) + 1  # the patches and the class token
    writer.add_tensor("v.patch_embd.weight", matrix(width, 3, PATCH_SIZE, PATCH_SIZE))
    writer.add_tensor("v.class_embd", vector(width))
    writer.add_tensor("v.position_embd.weight", matrix(positions, width))
    writer.add_tensor("v.pre_ln.weight", vector(width, 1.0))
    writer.add_tensor("v.pre_ln.bias", vector(width))
    for i in range(blocks):
        block = f"v.blk.{i}"
        for name in ("attn_q", "attn_k", "attn_v", "attn_out"):
            writer.add_tensor(f"{block}.{name}.weight", matrix(width, width))
            writer.add_tensor(f"{block}.{name}.bias", vector(width))
        for name in ("ln1", "ln2"):
            writer.add_tensor(f"{block}.{name}.weight", vector(width, 1.0))
            writer.add_tensor(f"{block}.{name}.bias", vector(width))
        # numpy (out, in) is ggml's [in, out]: up maps width -> ffn, down maps ffn -> width.
        writer.add_tensor(f"{block}.ffn_up.weight", matrix(ffn, width))
        writer.add_tensor(f"{block}.ffn_up.bias", vector(ffn))
        writer.add_tensor(f"{block}.ffn_down.weight", matrix(width, ffn))
        writer.add_tensor(f"{block}.ffn_down.bias", vector(width))
    # The projector: Linear(width -> text) · GELU · Linear(text -> text).
    writer.add_tensor("mm.0.weight", matrix(text_embd, width))
    writer.add_tensor("mm.0.bias", vector(text_embd))
    writer.add_tensor("mm.2.weight", matrix(text_embd, text_embd))
    writer.add_tensor("mm.2.bias", vector(text_embd))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
