"""The real desktop app driven for a long time, as a busy user would, for soak runs.

One ``run_cycle`` is a round of mixed activity in the window (tests/desktop_driver.py):
a new conversation; a typed everyday question; typed questions for the calculator and for
the python tool (a tool that asks first is allowed, Alt+A); a question said into the
virtual microphone (hands-free, tests/audio_rig.py); a sketch photo dropped and made into a
page; a typed page edit; a screenshot (Ctrl+Shift+S) asked about; a switch to an earlier
conversation in the sidebar with a question there; a conversation deleted and restored
(undo); the oldest conversations deleted so the list stays short. Each request waits for
its answer (a reply, a page) and the app at rest before the next.

While cycles run, a ``Sampler`` reads the app process's resident memory and thread count
from /proc every few seconds; at the end of each cycle, with the app at rest, the thread
count is read again as the lowest of a few readings (threads of a finished turn may still
be on their way out), with the longest GUI-thread blocks of the cycle. Errors shown in the
window (its notes that are not page or timer news, and EngineError events) are collected.

Used by tests/test_soak.py (a few cycles) and ``python -m tests.benchmarks soak`` (an hour).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tests.audio_rig import MIC, SPEAKER
from tests.desktop_rig import App, AppDidNotShow, app_env
from tests.voice_soak import warmup_seconds

RATE = 16_000
SOAK_LLM = "qwen2.5-coder-0.5b-instruct"  # the smallest model that calls tools (tests fetch it)
PERSONA = "coding-helper"  # the built-in persona with the python and calculator tools
KEEP_CONVERSATIONS = 5  # older ones are deleted each cycle: the list stays this long
SLOW_MS = 50.0  # a GUI block a user notices (the bound)
REPLY_TIMEOUT_S = 300.0  # a hang, not a slow reply: generous for a busy 2-core machine
SKETCH_TIMEOUT_S = 400.0  # the first one loads the OCR models in the sketch process
WARMUP_CYCLES = 2  # the first use of everything (OCR, sandbox, web view) is in these

EVERYDAY = [
    "What is the capital of France?",
    "Give me three tips for sleeping better.",
    "Explain what a rainbow is.",
    "What should I cook for dinner tonight?",
    "Why do leaves change colour in autumn?",
]
CALCULATOR = [
    "Use the calculator: a shop sells pens at 3 dollars each. What do 17 pens cost?",
    "Use the calculator to work out 4817 multiplied by 2963.",
    "Use the calculator: 16 eggs a day, 3 eaten, 4 baked. How many are left to sell?",
]
PYTHON = [
    "Use python to print the sum of the squares of the numbers from 1 to 20.",
    "Use python to print the first ten Fibonacci numbers.",
    "Use python to print how many days there are between 1 March 2024 and 1 June 2024.",
]
SPOKEN = [
    "What is the capital of France?",
    "How many legs does a spider have?",
    "What colour is the sky on a clear day?",
    "How far away is the moon?",
]
EDITS = [
    "Switch to dark mode",
    "Add a footer saying thank you",
    "Undo that",
    "Switch to light mode",
]
ABOUT_THE_SCREENSHOT = "What does this screenshot show?"
IN_AN_OLD_CONVERSATION = "Can you say that again in one sentence?"
INFORMATIONAL = ("Page ready:", "Page updated:", "⏰")  # notes that are news, not errors


def soak_env(display: str, home: Path, llm: str = SOAK_LLM, models_dir: Path | None = None):
    """The app's environment: the virtual devices, the persona with tools, ``llm`` from
    ``models_dir`` (where the test setup put it; the embedded models come with the app)."""
    env = app_env(
        display,
        home,
        {
            "audio-devices.json": {"input": MIC, "output": SPEAKER},
            "settings.json": {"persona": PERSONA, "llm_model": llm, "welcomed": True},
        },
    )
    env["VISTAVOX_LLM"] = llm
    if models_dir is not None:
        env["VISTAVOX_MODELS_DIR"] = str(models_dir)
    return env


def spoken_questions(texts: list[str] = SPOKEN) -> list[np.ndarray]:
    """The questions said by the app's own voice, 16 kHz."""
    from vistavox.pipelines.audio.resample import resample
    from vistavox.pipelines.speech.tts import Synthesizer

    voice = Synthesizer()
    return [resample(voice.speak(t), voice.sample_rate, RATE).astype(np.float32) for t in texts]


