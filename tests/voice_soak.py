"""A long hands-free conversation driven headless, for memory and thread soak runs.

A ``LoopingMicrophone`` plays a list of clips (real recordings and spoken questions) into a
``Conversation`` in real time, one after another, forever: no hour-long file is needed for
an hour. After each clip it stays silent for at least ``gap_s``, then until the engine has
been at rest for ``rest_s`` (a patient user who lets each reply finish); a reply still going
after ``max_wait_s`` is talked over (barge-in), as a user would.

``run_soak`` runs the conversation for a given time and samples, every few seconds, the
process's resident memory (VmRSS from /proc/self/status; psutil is not installed), its
Python and OS thread counts and how many turns were answered. Two reference points are
taken with the engine at rest, the first after the warm-up and one at the end: there the
garbage collector runs, and RSS is also read after glibc returned its free memory
(``trimmed_rss_mb``), the numpy buffers still reachable (the audio, mostly) are summed
(``live_arrays_mb``) and, with ``trace_malloc``, tracemalloc snapshots give the biggest
Python growths between the two. ``per_turn`` adds such a trimmed reading each time a reply
is over. ``prewarm_voice`` and ``prewarm_llm`` bring the models' native buffers to their
high-water marks first, for short runs.

Used by tests/test_voice_memory.py (short) and ``python -m tests.benchmarks voice-memory``
(an hour by default).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tests.conftest import EVAL_DIR  # (also makes the embedded LLM the default, as in tests)

RATE = 16_000
BLOCK = 320  # 20 ms, as FileMicrophone
WARMUP_MAX_S = 180.0  # the warm-up: the first 3 minutes ...
WARMUP_SHARE = 0.2  # ... or the first 20 % of a shorter run
SUMMARY_THREAD = "vistavox-summary"  # the kernel's short-lived summariser threads
NUMPY_DOMAIN = 389047  # tracemalloc domain of numpy's data buffers (np.lib.tracemalloc_domain)

QUESTIONS = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "What colour is the sky on a clear day?",
    "Can you recommend a good book?",
    "What is two plus two?",
    "Why do leaves change colour in autumn?",
    "How far away is the moon?",
    "What should I cook for dinner tonight?",
]

# A long phrase to prewarm the voice with: one sentence of long words, about 90 tokens and
# 460 characters (the PhraseChunker ends phrases at sentence ends, or at a clause boundary
# once past 30 words, so a phrase can be as long as a whole reply).
LONG_PHRASE = (
    "Remarkably, experienced international mountaineering expeditions frequently underestimate "
    "unpredictable atmospheric conditions, particularly considering extraordinarily dangerous "
    "avalanches, treacherous crevasses, exhausting temperatures, insufficient oxygen, "
    "complicated communications, unreliable equipment, misunderstood instructions and "
    "surprisingly overwhelming psychological pressures during consecutive demanding "
    "expeditions everywhere internationally."
)


@dataclass(frozen=True)
class Clip:
    name: str
    audio: np.ndarray  # 16 kHz mono float32

    @property
    def seconds(self) -> float:
        return self.audio.size / RATE


def warmup_seconds(duration_s: float) -> float:
    """The first 3 minutes, or the first 20 % of a run shorter than 15 minutes."""
    return min(WARMUP_MAX_S, WARMUP_SHARE * duration_s)


def real_clips(eval_dir: Path = EVAL_DIR, *, max_seconds: float | None = None) -> list[Clip]:
    """The real recordings listed in ``eval_dir/speech/transcripts.jsonl`` (none when the
    evaluation material is not here), optionally only those up to ``max_seconds`` long."""
    from vistavox.pipelines.audio.files import load_audio

    listing = eval_dir / "speech" / "transcripts.jsonl"
    if not listing.is_file():
        return []
    clips = []
    for line in listing.read_text().splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if max_seconds is not None and float(row.get("duration_s", 0)) > max_seconds:
            continue
        clips.append(Clip(row["file"], load_audio(eval_dir / "speech" / row["file"])))
    return clips


def spoken_questions(models, texts: list[str] = QUESTIONS) -> list[Clip]:
    """Questions said by the assistant's own voice, at 16 kHz."""
    from vistavox.pipelines.audio.resample import resample

    rate = models.tts.sample_rate
    return [
        Clip(text, resample(models.tts.speak(text), rate, RATE).astype(np.float32))
        for text in texts
    ]


