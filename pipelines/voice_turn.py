"""One spoken turn, start to finish: audio in → transcript → reply → speech out (the
stages measured one after another; the real-time loop is ``conversation``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from .audio.files import SPEECH_RATE
from .errors import NoSpeechError
from .kernel.local_llm import ChatMessage
from .kernel.prompts import VOICE_SYSTEM_PROMPT
from .speech.chunking import PhraseChunker
from .speech.vad import trim_silence
from .voice_models import VoiceModels


@dataclass
class StageTimings:
    """Seconds spent in each stage of a turn (None where a stage did not run)."""

    vad_s: float | None = None
    stt_s: float | None = None
    llm_first_token_s: float | None = None
    llm_s: float | None = None
    llm_tokens: int = 0
    tts_first_audio_s: float | None = None
    tts_s: float = 0.0
    audio_out_s: float = 0.0
    first_audio_after_input_s: float | None = None
    total_s: float | None = None

    @property
    def llm_tokens_per_s(self) -> float | None:
        if not self.llm_s or not self.llm_tokens:
            return None
        return self.llm_tokens / self.llm_s

    @property
    def tts_real_time_factor(self) -> float | None:
        return self.tts_s / self.audio_out_s if self.audio_out_s else None

    def as_dict(self) -> dict[str, float | int | None]:
        data = asdict(self)
        data["llm_tokens_per_s"] = self.llm_tokens_per_s
        data["tts_real_time_factor"] = self.tts_real_time_factor
        return data


@dataclass
class TurnResult:
    """What was heard, what was answered, and the answer as audio."""

    transcript: str
    reply: str
    audio: np.ndarray
    sample_rate: int
    timings: StageTimings = field(default_factory=StageTimings)


def run_voice_turn(
    models: VoiceModels,
    question_audio: np.ndarray,
    *,
    history: list[ChatMessage] | None = None,
    system_prompt: str = VOICE_SYSTEM_PROMPT,
    on_transcript: Callable[[str], None] | None = None,
    on_reply_text: Callable[[str], None] | None = None,
    kernel=None,
) -> TurnResult:
    """Answer one spoken question (16 kHz mono float32) out loud; with a ``kernel``, as
    the app answers (everyday intents first, the model's reply through the output guard),
    else straight from the model (the stages measured alone).

    Raises NoSpeechError if the audio holds no intelligible speech.
    """
    timings = StageTimings()
    start = time.perf_counter()

    speech = trim_silence(question_audio)
    timings.vad_s = time.perf_counter() - start

    t = time.perf_counter()
    transcript = models.stt.transcribe(speech).text
    timings.stt_s = time.perf_counter() - t
    if not transcript:
        raise NoSpeechError("no words could be made out in the audio")
    if on_transcript:
        on_transcript(transcript)

    messages: list[ChatMessage] = [{"role": "system", "content": system_prompt}]
    messages += history or []
    messages.append({"role": "user", "content": transcript})

    chunker = PhraseChunker()
    reply_parts: list[str] = []
    audio_parts: list[np.ndarray] = []

    def speak(phrase: str) -> None:
        t_tts = time.perf_counter()
        for samples in models.tts.stream(phrase):
            if timings.tts_first_audio_s is None:
                now = time.perf_counter()
                timings.tts_first_audio_s = now - t_tts
                timings.first_audio_after_input_s = now - start
            audio_parts.append(samples)
            timings.audio_out_s += samples.size / models.tts.sample_rate
        timings.tts_s += time.perf_counter() - t_tts

    t_llm = time.perf_counter()
    llm_busy = 0.0

    def take(piece: str) -> None:
        nonlocal llm_busy, t_llm
        llm_busy += time.perf_counter() - t_llm
        if timings.llm_first_token_s is None:
            timings.llm_first_token_s = llm_busy
        timings.llm_tokens += 1
        reply_parts.append(piece)
        if on_reply_text:
            on_reply_text(piece)
        for phrase in chunker.feed(piece):
            speak(phrase)
        t_llm = time.perf_counter()

    if kernel is not None:
        kernel.draft_answer(None, transcript, on_token=take)
    else:
        for piece in models.llm.stream_chat(messages):
            take(piece)
    llm_busy += time.perf_counter() - t_llm
    timings.llm_s = llm_busy
    for phrase in chunker.flush():
        speak(phrase)

    timings.total_s = time.perf_counter() - start
    reply = "".join(reply_parts).strip()
    audio = np.concatenate(audio_parts) if audio_parts else np.zeros(0, dtype=np.float32)
    return TurnResult(transcript, reply, audio, models.tts.sample_rate, timings)


__all__ = ["SPEECH_RATE", "StageTimings", "TurnResult", "VoiceModels", "run_voice_turn"]
