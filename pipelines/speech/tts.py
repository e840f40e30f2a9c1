"""Text to speech with Piper."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import onnxruntime
from piper import PiperVoice, SynthesisConfig
from piper.config import PiperConfig

from ...models.manifest import ModelKind
from ...models.resolve import ResolvedModel, resolve_default
from ..scheduling import SOON, new_threads_lowered
from .spoken import spoken


class Synthesizer:
    """A loaded Piper voice. Load once and share."""

    def __init__(
        self,
        model: ResolvedModel | None = None,
        *,
        length_scale: float | None = None,
        threads: int = 0,
    ):
        self.model_info = model or resolve_default(ModelKind.TTS)
        config_path = self.model_info.file(self.model_info.spec.files[1].path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads  # 0: all cores (2 threads: 33 ms vs 57 ms/phrase)
        options.inter_op_num_threads = 1
        # No busy-waiting pool threads between phrases: the listening stage needs the CPU.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        # Every phrase is a new input length. ONNX Runtime's arena and its per-shape memory
        # plans then hold on to memory for each new length seen, without bound in practice
        # (figures: README, *Where the growth is*). Without them a phrase is synthesised a
        # little more slowly.
        options.enable_cpu_mem_arena = False
        options.enable_mem_pattern = False
        self._config = SynthesisConfig(length_scale=length_scale)
        # ONNX Runtime's worker threads do the computing; listening comes before them.
        with new_threads_lowered(SOON):
            self._voice = PiperVoice(
                config=PiperConfig.from_dict(json.loads(config_path.read_text(encoding="utf-8"))),
                session=onnxruntime.InferenceSession(
                    str(self.model_info.main_file),
                    sess_options=options,
                    providers=["CPUExecutionProvider"],
                ),
            )
            self.speak("Ready.")

    def set_rate(self, rate: float) -> None:
        """Speak ``rate`` times as fast as the voice's own pace (1.0), from the next phrase."""
        if not 0.25 <= rate <= 4.0:
            raise ValueError(f"a speech rate of {rate} is out of range (0.25-4)")
        self._config = SynthesisConfig(length_scale=self._voice.config.length_scale / rate)

    @property
    def sample_rate(self) -> int:
        """Rate of the audio this voice produces."""
        return int(self._voice.config.sample_rate)

    def stream(self, text: str) -> Iterator[np.ndarray]:
        """Speak ``text``, yielding one float32 chunk in [-1, 1] per sentence."""
        for chunk in self._voice.synthesize(spoken(text), syn_config=self._config):
            yield chunk.audio_float_array.astype(np.float32, copy=False)

    def speak(self, text: str) -> np.ndarray:
        """Speak ``text`` as one array (empty if there is nothing to say)."""
        parts = list(self.stream(text))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def speak_varied(
        self, text: str, rate: float, noise_scale: float, noise_w_scale: float
    ) -> np.ndarray:
        """Speak ``text`` ``rate`` times as fast as the voice's own pace, with this much
        variation in its sound (noise scale) and rhythm (noise_w scale): the many
        different utterances a wake word is trained on (speech/wakeword_data.py)."""
        config = SynthesisConfig(
            length_scale=self._voice.config.length_scale / rate,
            noise_scale=noise_scale,
            noise_w_scale=noise_w_scale,
        )
        parts = [
            chunk.audio_float_array.astype(np.float32, copy=False)
            for chunk in self._voice.synthesize(spoken(text), syn_config=config)
        ]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
