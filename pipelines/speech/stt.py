"""Speech to text with faster-whisper (CTranslate2)."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer
from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

from ...models.manifest import ModelKind
from ...models.resolve import ResolvedModel, resolve_default
from ..scheduling import RECOGNITION, new_threads_lowered

# Phrases Whisper is known to invent on silence or noise (learned from video subtitles).
_HALLUCINATIONS = re.compile(
    r"^\W*(thank(s| you)( so much)? for watching|please subscribe|subtitles by|"
    r"(thank you\W*)+|you)\W*$",
    re.IGNORECASE,
)
# faster-whisper's own thresholds: text this repetitive is a decoding loop; a decode this
# unsure, unless Whisper also thinks there is no speech, is tried again at higher temperatures.
_LOOP_COMPRESSION_RATIO = 2.4
_UNSURE_LOGPROB = -1.0
_FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
# More tokens than this per second of audio is no one speaking but a decoding loop (fast
# speech with punctuation and timestamps gives a few per second). The decode's length limit
# is set so that a loop stops soon after passing it instead of running to Whisper's 448
# tokens: twice it, plus some, as CTranslate2 4.x's Whisper may stop at about half its
# ``max_length`` past the prompt.
_PLAUSIBLE_TOKENS_PER_S = 7.0
_PLAUSIBLE_TOKENS_MIN = 10
_LIMIT_OVER_PLAUSIBLE = 16
# A run of this many words said twice over, back to back, is taken for a loop that ended
# by itself (people repeat a word or two, rarely a whole phrase).
_REPEATED_RUN_WORDS = 4


@dataclass(frozen=True)
class Transcript:
    """What was said, with Whisper's confidence figures."""

    text: str
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class SttSettings:
    """Decoding settings for live speech: one utterance at a time, as soon as it ends.

    Whisper's encoder reads 30 s windows, and faster-whisper pads every utterance to one;
    for a few seconds of speech that is mostly padding, and the encoder's cost grows faster
    than the window's length, so it is most of the decode. An utterance that fits is encoded
    in a window of its own length plus ``window_margin_s``, no shorter than ``min_window_s``
    (None: always the full 30 s). Whisper never saw such windows in training: in much
    shorter ones it mishears one- and two-word utterances and may repeat what it heard
    until it runs out of tokens. A decode that runs on like that is caught and done again in
    the full window. ``timestamps``: the short window is decoded with timestamp tokens
    (Whisper marks where speech ends), which makes that rarer; the full window, as before,
    without them."""

    beam_size: int = 1  # wider beams were no more accurate on our recordings, only slower
    compute_type: str = "int8"
    cpu_threads: int = 0  # 0: all cores
    no_speech_threshold: float = 0.6
    min_window_s: float | None = 10.0
    window_margin_s: float = 2.0  # with less silence after it, Whisper may end a long
    # utterance with words it did not hear ("Thank you.")
    timestamps: bool = True
    # Decode an unsure result again at higher temperatures (faster-whisper's fallback):
    # several more decodes, on the utterances that are slowest already, for no measurable
    # gain in accuracy on ours.
    temperature_fallback: bool = False


def looks_like_hallucination(text: str, no_speech_prob: float, avg_logprob: float) -> bool:
    """True for text Whisper probably made up rather than heard."""
    if _HALLUCINATIONS.match(text.strip()):
        return no_speech_prob > 0.2 or avg_logprob < -0.7
    return no_speech_prob > 0.8 and avg_logprob < -1.0