@dataclass(frozen=True)
class Memory:
    """What /proc/PID/status says about a process, MB and threads."""

    rss_mb: float  # VmRSS: all resident memory
    anon_mb: float  # RssAnon: the heap and other private memory (where a leak shows)
    file_mb: float  # RssFile: mapped files (the models' weights) that happen to be resident
    threads: int

    @classmethod
    def of(cls, pid: int) -> Memory:
        fields = {}
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else ""
        mb = lambda key: round(int(fields[key]) / 1024, 1)  # noqa: E731 - kB → MB
        return cls(mb("VmRSS"), mb("RssAnon"), mb("RssFile"), int(fields["Threads"]))


def child_processes(pid: int) -> int:
    """Processes the app started that are still running (direct children)."""
    count = 0
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            count += len(task.read_text().split())
        except OSError:  # the thread ended meanwhile
            continue
    return count


@dataclass
class Sample:
    t_s: float  # seconds since the app was started
    rss_mb: float
    anon_mb: float
    file_mb: float
    threads: int  # OS threads of the app process
    children: int  # processes it started, still running
    answered: int  # requests answered so far
    cycles: int  # cycles finished so far


@dataclass
class CycleEnd:
    """The app at rest at the end of a cycle."""

    cycle: int
    t_s: float
    rss_mb: float
    anon_mb: float
    file_mb: float
    threads: int  # the lowest of a few readings (see ``settled_threads``)
    children: int
    longest_block_ms: float
    slow_blocks_ms: list[float]  # GUI blocks over SLOW_MS during the cycle
    seconds: float
    slow_blocks_by_step: dict[str, list[float]] = field(default_factory=dict)
    thread_names: list[str] = field(default_factory=list)  # Python's threads, by name
    # each slow block's GUI-thread time: worked on a CPU, queued for one (see StallMonitor)
    slow_block_causes: list[dict[str, float | str]] = field(default_factory=list)


@dataclass
class Request:
    cycle: int
    what: str  # "typed", "calculator", "python", "spoken", "sketch", "edit", ...
    text: str
    answered: bool
    reply: str = ""
    seconds: float = 0.0
    problem: str = ""


@dataclass
class SoakLog:
    """Everything a soak run saw; ``samples`` grows from the sampler's thread."""

    samples: list[Sample] = field(default_factory=list)
    cycles: list[CycleEnd] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # shown in the window
    tool_calls: dict[str, int] = field(default_factory=dict)  # tool → calls that ran
    intents: int = 0  # answered exactly, without the model
    confirmations: int = 0  # tools that asked first (allowed)

    @property
    def answered(self) -> int:
        return sum(r.answered for r in self.requests)

    @property
    def unanswered(self) -> list[Request]:
        return [r for r in self.requests if not r.answered]


class Sampler:
    """Reads the app process's memory, threads and children every ``every_s`` seconds."""

    def __init__(self, app: App, log: SoakLog, every_s: float = 5.0) -> None:
        self.app, self.log, self.every_s = app, log, every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)

    def start(self) -> Sampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        pid = self.app.proc.pid
        while not self._stop.is_set() and self.app.proc.poll() is None:
            try:
                memory = Memory.of(pid)
                sample = Sample(
                    t_s=round(time.monotonic() - self.app.started, 2),
                    rss_mb=memory.rss_mb,
                    anon_mb=memory.anon_mb,
                    file_mb=memory.file_mb,
                    threads=memory.threads,
                    children=child_processes(pid),
                    answered=self.log.answered,
                    cycles=len(self.log.cycles),
                )
            except (OSError, KeyError, ValueError):  # the process is ending
                break
            self.log.samples.append(sample)
            self._stop.wait(self.every_s)