def interleave(first: list[Clip], second: list[Clip]) -> list[Clip]:
    """a1, b1, a2, b2, ... and then the rest of the longer list."""
    out = []
    for i in range(max(len(first), len(second))):
        out += first[i : i + 1] + second[i : i + 1]
    return out


def prewarm_voice(models, text: str = LONG_PHRASE) -> None:
    """Bring the voice's native memory to the high-water mark a conversation can reach:
    ONNX Runtime's arena grows to the longest phrase synthesised so far and keeps that
    size (measured: +30 MB after a 6-word phrase, +160 MB after 30 words, +450 MB after
    this 460-character one), so without this a short run's "growth" is mostly one such
    step, whenever the model happens to say its longest sentence yet."""
    models.tts.speak(text)


def prewarm_llm(models) -> None:
    """Make the language model's whole KV cache resident: llama.cpp allocates it at load
    and its pages become resident as the conversation first fills the context window
    (about 30 kB a token for the embedded model, measured: ~2 MB a turn until the window
    is full, ~25 turns into a conversation with the app's 2048 tokens), which a short run
    would take for growth. One prompt as long as the window does it at once."""
    llm = models.llm
    words = ("the quick brown fox jumps over the lazy dog " * (llm.context_tokens // 8)).split()
    budget = llm.context_tokens - 64
    text = " ".join(words)
    while llm.count_tokens(text) > budget:
        words = words[: int(len(words) * 0.95)]
        text = " ".join(words)
    for _ in llm.stream_chat([{"role": "user", "content": text}], max_tokens=1):
        pass
    # Likewise the second context the background summaries run on (made at the first).
    background = {"background": True, "scratch": True}
    for _ in llm.stream_chat([{"role": "user", "content": text}], max_tokens=1, **background):
        pass


class LoopingMicrophone:
    """Plays ``clips`` in a loop in real time, as FileMicrophone plays one file. Each clip
    follows at least ``gap_s`` of silence and, if ``ready`` is given, ``ready()`` having
    been true for ``rest_s`` (or ``max_wait_s`` having passed). Plays until ``stop`` or
    ``end_input`` (then silence), or for ``duration_s`` if given; ``finished`` is set then.

    The audio is made block by block from the clips: memory stays the clips' own."""

    def __init__(
        self,
        clips: list[Clip],
        *,
        gap_s: float = 2.0,
        rest_s: float = 2.0,
        lead_s: float = 1.0,
        ready: Callable[[], bool] | None = None,
        max_wait_s: float = 30.0,
        duration_s: float | None = None,
    ) -> None:
        if not clips:
            raise ValueError("no clips to play")
        self.clips = clips
        self.gap_s = gap_s
        self.rest_s = rest_s
        self.lead_s = lead_s
        self.ready = ready
        self.max_wait_s = max_wait_s
        self.duration_s = duration_s
        self.device = f"loop:{len(clips)} clips"
        self.finished = threading.Event()
        self.clips_played = 0
        self.clips_waited_out = 0  # clips said over a reply still going after max_wait_s
        self._ending = threading.Event()
        self._blocks = self._generate()
        self._position = 0
        self._t0 = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()

    def stop(self) -> None:
        self._ending.set()
        self.finished.set()

    def end_input(self) -> None:
        """Say nothing more (a clip being said is cut off): silence from now on."""
        self._ending.set()

    def _silence(self, seconds: float) -> Iterator[np.ndarray]:
        for _ in range(int(round(seconds * RATE / BLOCK))):
            yield np.zeros(BLOCK, np.float32)

    def _wait_for_rest(self) -> Iterator[np.ndarray]:
        """Silence until ``ready()`` held for ``rest_s`` (or ``max_wait_s`` passed)."""
        waited = rested = 0.0
        while self.ready is not None and rested < self.rest_s:
            if waited >= self.max_wait_s:
                self.clips_waited_out += 1
                return
            yield np.zeros(BLOCK, np.float32)
            waited += BLOCK / RATE
            rested = rested + BLOCK / RATE if self.ready() else 0.0

    def _generate(self) -> Iterator[np.ndarray]:
        yield from self._silence(self.lead_s)
        while True:
            for clip in self.clips:
                yield from self._wait_for_rest()
                self.clips_played += 1
                for i in range(0, clip.audio.size, BLOCK):
                    block = clip.audio[i : i + BLOCK]
                    if block.size < BLOCK:
                        block = np.concatenate([block, np.zeros(BLOCK - block.size, np.float32)])
                    yield block
                yield from self._silence(self.gap_s)

    def read(self, timeout: float = 0.1):
        from vistavox.pipelines.audio.microphone import MicBlock

        if self.duration_s is not None and self._position >= self.duration_s * RATE:
            self._ending.set()
            self.finished.set()
        due = self._t0 + (self._position + BLOCK) / RATE
        wait = due - time.monotonic()
        if wait > timeout:
            time.sleep(timeout)
            return None
        if wait > 0:
            time.sleep(wait)
        samples = np.zeros(BLOCK, np.float32) if self._ending.is_set() else next(self._blocks)
        now = time.monotonic()
        block = MicBlock(samples, self._position / RATE, now, now - BLOCK / RATE)
        self._position += BLOCK
        return block


def rss_mb() -> float:
    """Resident memory of this process, MB (VmRSS)."""
    return _status("VmRSS") / 1024


def os_threads() -> int:
    """Threads of this process as the kernel sees them (native pools included)."""
    return int(_status("Threads"))


def _status(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return float(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def trimmed_rss_mb() -> float:
    """VmRSS after glibc handed its free heap memory back to the system (malloc_trim): what
    is in use, without the freed memory the allocator keeps for later (which goes up and
    down by 10-15 MB between samples as transcription and synthesis come and go)."""
    with contextlib.suppress(OSError, AttributeError):  # (not glibc: no trimming)
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_mb()


def live_arrays_mb() -> float:
    """MB of the numpy buffers reachable from Python objects (the audio of utterances,
    phrases and buffers, mostly), each buffer counted once; without tracemalloc, whose own
    memory and slower allocations would be in the figures."""
    buffers: dict[int, int] = {}
    for obj in gc.get_objects():
        for ref in gc.get_referents(obj):
            if type(ref) is np.ndarray:
                base = ref
                while isinstance(base.base, np.ndarray):
                    base = base.base
                buffers[id(base)] = base.nbytes
    return sum(buffers.values()) / 2**20


def summary_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith(SUMMARY_THREAD))


class TurnCounter:
    """Counts the events a soak run reports, keeping nothing else (an EventLog would keep
    every event, ten level meters a second among them: a leak of the rig's own)."""

    def __init__(self) -> None:
        self.heard = 0  # FinalTranscript: turns taken
        self.answered = 0  # ReplyFinished played to the end
        self.cut = 0  # ReplyFinished cut off (barge-in)
        self.longest_phrase_words = 0  # of the phrases spoken
        self.longest_phrase = ""
        self.errors: list[str] = []  # the first few EngineErrors

    def __call__(self, event) -> None:
        from vistavox.pipelines.events import (
            EngineError,
            FinalTranscript,
            PhraseSpoken,
            ReplyFinished,
        )

        if isinstance(event, FinalTranscript):
            self.heard += 1
        elif isinstance(event, ReplyFinished):
            if event.interrupted:
                self.cut += 1
            else:
                self.answered += 1
        elif isinstance(event, PhraseSpoken):
            words = len(event.text.split())
            if words > self.longest_phrase_words:
                self.longest_phrase_words, self.longest_phrase = words, event.text
        elif isinstance(event, EngineError) and len(self.errors) < 20:
            self.errors.append(f"{event.code}: {event.message}")


@dataclass
class Sample:
    t_s: float  # seconds since the conversation started
    rss_mb: float
    threads: int  # threading.active_count()
    summary_threads: int  # of them, the kernel's summarisers (they come and go)
    os_threads: int
    turns: int  # turns whose speech ended, in the engine's (bounded) list
    heard: int  # final transcripts so far
    answered: int  # replies played to the end so far
    cut: int  # replies cut off so far
    idle: bool  # the engine was at rest (nobody talking, no reply being made or played)
    traced_mb: float | None = None  # tracemalloc's current total, when tracing


@dataclass
class Reference:
    """A measuring point with the engine at rest, after a garbage collection."""

    sample: Sample
    trimmed_rss_mb: float
    arrays_mb: float  # live_arrays_mb()
    snapshot: Path | None = None  # tracemalloc's, dumped (kept in memory it would be in RSS)


@dataclass
class RestPoint:
    """Memory each time a reply is over and the engine at rest (``per_turn``)."""

    t_s: float
    answered: int
    rss_mb: float
    trimmed_rss_mb: float


@dataclass
class SoakResult:
    duration_s: float
    warmup_s: float
    samples: list[Sample]
    warm: Reference
    end: Reference
    threads_before_start: int
    threads_after_stop: int
    rss_before_start_mb: float
    longest_phrase_words: int = 0
    longest_phrase: str = ""
    clips_played: int = 0
    clips_waited_out: int = 0
    errors: list[str] = field(default_factory=list)
    rests: list[RestPoint] = field(default_factory=list)
    top_growth: list[str] = field(default_factory=list)  # tracemalloc, warm → end
    numpy_growth_mb: float | None = None  # numpy's buffers, warm → end

    @property
    def after_warmup(self) -> list[Sample]:
        return [s for s in self.samples if s.t_s >= self.warm.sample.t_s]

    @property
    def growth_mb(self) -> float:
        """VmRSS at the end minus at the end of the warm-up (both at rest)."""
        return self.end.sample.rss_mb - self.warm.sample.rss_mb

    @property
    def trimmed_growth_mb(self) -> float:
        return self.end.trimmed_rss_mb - self.warm.trimmed_rss_mb

    @property
    def arrays_growth_mb(self) -> float:
        return self.end.arrays_mb - self.warm.arrays_mb

    @property
    def answered_after_warmup(self) -> int:
        return self.end.sample.answered - self.warm.sample.answered

    def persistent_threads(self, sample: Sample) -> int:
        return sample.threads - sample.summary_threads

    def slope_mb_per_hour(self) -> float | None:
        """The least-squares trend of VmRSS after the warm-up."""
        points = self.after_warmup
        if len(points) < 3 or points[-1].t_s - points[0].t_s < 1:
            return None
        t = np.array([s.t_s for s in points]) / 3600
        y = np.array([s.rss_mb for s in points])
        return float(np.polyfit(t, y, 1)[0])

    def figures(self) -> dict[str, object]:
        after = self.after_warmup or [self.end.sample]
        slope = self.slope_mb_per_hour()
        warm, end = self.warm.sample, self.end.sample
        traced = (
            None
            if warm.traced_mb is None or end.traced_mb is None
            else round(end.traced_mb - warm.traced_mb, 2)
        )
        return {
            "duration_s": round(self.duration_s, 1),
            "warmup_s": round(self.warmup_s, 1),
            "warm_point_s": warm.t_s,
            "rss_before_start_mb": round(self.rss_before_start_mb, 1),
            "rss_warm_mb": round(warm.rss_mb, 1),
            "rss_end_mb": round(end.rss_mb, 1),
            "rss_growth_mb": round(self.growth_mb, 1),
            "rss_max_mb": round(max(s.rss_mb for s in self.samples), 1),
            "rss_max_after_warmup_mb": round(max(s.rss_mb for s in after), 1),
            "rss_trend_mb_per_hour": None if slope is None else round(slope, 1),
            "trimmed_rss_warm_mb": round(self.warm.trimmed_rss_mb, 1),
            "trimmed_rss_end_mb": round(self.end.trimmed_rss_mb, 1),
            "trimmed_rss_growth_mb": round(self.trimmed_growth_mb, 1),
            "arrays_warm_mb": round(self.warm.arrays_mb, 2),
            "arrays_end_mb": round(self.end.arrays_mb, 2),
            "arrays_growth_mb": round(self.arrays_growth_mb, 2),
            "traced_growth_mb": traced,
            "numpy_growth_mb": (
                None if self.numpy_growth_mb is None else round(self.numpy_growth_mb, 3)
            ),
            "threads_warm": warm.threads,
            "threads_end": end.threads,
            "threads_min": min(s.threads for s in after),
            "threads_max": max(s.threads for s in after),
            "summary_threads_max": max(s.summary_threads for s in after),
            "os_threads_warm": warm.os_threads,
            "os_threads_end": end.os_threads,
            "os_threads_min": min(s.os_threads for s in after),
            "os_threads_max": max(s.os_threads for s in after),
            "threads_before_start": self.threads_before_start,
            "threads_after_stop": self.threads_after_stop,
            "turns_heard": end.heard,
            "turns_answered": end.answered,
            "turns_answered_after_warmup": self.answered_after_warmup,
            "replies_cut": end.cut,
            "longest_phrase_words": self.longest_phrase_words,
            "clips_played": self.clips_played,
            "clips_said_over_a_reply": self.clips_waited_out,
            "errors": self.errors,
        }


def run_soak(
    models,
    clips: list[Clip],
    *,
    duration_s: float,
    warmup_s: float | None = None,
    sample_every_s: float = 5.0,
    gap_s: float = 2.0,
    rest_s: float = 2.0,
    max_wait_s: float = 30.0,
    settings=None,
    trace_malloc: bool = False,
    per_turn: bool = False,
    top: int = 12,
    on_sample: Callable[[Sample], None] | None = None,
) -> SoakResult:
    """Talk to a new Conversation for ``duration_s`` with ``clips`` looping, sampling
    memory and threads every ``sample_every_s``.

    The warm-up's reference point is the first sample at rest at or after ``warmup_s``
    (default: ``warmup_seconds``). At the end no new clip is started; the engine gets up
    to a minute to finish the turn under way and its summaries, and the end's reference
    point is taken at rest before it stops."""
    from vistavox.pipelines.audio.speaker import RecordingSpeaker
    from vistavox.pipelines.conversation import Conversation, EngineSettings
    from vistavox.pipelines.events import EventBus

    warmup_s = warmup_seconds(duration_s) if warmup_s is None else warmup_s
    conversation: Conversation | None = None

    def ready() -> bool:
        return conversation is not None and conversation.is_idle()

    bus = EventBus()
    counter = TurnCounter()
    bus.subscribe(counter)
    mic = LoopingMicrophone(clips, gap_s=gap_s, rest_s=rest_s, ready=ready, max_wait_s=max_wait_s)
    speaker = RecordingSpeaker(source_rate=models.tts.sample_rate)
    conversation = Conversation(
        models, mic, speaker, settings=settings or EngineSettings(), bus=bus
    )

    gc.collect()
    threads_before = threading.active_count()
    rss_before = rss_mb()
    if trace_malloc:
        tracemalloc.start(1)
    samples: list[Sample] = []
    snapshots = tempfile.TemporaryDirectory(prefix="vistavox-soak-")
    t0 = time.monotonic()

    def sample() -> Sample:
        # RecordingSpeaker is the test rig's recorder, not the product: it keeps every
        # 20 ms block it "played" (about 95 kB/s, 340 MB an hour), so the run drops what it
        # recorded at every sample; the product's Speaker keeps nothing.
        speaker.recording.clear()
        threads = threading.enumerate()  # (once: a summariser may start or end meanwhile)
        s = Sample(
            t_s=round(time.monotonic() - t0, 2),
            rss_mb=round(rss_mb(), 2),
            threads=len(threads),
            summary_threads=sum(1 for t in threads if t.name.startswith(SUMMARY_THREAD)),
            os_threads=os_threads(),
            turns=len(conversation.turns),
            heard=counter.heard,
            answered=counter.answered,
            cut=counter.cut,
            idle=conversation.is_idle(),
            traced_mb=(
                round(tracemalloc.get_traced_memory()[0] / 2**20, 3)
                if tracemalloc.is_tracing()
                else None
            ),
        )
        samples.append(s)
        if on_sample is not None:
            on_sample(s)
        return s

    def reference(name: str) -> Reference:
        gc.collect()
        s = sample()
        point = Reference(s, trimmed_rss_mb(), live_arrays_mb())
        if tracemalloc.is_tracing():
            point.snapshot = Path(snapshots.name) / f"{name}.tracemalloc"
            tracemalloc.take_snapshot().dump(point.snapshot)
            gc.collect()
        return point

    warm: Reference | None = None
    rests: list[RestPoint] = []
    counted = 0  # replies (finished or cut) when the last rest point was taken
    idle_since: float | None = None
    conversation.start()
    try:
        next_at = t0
        while time.monotonic() - t0 < duration_s:
            now = time.monotonic()
            elapsed = now - t0
            at_rest = ready() and not summary_threads()
            idle_since = (idle_since or now) if at_rest else None
            replies = counter.answered + counter.cut
            if (
                per_turn
                and idle_since is not None
                and now - idle_since >= 0.4
                and replies > counted
            ):
                counted = replies
                gc.collect()
                rests.append(
                    RestPoint(round(elapsed, 2), counter.answered, rss_mb(), trimmed_rss_mb())
                )
            if warm is None and elapsed >= warmup_s and at_rest:
                warm = reference("warm")  # at rest: no utterance or reply audio in flight
            elif warm is None and elapsed >= warmup_s + 60:
                warm = reference("warm")  # never at rest for a minute: take it anyway
            elif now >= next_at:
                sample()
            if now >= next_at:
                next_at += sample_every_s
            time.sleep(max(0.0, min(next_at, t0 + duration_s, time.monotonic() + 0.2) - now))
        mic.end_input()
        deadline = time.monotonic() + 60
        while (not conversation.is_idle() or summary_threads()) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        end = reference("end")
        if warm is None:  # (a run shorter than its warm-up)
            warm = end
    finally:
        conversation.stop()
        if trace_malloc:
            tracemalloc.stop()
    speaker.recording.clear()
    time.sleep(0.5)
    top_growth, numpy_growth = [], None
    if warm.snapshot is not None and end.snapshot is not None and warm is not end:
        before = tracemalloc.Snapshot.load(warm.snapshot)
        after = tracemalloc.Snapshot.load(end.snapshot)
        top_growth = [str(stat) for stat in after.compare_to(before, "lineno")[:top]]
        only_numpy = [tracemalloc.DomainFilter(True, NUMPY_DOMAIN)]
        numpy_growth = (
            sum(
                stat.size_diff
                for stat in after.filter_traces(only_numpy).compare_to(
                    before.filter_traces(only_numpy), "filename"
                )
            )
            / 2**20
        )
        del before, after
    snapshots.cleanup()
    return SoakResult(
        duration_s=time.monotonic() - t0,
        warmup_s=warmup_s,
        samples=samples,
        warm=warm,
        end=end,
        threads_before_start=threads_before,
        threads_after_stop=threading.active_count(),
        rss_before_start_mb=rss_before,
        longest_phrase_words=counter.longest_phrase_words,
        longest_phrase=counter.longest_phrase,
        clips_played=mic.clips_played,
        clips_waited_out=mic.clips_waited_out,
        errors=list(counter.errors),
        rests=rests,
        top_growth=top_growth,
        numpy_growth_mb=numpy_growth,
    )


def samples_as_dicts(result: SoakResult) -> list[dict[str, object]]:
    return [asdict(s) for s in result.samples]