def repeats_itself(text: str, run: int = _REPEATED_RUN_WORDS) -> bool:
    """True if some ``run`` or more words of ``text`` come twice over, back to back."""
    words = re.findall(r"[\w']+", text.lower())
    for length in range(run, len(words) // 2 + 1):
        for start in range(len(words) - 2 * length + 1):
            if words[start : start + length] == words[start + length : start + 2 * length]:
                return True
    return False


class Transcriber:
    """A loaded Whisper model. Load once and share; ``transcribe`` is thread-safe."""

    def __init__(self, model: ResolvedModel | None = None, settings: SttSettings | None = None):
        self.model_info = model or resolve_default(ModelKind.STT)
        self.settings = settings or SttSettings()
        threads = self.settings.cpu_threads or os.cpu_count() or 1
        # CTranslate2 starts its worker threads as the model loads and first runs; they do
        # the computing, and the listening stage must come before them.
        with new_threads_lowered(RECOGNITION):
            self._model = WhisperModel(
                str(self.model_info.root),
                device="cpu",
                compute_type=self.settings.compute_type,
                cpu_threads=threads,
            )
            self._tokenizer = Tokenizer(
                self._model.hf_tokenizer,
                self._model.model.is_multilingual,
                task="transcribe",
                language="en",
            )
            self._suppress = get_suppressed_tokens(self._tokenizer, [-1])
            self.transcribe(np.zeros(8_000, dtype=np.float32))

    def transcribe(self, audio: np.ndarray, *, hint: str | None = None) -> Transcript:
        """Transcribe 16 kHz mono float32 speech (already trimmed of long silences).

        ``hint``: words the user is likely to say now (Whisper's initial prompt), e.g. the
        vocabulary of page edits while a page is open ("dark mode", not "Dart mode")."""
        audio = np.asarray(audio, dtype=np.float32)
        frames = self.window_frames(audio.size)
        if frames is not None:
            heard = self._transcribe_window(audio, hint, frames)
            if heard is not None:
                return heard
        return self._transcribe_full(audio, hint)

    def window_frames(self, samples: int) -> int | None:
        """Length (in feature frames) of the encoder window for ``samples`` of audio, or
        None for faster-whisper's own 30 s windows."""
        s = self.settings
        features = self._model.feature_extractor
        if s.min_window_s is None or samples == 0:
            return None
        per_second = features.sampling_rate / features.hop_length
        frames = max(
            math.ceil(samples / features.hop_length + s.window_margin_s * per_second),
            round(s.min_window_s * per_second),
        )
        return frames if frames < features.nb_max_frames else None

    def _transcribe_window(
        self, audio: np.ndarray, hint: str | None, frames: int
    ) -> Transcript | None:
        """One decode in an encoder window of ``frames`` feature frames; None when Whisper
        ran on (or, with the temperature fallback on, was unsure), for the full window."""
        s = self.settings
        features = self._features(audio, frames)
        previous = self._tokenizer.encode(" " + hint.strip()) if hint and hint.strip() else []
        prompt = self._model.get_prompt(
            self._tokenizer, previous, without_timestamps=not s.timestamps
        )
        seconds = audio.size / self._model.feature_extractor.sampling_rate
        plausible = _PLAUSIBLE_TOKENS_MIN + _PLAUSIBLE_TOKENS_PER_S * seconds
        limit = len(prompt) + 2 * math.ceil(plausible) + _LIMIT_OVER_PLAUSIBLE
        result = self._model.model.generate(
            self._model.encode(features),
            [prompt],
            beam_size=s.beam_size,
            max_length=min(limit, self._model.max_length),
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
            suppress_tokens=self._suppress,
            max_initial_timestamp_index=round(1.0 / self._model.time_precision),
        )[0]
        tokens = result.sequences_ids[0]
        text = self._tokenizer.decode(tokens).strip()
        if len(tokens) > plausible:
            return None
        if get_compression_ratio(text) > _LOOP_COMPRESSION_RATIO or repeats_itself(text):
            return None
        # (the score is the log probability per token; faster-whisper's average counts the
        # end-of-text token too)
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)
        no_speech = result.no_speech_prob
        silent = no_speech > s.no_speech_threshold and avg_logprob <= _UNSURE_LOGPROB
        if s.temperature_fallback and avg_logprob < _UNSURE_LOGPROB and not silent:
            return None
        if silent or not text:
            return self._transcript([])
        return self._transcript([(text, avg_logprob, no_speech)])

    def _features(self, audio: np.ndarray, frames: int) -> np.ndarray:
        """Whisper's log-Mel features of ``audio`` followed by silence, ``frames`` long.

        As faster-whisper's FeatureExtractor computes them, with two differences. The window
        is padded as silent audio would be, not with zero features (which in a short window
        turn single words into others); the frames of silence alone are filled in rather than
        computed. And the Mel filters are applied by ``np.einsum``, not by a BLAS matrix
        product: NumPy's BLAS threads spin on a core for a while after one, against
        Whisper's own threads."""
        extractor = self._model.feature_extractor
        hop, n_fft = extractor.hop_length, extractor.n_fft
        # Enough silence after the audio for the last frames that reach into it.
        padded = np.pad(audio, (0, n_fft + hop))
        window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
        stft = extractor.stft(padded, n_fft, hop, window=window, return_complex=True)
        power = np.abs(stft.astype(np.complex64)[..., :-1]) ** 2
        mel = np.einsum("ij,jk->ik", extractor.mel_filters, power)
        log_mel = np.log10(np.clip(mel, 1e-10, None))
        floor = max(float(log_mel.max()) - 8.0, -10.0)  # (silence's own level, at least)
        features = np.full((log_mel.shape[0], frames), (floor + 4.0) / 4.0, np.float32)
        n = min(frames, log_mel.shape[1])
        features[:, :n] = (np.maximum(log_mel[:, :n], floor) + 4.0) / 4.0
        return features

    def _transcribe_full(
        self, audio: np.ndarray, hint: str | None, **options: object
    ) -> Transcript:
        """faster-whisper's own loop over 30 s windows, for audio of any length; ``options``
        (of ``WhisperModel.transcribe``) override ours."""
        s = self.settings
        chosen: dict[str, object] = {
            "language": "en",
            "beam_size": s.beam_size,
            "condition_on_previous_text": False,
            "no_speech_threshold": s.no_speech_threshold,
            "temperature": list(_FALLBACK_TEMPERATURES) if s.temperature_fallback else 0.0,
            "vad_filter": False,
            "without_timestamps": True,
            **options,
        }
        segments, _info = self._model.transcribe(audio, initial_prompt=hint or None, **chosen)
        return self._transcript(
            [(seg.text, seg.avg_logprob, seg.no_speech_prob) for seg in segments]
        )

    @staticmethod
    def _transcript(segments: list[tuple[str, float, float]]) -> Transcript:
        """The text of the segments (text, avg_logprob, no_speech_prob) that Whisper did
        not make up, with their figures."""
        kept = [(t, lp, ns) for t, lp, ns in segments if not looks_like_hallucination(t, ns, lp)]
        text = " ".join(t for t in (seg[0].strip() for seg in kept) if t)
        return Transcript(
            text=text,
            avg_logprob=float(np.mean([seg[1] for seg in kept])) if kept else float("-inf"),
            no_speech_prob=float(np.max([seg[2] for seg in kept])) if kept else 1.0,
        )
