"""Text to speech with Piper."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from piper import PiperVoice, SynthesisConfig

from ...models.manifest import ModelKind
from ...models.resolve import ResolvedModel, resolve_default


class Synthesizer:
    """A loaded Piper voice. Load once and share."""

    def __init__(self, model: ResolvedModel | None = None, *, length_scale: float | None = None):
        self.model_info = model or resolve_default(ModelKind.TTS)
        config = self.model_info.file(self.model_info.spec.files[1].path)
        self._voice = PiperVoice.load(self.model_info.main_file, config_path=config)
        self._config = SynthesisConfig(length_scale=length_scale)

    @property
    def sample_rate(self) -> int:
        """Rate of the audio this voice produces."""
        return int(self._voice.config.sample_rate)

    def stream(self, text: str) -> Iterator[np.ndarray]:
        """Speak ``text``, yielding one float32 chunk in [-1, 1] per sentence."""
        for chunk in self._voice.synthesize(text, syn_config=self._config):
            yield chunk.audio_float_array.astype(np.float32, copy=False)

    def speak(self, text: str) -> np.ndarray:
        """Speak ``text`` as one array (empty if there is nothing to say)."""
        parts = list(self.stream(text))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