class Soak:
    """Drives ``app`` (models ready) through cycles; ``rig`` is the PulseRig whose virtual
    microphone the app listens to, ``photos`` the sketch photos, ``speech`` the spoken
    questions (16 kHz)."""

    def __init__(self, app: App, rig, photos: list[Path], speech: list[np.ndarray]) -> None:
        if not photos or not speech:
            raise ValueError("a soak needs sketch photos and spoken questions")
        self.app, self.rig = app, rig
        self.photos, self.speech = photos, speech
        self.log = SoakLog()
        self.cycle = 0
        self._scanned = 0  # items of app.seen already looked at for errors and tools
        self._blocks: dict[str, list[float]] = {}  # this cycle's GUI blocks, by step
        self._causes: list[dict[str, float]] = []  # where each block's time went
        self._longest = 0.0  # this cycle's longest GUI block, ms

    # --- the cycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Hands-free on, as a user who talks to it would leave it."""
        seen = len(self.app.seen)
        self.app.do("hands_free_on")
        self.app.wait(lambda i: i.get("type") == "ListeningStarted", 60, "listening", seen)
        time.sleep(1.0)

    def run_cycle(self) -> CycleEnd:
        n = self.cycle
        started = time.monotonic()
        self._blocks, self._causes, self._longest = {}, [], 0.0
        self._step("new conversation", self._keys, "Ctrl+N")
        self._step("typed", self._typed, "typed", EVERYDAY[n % len(EVERYDAY)])
        self._step("calculator", self._typed, "calculator", CALCULATOR[n % len(CALCULATOR)])
        self._step("python", self._typed, "python", PYTHON[n % len(PYTHON)])
        self._step("spoken", self._spoken, n % len(self.speech))
        self._step("sketch", self._sketch, self.photos[n % len(self.photos)])
        self._step("edit", self._typed, "edit", EDITS[n % len(EDITS)], page_edit=True)
        self._step("screenshot", self._screenshot)
        self._step("switch", self._switch_conversation)
        self._step("delete and undo", self._delete_and_undo)
        self._step("prune", self._prune)
        self._scan()
        if os.environ.get("VISTAVOX_SOAK_TRIM"):
            # An experiment: what is left at rest once the allocator has returned what it
            # holds free (run after the step's blocks were counted; its own cost printed).
            took = time.monotonic()
            self.app.request("collect_garbage", "collected")
            print(f"  (freed memory returned in {1000 * (time.monotonic() - took):.0f} ms)")
        if os.environ.get("VISTAVOX_SOAK_TRACEMALLOC"):  # an experiment: Python's growth
            for line in self.app.request("python_memory", "python_memory", timeout=300)["growth"]:
                print(f"    {line}")
        threads = self.settled_threads()
        memory = Memory.of(self.app.proc.pid)
        end = CycleEnd(
            cycle=n,
            t_s=round(time.monotonic() - self.app.started, 2),
            rss_mb=memory.rss_mb,
            anon_mb=memory.anon_mb,
            file_mb=memory.file_mb,
            threads=threads,
            children=child_processes(self.app.proc.pid),
            longest_block_ms=round(self._longest, 1),
            slow_blocks_ms=[b for blocks in self._blocks.values() for b in blocks],
            seconds=round(time.monotonic() - started, 1),
            slow_blocks_by_step=self._blocks,
            thread_names=self.app.request("threads", "threads")["names"],
            slow_block_causes=self._causes,
        )
        self.log.cycles.append(end)
        self.cycle += 1
        return end

    def _step(self, name: str, step, *args, **kwargs) -> None:
        """Run one step, with the GUI blocks during it counted under its name."""
        self.app.request("stall_reset", "ack")
        step(*args, **kwargs)
        stall = self.app.request("stall_report", "stall")
        self._longest = max(self._longest, stall["longest_ms"])
        if stall["slow_ms"]:
            self._blocks[name] = stall["slow_ms"]
            self._causes += [
                {"block_ms": ms, **cause}
                for ms, cause in zip(stall["slow_ms"], stall.get("causes", []), strict=False)
            ]

    def settled_threads(self, readings: int = 6, apart_s: float = 0.5) -> int:
        """The app's thread count at rest: the lowest of a few readings, since the worker
        of a turn just answered may still be ending."""
        counts = []
        for _ in range(readings):
            counts.append(Memory.of(self.app.proc.pid).threads)
            time.sleep(apart_s)
        return min(counts)

    # --- steps -------------------------------------------------------------------------
    def _keys(self, keys: str) -> None:
        self.app.request("keys", "ack", timeout=30, keys=keys)

    def _typed(self, what: str, text: str, page_edit: bool = False) -> None:
        """Type ``text`` and Enter; answered when its reply comes (and, for a page edit,
        the page is updated)."""
        started = time.monotonic()
        seen = len(self.app.seen)
        self.app.do("type", text=text)
        try:
            turn = self.app.wait(lambda i: i.get("type") == "UserTurn", 60, "the turn", seen)
            reply = self._reply(lambda i: i.get("turn_id") == turn["turn_id"], seen)
            if page_edit and reply["text"].startswith("Done"):  # (else it says why not)
                self.app.wait(lambda i: i.get("type") == "PageUpdated", 60, "the edit", seen)
        except AppDidNotShow as exc:
            self._record(what, text, False, started, problem=str(exc))
            return
        finally:
            self._at_rest(seen)
        problem = "" if reply["text"].strip() and not reply["interrupted"] else "no reply"
        self._record(what, text, not problem, started, reply["text"], problem)

    def _reply(self, match, seen: int) -> dict:
        """The ReplyFinished that ``match`` accepts, allowing any tool that asks first."""
        while True:
            item = self.app.wait(
                lambda i: (
                    (i.get("type") == "ReplyFinished" and match(i))
                    or i.get("type") == "ConfirmationRequested"
                ),
                REPLY_TIMEOUT_S,
                "a reply",
                seen,
            )
            if item.get("type") == "ReplyFinished":
                return item
            self.log.confirmations += 1
            seen = self.app.seen.index(item) + 1
            self._keys("Alt+A")

    def _spoken(self, index: int) -> None:
        text = SPOKEN[index % len(SPOKEN)]
        started = time.monotonic()
        seen = len(self.app.seen)
        self.rig.player.say("question", self.speech[index])
        try:
            heard = self.app.wait(
                lambda i: i.get("type") == "FinalTranscript", 90, "the transcript", seen
            )
            after = self.app.seen.index(heard)
            reply = self._reply(lambda i: True, after)
        except AppDidNotShow as exc:
            self._record("spoken", text, False, started, problem=str(exc))
            self._at_rest(seen)
            return
        self._at_rest(seen)
        ok = bool(reply["text"].strip()) and not reply["interrupted"]
        self._record("spoken", text, ok, started, reply["text"], "" if ok else "no reply")

    def _sketch(self, photo: Path) -> None:
        """Drop the photo and press the sketch button: answered when the page is made and
        shown in the preview (and any proof-reading by the model is over)."""
        started = time.monotonic()
        seen = len(self.app.seen)
        self.app.do("drop", path=str(photo))
        self.app.do("click_sketch")
        try:
            page = self.app.wait(
                lambda i: i.get("type") == "PageUpdated", SKETCH_TIMEOUT_S, "the page", seen
            )
            self.app.wait(lambda i: i.get("kind") == "preview_loaded", 120, "the preview", seen)
        except AppDidNotShow as exc:
            self._record("sketch", photo.name, False, started, problem=str(exc))
            self._at_rest(seen)
            return
        self._at_rest(seen)
        self._record("sketch", photo.name, True, started, page.get("note", ""))

    def _screenshot(self) -> None:
        """Ctrl+Shift+S (the window steps aside), then a question about the shot."""
        started = time.monotonic()
        self._keys("Ctrl+Shift+S")
        try:
            self.app.poll(
                "attachments",
                "attachments",
                lambda s: len(s["images"]) >= 1,
                "the screenshot",
                timeout=60,
            )
        except AppDidNotShow as exc:
            self._record("screenshot", "Ctrl+Shift+S", False, started, problem=str(exc))
            return
        self._record("screenshot", "Ctrl+Shift+S", True, started)
        self._typed("screenshot question", ABOUT_THE_SCREENSHOT)

    def _conversations(self) -> list[list]:
        """The sidebar's rows, newest first: [id, title]."""
        return self.app.request("sidebar", "sidebar")["items"]

    def _switch_conversation(self) -> None:
        """Open the previous conversation from the list and ask something there."""
        rows = self._conversations()
        if len(rows) < 2:
            return
        started = time.monotonic()
        seen = len(self.app.seen)
        self.app.do("open_conversation", id=rows[1][0])
        try:
            self.app.wait(
                lambda i: (
                    i.get("type") == "ConversationOpened" and i.get("conversation_id") == rows[1][0]
                ),
                30,
                "the conversation opened",
                seen,
            )
        except AppDidNotShow as exc:
            self._record("switch", rows[1][1], False, started, problem=str(exc))
            return
        self._record("switch", rows[1][1], True, started)
        self._typed("in an old conversation", IN_AN_OLD_CONVERSATION)

    def _delete_and_undo(self) -> None:
        rows = self._conversations()
        if not rows:
            return
        started = time.monotonic()
        target = rows[-1]
        self.app.request("delete_conversation", "ack", id=target[0])
        gone = target[0] not in [r[0] for r in self._conversations()]
        self.app.request("undo_delete", "ack")
        back = target[0] in [r[0] for r in self._conversations()]
        problem = "" if gone and back else f"deleted: {gone}, restored: {back}"
        self._record("delete and undo", target[1], gone and back, started, problem=problem)

    def _prune(self) -> None:
        """Delete the oldest conversations for good: the list stays KEEP_CONVERSATIONS long."""
        for conversation_id, _ in self._conversations()[KEEP_CONVERSATIONS:]:
            self.app.request("delete_conversation", "ack", id=conversation_id)

    # --- bookkeeping -------------------------------------------------------------------
    def _at_rest(self, seen: int, quiet_s: float = 1.5, timeout: float = REPLY_TIMEOUT_S) -> None:
        """Wait until the app is back to listening or idle, with no new turn for ``quiet_s``
        (a spoken question heard as two turns gets both answered before the next step)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            last = self._last_state(seen)
            if last in ("listening", "idle"):
                count = len(self.app.seen)
                try:
                    self.app.wait(
                        lambda i: (
                            i.get("type") in ("StateChanged", "FinalTranscript")
                            and i.get("state") not in ("listening", "idle")
                        ),
                        quiet_s,
                        "activity",
                        count,
                    )
                except AppDidNotShow:
                    return  # quiet
            else:
                count = len(self.app.seen)
                try:
                    self.app.wait(
                        lambda i: (
                            i.get("type") == "StateChanged"
                            and i.get("state") in ("listening", "idle")
                        ),
                        min(30.0, max(0.1, deadline - time.monotonic())),
                        "rest",
                        count,
                    )
                except AppDidNotShow:
                    continue

    def _last_state(self, seen: int) -> str | None:
        for item in reversed(self.app.seen[seen:]):
            if item.get("type") == "StateChanged":
                return item.get("state")
        return "listening" if not self.app.seen[seen:] else None

    def _record(self, what, text, answered, started, reply="", problem="") -> None:
        self.log.requests.append(
            Request(
                self.cycle,
                what,
                text,
                answered,
                reply[:300],
                round(time.monotonic() - started, 2),
                problem,
            )
        )

    def _scan(self) -> None:
        """Errors shown and tools run, from the events seen since the last scan."""
        for item in self.app.seen[self._scanned :]:
            kind = item.get("type")
            if item.get("kind") == "notice" and not item["text"].startswith(INFORMATIONAL):
                self.log.errors.append(item["text"])
            elif kind == "EngineError" and item.get("code") in ("models-missing", "models-failed"):
                self.log.errors.append(f"{item['code']}: {item['message']}")  # (not a note)
            elif kind == "ToolCalled" and item.get("decision") in ("allowed", "confirmed"):
                self.log.tool_calls[item["tool"]] = self.log.tool_calls.get(item["tool"], 0) + 1
            elif kind == "IntentAnswered":
                self.log.intents += 1
        self._scanned = len(self.app.seen)

    def quit(self, timeout: float = 90.0) -> int | None:
        """Ctrl+Q as a user quits; the exit code (None: it did not end in time)."""
        self.app.do("quit")
        try:
            return self.app.proc.wait(timeout)
        except Exception:  # noqa: BLE001 - subprocess.TimeoutExpired: reported as None
            return None


def sketch_photos(eval_dir: Path) -> list[Path]:
    samples = eval_dir / "sketches" / "samples"
    return sorted(samples.glob("*.jpg")) if samples.is_dir() else []


def warmup_end_s(log: SoakLog, duration_s: float) -> float:
    """The warm-up: the first WARMUP_CYCLES cycles, and at least the first 3 minutes (or
    20 % of a shorter run)."""
    floor = warmup_seconds(duration_s)
    for end in log.cycles[WARMUP_CYCLES - 1 :]:
        if end.t_s >= floor:
            return end.t_s
    return log.cycles[-1].t_s if log.cycles else floor


def figures(log: SoakLog, warmup_s: float) -> dict[str, object]:
    """The run in numbers: memory and threads at rest at the end of the warm-up and at the
    end, the memory trend after the warm-up, GUI blocks, requests, errors."""
    after = [s for s in log.samples if s.t_s >= warmup_s]
    rested = [c for c in log.cycles if c.t_s >= warmup_s]
    warm = rested[0] if rested else (log.cycles[-1] if log.cycles else None)
    end = log.cycles[-1] if log.cycles else None

    def trend(key: str) -> float | None:
        """The least-squares slope of ``key`` after the warm-up, MB an hour."""
        if len(after) < 3 or after[-1].t_s - after[0].t_s < 60:
            return None
        t = np.array([s.t_s for s in after]) / 3600
        return round(float(np.polyfit(t, [getattr(s, key) for s in after], 1)[0]), 1)

    blocks = [b for c in log.cycles for b in c.slow_blocks_ms]
    return {
        "cycles": len(log.cycles),
        "warmup_s": round(warmup_s, 1),
        "rss_warm_mb": warm and warm.rss_mb,
        "rss_end_mb": end and end.rss_mb,
        "rss_growth_mb": warm and end and round(end.rss_mb - warm.rss_mb, 1),
        "rss_max_mb": max((s.rss_mb for s in log.samples), default=None),
        "rss_max_after_warmup_mb": max((s.rss_mb for s in after), default=None),
        "rss_trend_mb_per_hour": trend("rss_mb"),
        "anon_warm_mb": warm and warm.anon_mb,
        "anon_end_mb": end and end.anon_mb,
        "anon_growth_mb": warm and end and round(end.anon_mb - warm.anon_mb, 1),
        "anon_trend_mb_per_hour": trend("anon_mb"),
        "file_warm_mb": warm and warm.file_mb,
        "file_end_mb": end and end.file_mb,
        "threads_at_rest_warm": warm and warm.threads,
        "threads_at_rest_end": end and end.threads,
        "threads_at_rest_after_warmup": sorted({c.threads for c in rested}),
        "threads_min_after_warmup": min((s.threads for s in after), default=None),
        "threads_max_after_warmup": max((s.threads for s in after), default=None),
        "children_max_after_warmup": max((s.children for s in after), default=None),
        "gui_block_max_ms": max((c.longest_block_ms for c in log.cycles), default=None),
        "gui_blocks_over_50ms": len(blocks),
        "gui_blocks_over_50ms_after_warmup": sum(len(c.slow_blocks_ms) for c in rested),
        "gui_blocks_over_50ms_by_step": _by_step(log.cycles),
        "gui_blocks_over_50ms_by_step_after_warmup": _by_step(rested),
        "gui_blocks_after_warmup_by_cause": _by_cause(rested),
        "gui_blocks_after_warmup_by_event": _by_event(rested),
        "requests": len(log.requests),
        "requests_answered": log.answered,
        "turns_answered": sum(
            r.answered for r in log.requests if r.what not in ("switch", "delete and undo")
        ),
        "unanswered": [asdict(r) for r in log.unanswered],
        "errors_shown": list(log.errors),
        "tool_calls": dict(log.tool_calls),
        "intents": log.intents,
        "confirmations": log.confirmations,
        "cycle_seconds_median": (
            float(np.median([c.seconds for c in log.cycles])) if log.cycles else None
        ),
    }


def _by_step(cycles: list[CycleEnd]) -> dict[str, dict[str, float]]:
    """For each step: how many GUI blocks over SLOW_MS, and the longest."""
    steps: dict[str, list[float]] = {}
    for cycle in cycles:
        for step, blocks in cycle.slow_blocks_by_step.items():
            steps.setdefault(step, []).extend(blocks)
    return {step: {"count": len(b), "max_ms": max(b)} for step, b in steps.items()}


def _by_cause(cycles: list[CycleEnd]) -> dict[str, int]:
    """Slow GUI blocks by where most of their time went: the GUI thread's own work, waiting
    for a CPU held by other threads or programs, or asleep (the GIL, a lock, I/O)."""
    counts = {"gui_work": 0, "waiting_for_cpu": 0, "asleep": 0}
    for cycle in cycles:
        for cause in cycle.slow_block_causes:
            half = cause["block_ms"] / 2
            if cause["worked_ms"] >= half:
                counts["gui_work"] += 1
            elif cause["queued_ms"] >= half:
                counts["waiting_for_cpu"] += 1
            else:
                counts["asleep"] += 1
    return counts


def _by_event(cycles: list[CycleEnd]) -> dict[str, int]:
    """Slow GUI blocks by their slowest event, where the app timed its events
    (VISTAVOX_STALL_EVENTS; see tests/desktop_driver.py:EventTimes)."""
    events: Counter[str] = Counter()
    for cycle in cycles:
        events.update(str(c["event"]) for c in cycle.slow_block_causes if "event" in c)
    return dict(events.most_common())


def results(log: SoakLog) -> dict[str, list]:
    return {
        "samples": [asdict(s) for s in log.samples],
        "cycles": [asdict(c) for c in log.cycles],
        "requests": [asdict(r) for r in log.requests],
    }


def models_dir() -> Path:
    """Where the test setup downloaded models (tests/conftest.py)."""
    from tests.conftest import USER_MODELS_DIR

    return Path(os.environ.get("VISTAVOX_MODELS_DIR") or USER_MODELS_DIR)
