"""The three models a spoken conversation needs, loaded once and shared."""

from __future__ import annotations

from dataclasses import dataclass

from .kernel.local_llm import LocalLlm
from .speech.stt import Transcriber
from .speech.tts import Synthesizer


@dataclass
class VoiceModels:
    """The three models a voice turn needs, loaded once."""

    stt: Transcriber
    llm: LocalLlm
    tts: Synthesizer

    @classmethod
    def load_defaults(cls, llm_model: str = "") -> VoiceModels:
        """Load the embedded speech recogniser and voice and the language model: ``llm_model``
        if named, else the one the app would use (chosen in its settings, else the best one
        installed). The speech models run once as they load, so the first real turn is as
        fast as the others."""
        from .app_settings import AppSettings
        from .kernel.loading import load_llm

        llm = load_llm(llm_model or AppSettings.load().llm_model)
        return cls(stt=Transcriber(), llm=llm, tts=Synthesizer())
