"""The assistant as the desktop sees it: one object that loads the models off the caller's
thread, answers typed turns (with images and documents), runs the spoken conversation on
real audio devices, turns sketches into pages, and reports everything as typed events.

Nothing here imports Qt: the desktop subscribes to the event bus and calls these methods.
Every long call runs on a worker thread and returns at once.
"""

from __future__ import annotations

import itertools
import json
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import platformdirs

from ..models.resolve import ModelError
from .app_settings import AppSettings
from .errors import VistavoxError
from .events import (
    ConfirmationClosed,
    ConfirmationRequested,
    ContextUpdated,
    ConversationOpened,
    EngineError,
    EngineState,
    EventBus,
    IntentAnswered,
    ModelsLoading,
    ModelsReady,
    PageUpdated,
    ReplyFinished,
    ReplyToken,
    StateChanged,
    TimerFinished,
    TimerInfo,
    TimersChanged,
    ToolCalled,
    UserTurn,
)
from .intents.handler import add_everyday_intents
from .intents.timers import TimerBook
from .interpreter import settle_what_is_loaded
from .kernel.open_conversation import OpenConversation
from .kernel.store import StoreError
from .pages.editor import PageEditor
from .tools.workspace import page_path

_log = logging.getLogger(__name__)
_LOADING_GRACE_S = 60.0  # how long closing waits for loading to finish
_VOICE_GRACE_S = 15.0  # … for the audio devices to finish opening or closing
_SKETCH_GRACE_S = 2.0  # … for the sketch process to end before it is killed
CONFIRM_TIMEOUT_S = 300.0
TEXT_TURN_IDS = 1_000_000  # typed turns are numbered apart from spoken ones


def workspace_dir() -> Path:
    """Where the assistant writes pages, plots and other files for the user."""
    return Path(platformdirs.user_data_dir("vistavox")) / "workspace"


class Assistant:
    """Models, kernel, tools and the voice loop behind one small API."""

    def __init__(
        self,
        bus: EventBus,
        settings: AppSettings | None = None,
        *,
        db_path: Path | None = None,
        workspace: Path | None = None,
    ):
        self.bus = bus
        self.settings = settings or AppSettings.load()
        self.db_path = db_path
        self.workspace = workspace or workspace_dir()
        self.models = None
        self.store = None
        self.kernel = None  # typed turns: the persona with its tools
        self.voice_kernel = None  # spoken turns: same store and persona, short replies
        self.timers = None  # the pending timers (TimerBook), once loaded
        # The open conversation, shared with the voice loop (one owner for both).
        self.open = OpenConversation()
        self._shown_conversation: int | None = None  # the last one announced to the window
        self._voice = None
        # Opening and closing the audio devices, one request after another, off the caller's
        # thread (the window's): devices, the echo canceller and the loop's threads take
        # longer to start than a window may freeze.
        self._voice_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vistavox-voice")
        self._voice_request: Future | None = None  # the last one asked of the voice worker
        self._ptt_lock = threading.Lock()
        self._ptt_pressed = False
        self._cancel = threading.Event()
        self._busy = threading.Lock()
        self._turn_ids = itertools.count(TEXT_TURN_IDS)
        self._request_ids = itertools.count(1)
        self._pending: dict[int, list] = {}
        self._sketcher: ProcessPoolExecutor | None = None
        self._sketcher_lock = threading.Lock()
        self._closing = False  # set by shutdown: no new sketch process after it
        self._ready = threading.Event()
        self._loader: threading.Thread | None = None
        # The page on show (from a sketch or the write_page tool); turns that ask for a
        # change to it in plain words are answered by the page editor.
        self.pages = PageEditor(
            on_change=lambda path, note: bus.publish(PageUpdated(path=str(path), note=note))
        )
        bus.subscribe(self._follow_voice)

    @property
    def conversation_id(self) -> int | None:
        return self.open.id

    @conversation_id.setter
    def conversation_id(self, value: int | None) -> None:
        self.open.open(value)
        self._shown_conversation = value

    # --- loading --------------------------------------------------------------------------
    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def load_in_background(self) -> threading.Thread:
        """Load everything on a worker thread; ModelsReady or an EngineError tells the end."""
        worker = threading.Thread(target=self._load_reporting, name="vistavox-load", daemon=True)
        self._loader = worker
        worker.start()
        return worker

    def _load_reporting(self) -> None:
        try:
            self.load()
        except StoreError as exc:  # (not a model problem: said as what it is)
            self.bus.publish(
                EngineError(code="database-unusable", message=str(exc), recoverable=False)
            )
        except (ModelError, VistavoxError) as exc:
            self.bus.publish(
                EngineError(code="models-missing", message=str(exc), recoverable=False)
            )
        except Exception as exc:  # noqa: BLE001 - shown in the window, never a silent failure
            _log.exception("loading failed")
            self.bus.publish(
                EngineError(code="models-failed", message=f"{type(exc).__name__}: {exc}")
            )

    def load(self) -> None:
        """Load the speech recogniser, language model, voice, database and tools (blocking)."""
        from ..models.resolve import resolve
        from .kernel.kernel import Kernel
        from .kernel.loading import load_llm
        from .kernel.store import Store
        from .speech.stt import Transcriber
        from .speech.tts import Synthesizer
        from .voice_models import VoiceModels

        s = self.settings
        self.bus.publish(ModelsLoading(stage="speech recognition", fraction=0.05))
        stt = Transcriber(resolve(s.stt_model) if s.stt_model else None)
        self.bus.publish(ModelsLoading(stage="language model", fraction=0.35))
        llm = load_llm(s.llm_model, s.vision_model)
        self.bus.publish(ModelsLoading(stage="voice", fraction=0.7))
        tts = Synthesizer(resolve(s.tts_model) if s.tts_model else None)
        tts.set_rate(s.speech_rate)
        self.bus.publish(ModelsLoading(stage="conversations and tools", fraction=0.85))
        self.models = VoiceModels(stt=stt, llm=llm, tts=tts)
        self.store, kept = Store.open_or_set_aside(self.db_path)
        if kept is not None:  # (told once the window can show it; the app starts regardless)
            self.bus.publish(
                EngineError(
                    code="database-set-aside",
                    message=(
                        "The conversations could not be read: the database is damaged. It was "
                        f"kept as {kept} (nothing was deleted) and a new one was started."
                    ),
                )
            )
        persona = self._persona()
        self.kernel = Kernel(llm, self.store, persona, tools=self._tools(persona.name))
        self.timers = TimerBook(self.store, on_fire=self._timer_fired, on_change=self._timers_now)
        # Page edits first (while a page is open), then the everyday intents.
        self.kernel.direct_handlers.append(self.pages.handle)
        add_everyday_intents(self.kernel, timers=self.timers, on_answer=self._intent_answered)
        from .conversation import voice_kernel
        from .tools.defaults import web_registry

        self.voice_kernel = voice_kernel(
            llm,
            self.store,
            persona,
            handlers=[self.pages.handle],
            timers=self.timers,
            on_answer=self._intent_answered,
            page_reader=web_registry(persona.name),
        )
        self.bus.publish(ModelsLoading(stage="warming up", fraction=0.95))
        self.voice_kernel.warm_up(None)
        self._ready.set()
        self.timers.start()  # timers that ended while the app was closed are told now
        self._timers_now(self.timers.pending())
        self.bus.publish(
            ModelsReady(
                summary=f"{stt.model_info.spec.title} · {llm.model_info.spec.title} · "
                f"{tts.model_info.spec.title}"
            )
        )
        self._idle()
        # (on the devices' thread, before any request to open them)
        self._ask_voice_worker(self._warm_up_voice)
        settle_what_is_loaded()

    def switch_models(self, changed: set[str]) -> threading.Thread:
        """Put the models now chosen in the settings in place of the running ones, on a
        worker thread, without a restart. ``changed``: the settings that changed
        (``stt_model``, ``llm_model``, ``vision_model``, ``tts_model``). ModelsLoading
        events report the load, then ModelsReady; if a model cannot be loaded an EngineError
        says why and the models in use stay in use. A turn under way finishes first, and a
        voice loop that was listening listens again on the new models."""
        self._require_ready()
        worker = threading.Thread(
            target=self._switch_reporting, args=(set(changed),), name="vistavox-switch"
        )
        worker.daemon = True
        self._loader = worker  # shutting down waits for it, as for the first load
        worker.start()
        return worker

    def _switch_reporting(self, changed: set[str]) -> None:
        try:
            self._switch(changed)
        except (ModelError, VistavoxError) as exc:
            self.bus.publish(EngineError(code="model-switch", message=str(exc)))
            self._idle()
        except Exception as exc:  # noqa: BLE001 - shown in the window, never silent
            _log.exception("switching models failed")
            self.bus.publish(
                EngineError(code="model-switch", message=f"{type(exc).__name__}: {exc}")
            )
            self._idle()

    def _switch(self, changed: set[str]) -> None:
        from ..models.resolve import resolve
        from .kernel.loading import load_llm
        from .speech.stt import Transcriber
        from .speech.tts import Synthesizer
        from .voice_models import VoiceModels

        s, old = self.settings, self.models
        stt, llm, tts = old.stt, old.llm, old.tts
        # The new models load beside the old ones, so a failure leaves the app as it was.
        if "stt_model" in changed:
            self.bus.publish(ModelsLoading(stage="speech recognition", fraction=0.1))
            stt = Transcriber(resolve(s.stt_model) if s.stt_model else None)
        if changed & {"llm_model", "vision_model"}:
            self.bus.publish(ModelsLoading(stage="language model", fraction=0.4))
            llm = load_llm(s.llm_model, s.vision_model)
        if "tts_model" in changed:
            self.bus.publish(ModelsLoading(stage="voice", fraction=0.7))
            tts = Synthesizer(resolve(s.tts_model) if s.tts_model else None)
            tts.set_rate(s.speech_rate)
        with self._busy:  # a typed turn under way ends on the old models
            listening = self._voice is not None
            hands_free = self.settings.hands_free
            self.stop_voice()
            self.models = VoiceModels(stt=stt, llm=llm, tts=tts)
            for kernel in (self.kernel, self.voice_kernel):
                kernel.llm = llm
            self.voice_kernel.reply_reserve = llm.settings.max_reply_tokens
            self.bus.publish(ModelsLoading(stage="warming up", fraction=0.95))
            self.voice_kernel.warm_up(None)
        if listening:
            self.open_voice(hands_free=hands_free)
        del old  # (the models replaced: nothing else holds them now)
        settle_what_is_loaded(replaced=True)
        self.bus.publish(
            ModelsReady(
                summary=f"{stt.model_info.spec.title} · {llm.model_info.spec.title} · "
                f"{tts.model_info.spec.title}"
            )
        )
        self._idle()

    def _warm_up_voice(self) -> None:
        """Load WebRTC's echo canceller once, without opening any device: most of the time
        the first start of the voice loop took (0.77 of 0.88 s measured), in which the first
        push-to-talk press heard nothing."""
        if not self.settings.echo_cancellation:
            return
        try:
            from .audio.echo import EchoCanceller

            EchoCanceller()
        except Exception:  # noqa: BLE001 - the voice loop reports it when it starts
            _log.exception("warming up the echo canceller failed")

    def _persona(self):
        """The persona chosen in the settings, with the user's custom instructions."""
        from .kernel.personas import load_persona

        s = self.settings
        persona = load_persona(s.persona)
        if s.custom_instructions.strip():
            prompt = persona.system_prompt + "\n\n" + s.custom_instructions.strip()
            persona = persona.model_copy(update={"system_prompt": prompt})
        return persona

    def apply_persona(self) -> None:
        """Answer with the persona and custom instructions now in the settings from the next
        turn on (the documents added for search stay)."""
        self._require_ready()
        persona = self._persona()
        documents = getattr(self.kernel.tools, "documents", None)
        self.kernel.tools = self._tools(persona.name, documents)
        self.kernel.persona = persona
        self.voice_kernel.persona = persona
        from .tools.defaults import web_registry

        self.voice_kernel.page_reader = web_registry(persona.name)

    def _tools(self, persona_name: str, documents=None):
        from .tools.defaults import default_registry

        self.workspace.mkdir(parents=True, exist_ok=True)
        return default_registry(
            self.store,
            confirm=self._ask_user,
            workspace=self.workspace,
            persona_name=persona_name,
            documents=documents,
        )

    # --- intents and timers ---------------------------------------------------------------
    def _intent_answered(self, answer) -> None:
        self.bus.publish(
            IntentAnswered(
                intent=answer.intent,
                reading=answer.reading,
                reply=answer.reply,
                seconds=answer.seconds,
            )
        )

    def _timers_now(self, pending) -> None:
        self.bus.publish(
            TimersChanged(
                timers=tuple(TimerInfo(t.id, t.label, t.seconds, t.ends_at) for t in pending)
            )
        )

    def _timer_fired(self, fired) -> None:
        """A timer ended: the window shows it, and the assistant says it aloud (through the
        voice loop when it is open, else straight to the speaker)."""
        from .intents.timers import announcement

        text = announcement(fired)
        self.bus.publish(
            TimerFinished(
                timer_id=fired.timer.id,
                label=fired.timer.label,
                seconds=fired.timer.seconds,
                text=text,
            )
        )
        voice = self._voice
        try:
            if voice is not None:
                voice.announce(text)
            elif self.models is not None:
                from .audio.device_test import chime, play
                from .audio.devices import DeviceSettings

                tts = self.models.tts
                speech = tts.speak(text)
                lead = chime(tts.sample_rate)
                play(DeviceSettings.load().output, _join_audio(lead, speech), tts.sample_rate)
        except Exception as exc:  # noqa: BLE001 - shown; the timer still ended
            _log.warning("could not say that a timer ended: %s", exc)
            self.bus.publish(
                EngineError(code="timer-not-spoken", message=f"{text} (not spoken: {exc})")
            )

    def cancel_timer(self, timer_id: int) -> None:
        """Cancel a pending timer (the window's cancel button)."""
        self._require_ready()
        chosen = [t for t in self.timers.pending() if t.id == timer_id]
        self.timers.cancel(chosen)

    def _require_ready(self) -> None:
        if not self._ready.is_set():
            raise VistavoxError("the models are still loading")

    # --- typed turns ----------------------------------------------------------------------
    def ask(self, text: str, images: Sequence[Path] = (), files: Sequence[Path] = ()) -> int:
        """Answer a typed question (with attachments) on a worker thread; returns its turn id.
        The reply streams as ReplyToken events and ends with ReplyFinished."""
        self._require_ready()
        turn_id = next(self._turn_ids)
        self.bus.publish(
            UserTurn(
                turn_id=turn_id,
                text=text,
                images=tuple(str(p) for p in images),
                files=tuple(str(p) for p in files),
            )
        )
        worker = threading.Thread(
            target=self._answer, args=(turn_id, text, list(images), list(files)), daemon=True
        )
        worker.start()
        return turn_id

    def _answer(self, turn_id: int, text: str, images: list[Path], files: list[Path]) -> None:
        with self._busy:
            self._cancel.clear()
            self.bus.publish(StateChanged(state=EngineState.THINKING))
            # All cores for the answer, unless the voice loop is listening meanwhile
            # (llama.cpp's threads then compete with it, and generation collapses).
            self.kernel.threads = None if self._voice is not None else os.cpu_count()
            audit_start = len(self.kernel.tools.audit) if self.kernel.tools else 0
            try:
                reply = self.kernel.ask(
                    text,
                    conversation_id=self.conversation_id,
                    files=files,
                    images=images,
                    on_token=lambda piece: self.bus.publish(
                        ReplyToken(turn_id=turn_id, text=piece)
                    ),
                    cancel=self._cancel,
                )
            except Exception as exc:  # noqa: BLE001 - the window shows it; nothing is lost
                _log.exception("typed turn failed")
                self.bus.publish(EngineError(code="turn-failed", message=str(exc)))
                self.bus.publish(ReplyFinished(turn_id=turn_id, text="", interrupted=True))
                self._idle()
                return
            if self.kernel.tools:
                for entry in self.kernel.tools.audit[audit_start:]:
                    self.bus.publish(
                        ToolCalled(
                            tool=entry.tool,
                            arguments=json.dumps(entry.arguments, default=str),
                            decision=entry.decision,
                            summary=entry.summary,
                            seconds=entry.seconds,
                        )
                    )
                    self._follow_page(entry)
            if self.conversation_id != reply.conversation_id:
                self.conversation_id = reply.conversation_id
                self.bus.publish(ConversationOpened(conversation_id=reply.conversation_id))
            self.bus.publish(
                ReplyFinished(turn_id=turn_id, text=reply.text, interrupted=reply.interrupted)
            )
            self.bus.publish(
                ContextUpdated(
                    conversation_id=reply.conversation_id, memory_map=reply.plan.memory_map()
                )
            )
            self._idle()

    def _follow_page(self, entry) -> None:
        """A page the model wrote opens in the preview and becomes the one edits apply to."""
        if entry.tool != "write_page" or entry.decision not in ("allowed", "confirmed"):
            return
        name = entry.arguments.get("name")
        if not isinstance(name, str):
            return
        path = page_path(self.workspace, name)  # not from the summary: that is cut short
        if path.is_file():
            self.pages.open(path)
            self.bus.publish(PageUpdated(path=str(path), note="written by the assistant"))

    def _ask_user(self, tool, arguments) -> bool:
        """The tool registry's confirmation: an event for the window, then wait for the
        answer (refused after a few minutes without one)."""
        request_id = next(self._request_ids)
        answered = threading.Event()
        self._pending[request_id] = [answered, False]
        risky = tool.side_effect.value
        first = tool.asks_first(arguments) if tool.asks_first is not None else None
        reason = f"'{tool.name}' {risky.replace('-', ' ')}; it runs only if you allow it"
        self.bus.publish(
            ConfirmationRequested(
                request_id=request_id,
                tool=tool.name,
                arguments=json.dumps(arguments, default=str),
                reason=f"Vistavox asks to {first}" if first else reason,
            )
        )
        asked_at = time.monotonic()
        timed_out = not answered.wait(CONFIRM_TIMEOUT_S)
        allowed = bool(self._pending.pop(request_id, [None, False])[1])
        # Its prompt must not outlive the question: a dead prompt's Allow does nothing, and
        # two prompts make Alt+A ambiguous (Qt then moves the focus instead of clicking).
        self.bus.publish(
            ConfirmationClosed(
                request_id=request_id,
                tool=tool.name,
                allowed=allowed,
                timed_out=timed_out,
                waited_s=time.monotonic() - asked_at,
            )
        )
        return allowed

    def confirm(self, request_id: int, allowed: bool) -> None:
        """The user's answer to a ConfirmationRequested event."""
        pending = self._pending.get(request_id)
        if pending is not None:
            pending[1] = allowed
            pending[0].set()

    # --- spoken turns ---------------------------------------------------------------------
    @property
    def voice_active(self) -> bool:
        return self._voice is not None

    def start_voice(self, input_device: str | None = None, output_device: str | None = None):
        """Open the microphone and speaker and start listening (hands-free or push-to-talk)."""
        from .audio.devices import DeviceSettings
        from .audio.microphone import Microphone
        from .audio.speaker import Speaker
        from .conversation import Conversation, EngineSettings
        from .speech.endpoint import EndpointSettings

        self._require_ready()
        if self._voice is not None:
            return
        devices = DeviceSettings.load()
        mic = Microphone(input_device or devices.input)
        speaker = Speaker(output_device or devices.output, source_rate=self.models.tts.sample_rate)
        settings = EngineSettings(
            hands_free=self.settings.hands_free,
            echo_cancellation=self.settings.echo_cancellation,
            endpoint=EndpointSettings(start_threshold=self.settings.start_threshold()),
            wake_word=self._wake_word(),
        )
        voice = Conversation(
            self.models,
            mic,
            speaker,
            settings=settings,
            bus=self.bus,
            kernel=self.voice_kernel,
            conversation_id=self.open,
        )
        voice.listening_hint = self.pages.vocabulary
        try:
            voice.start()
        except Exception:
            voice.stop()
            raise
        self._voice = voice

    def _wake_word(self):
        """The wake word chosen in the settings (None: off)."""
        if not self.settings.wake_word:
            return None
        from .speech.wakeword import WakeWordDetector

        return WakeWordDetector(self.settings.wake_word, self.settings.wake_sensitivity)

    def stop_voice(self) -> None:
        voice, self._voice = self._voice, None
        if voice is not None:
            voice.stop()
            self._idle()

    def open_voice(self, *, hands_free: bool, keep_open: bool = False) -> None:
        """Start listening hands-free or push-to-talk, in the background (see
        ``start_voice``); a voice loop in the other mode is restarted, unless ``keep_open``.
        The push-to-talk button's state at the time the loop is up is applied to it. If
        the devices cannot be opened, an EngineError "voice-unavailable" says why."""
        self._ask_voice_worker(self._open_voice, hands_free, keep_open)

    def close_voice(self) -> None:
        """Stop listening, in the background, after any request made before."""
        self._ask_voice_worker(self._close_voice)

    def _ask_voice_worker(self, job, *args) -> None:
        """Queue ``job`` on the devices' thread (requests run one after another)."""
        self._voice_request = self._voice_worker.submit(job, *args)

    def _open_voice(self, hands_free: bool, keep_open: bool) -> None:
        try:
            voice = self._voice
            if voice is not None and (keep_open or voice.settings.hands_free == hands_free):
                return
            self.stop_voice()
            self.settings.hands_free = hands_free
            self.start_voice()
            with self._ptt_lock:
                if self._ptt_pressed and self._voice is not None:
                    self._voice.push_to_talk(True)
        except Exception as exc:  # noqa: BLE001 - a missing microphone is reported
            _log.warning("could not open the audio devices: %s", exc)
            self.bus.publish(
                EngineError(code="voice-unavailable", message=str(exc), recoverable=False)
            )

    def _close_voice(self) -> None:
        try:
            self.stop_voice()
        except Exception:  # noqa: BLE001 - closing is best effort
            _log.exception("closing the audio devices failed")

    def push_to_talk(self, pressed: bool) -> None:
        with self._ptt_lock:
            self._ptt_pressed = pressed
            if self._voice is not None:
                self._voice.push_to_talk(pressed)

    def _follow_voice(self, event) -> None:
        """A spoken turn may have started a new stored conversation: follow it."""
        if not isinstance(event, ReplyFinished) or event.turn_id >= TEXT_TURN_IDS:
            return
        opened = self.open.id
        if opened is not None and opened != self._shown_conversation:
            self._shown_conversation = opened
            self.bus.publish(ConversationOpened(conversation_id=opened))
        self.bus.publish(ContextUpdated(conversation_id=opened, memory_map=self.memory_map()))

    # --- control ----------------------------------------------------------------------------
    def interrupt(self) -> None:
        """Stop speaking and generating now (the stop button); a tool waiting for the
        user's answer is refused, so the stopped turn does not run it later."""
        self._cancel.set()
        for request_id in list(self._pending):
            self.confirm(request_id, False)
        if self._voice is not None:
            self._voice.interrupt()

    def new_conversation(self) -> None:
        """Start afresh; the conversation is stored with its first message."""
        self.conversation_id = None
        self.bus.publish(ConversationOpened(conversation_id=None))

    def open_conversation(self, conversation_id: int) -> None:
        self._require_ready()
        if self.store.get_conversation(conversation_id) is None:
            raise VistavoxError(f"there is no conversation {conversation_id}")
        self.conversation_id = conversation_id
        self.bus.publish(ConversationOpened(conversation_id=conversation_id))
        # (Off the caller's thread, the window's: planning reads and tokenizes the whole
        # conversation, and the soak saw the window stall 100 ms and more on opening one.)
        threading.Thread(target=self._tell_memory_map, args=(conversation_id,), daemon=True).start()

    def _tell_memory_map(self, conversation_id: int) -> None:
        try:
            memory_map = self.memory_map()
        except Exception:  # noqa: BLE001 - the memory tab is a view; the turn goes on
            _log.exception("memory map failed")
            return
        if self.conversation_id == conversation_id:  # (not one the user has left already)
            self.bus.publish(ContextUpdated(conversation_id=conversation_id, memory_map=memory_map))

    def memory_map(self) -> str:
        """What the model would see for the next turn of the current conversation."""
        if self.kernel is None:
            return ""
        return self.kernel.plan(self.conversation_id, "").memory_map()

    # --- sketches -----------------------------------------------------------------------
    def sketch_to_page(self, photo: Path) -> None:
        """Turn a photo of a hand-drawn wireframe into a page in the workspace (worker
        thread); PageUpdated tells where it is."""
        threading.Thread(target=self._sketch, args=(Path(photo),), daemon=True).start()

    def _sketch(self, photo: Path) -> None:
        from .files import write_atomic

        self.bus.publish(StateChanged(state=EngineState.THINKING))
        try:
            result = self._sketch_process().submit(_sketch_page, str(photo)).result()
        except BrokenProcessPool:
            self._sketcher = None  # started afresh for the next sketch
            self.bus.publish(
                EngineError(code="sketch-failed", message=f"{photo.name}: the sketch reader died")
            )
            self._idle()
            return
        except Exception as exc:  # noqa: BLE001 - a clear message in the window
            self.bus.publish(EngineError(code="sketch-failed", message=f"{photo.name}: {exc}"))
            self._idle()
            return
        pages = self.workspace / "pages"
        pages.mkdir(parents=True, exist_ok=True)
        target = pages / f"{photo.stem}.html"
        write_atomic(target, result.html.encode("utf-8"))
        self.pages.open(target)
        self.bus.publish(
            PageUpdated(path=str(target), note=f"{len(result.elements)} elements from {photo.name}")
        )
        if self.models is not None and self.settings.refines_with(
            self.models.llm.model_info.spec.name
        ):
            self._refine_page(target, result, photo)
        self._idle()

    def _refine_page(self, target: Path, result, photo: Path) -> None:
        """The language model proof-reads the page just shown (words, title, accent); the
        change is one undoable page edit, dropped if the page was edited meanwhile."""
        from .vision.sketch.refine import RefineError, photo_for, refine

        llm = self.models.llm
        with self._busy:  # one user of the model at a time, as typed turns
            self._cancel.clear()
            try:
                image = photo_for(llm, photo.read_bytes())
                refinement = refine(llm, result.page_elements, image_png=image, cancel=self._cancel)
            except (RefineError, VistavoxError, ModelError, OSError) as exc:
                self.bus.publish(
                    EngineError(code="sketch-refine-failed", message=f"{photo.name}: {exc}")
                )
                return
        changes = refinement.changes(result.page_elements)
        if not changes:
            return
        note = "proof-read by the language model: " + ", ".join(changes)
        self.pages.revise(target, result.refined(refinement).html, note, expected=result.html)

    def prepare_sketches(self) -> None:
        """Start the sketch process and load its models now (returns at once): called when
        the user attaches an image, so a sketch made from it does not wait for them."""
        if not self._closing:
            self._sketch_process().submit(_sketch_process_ready)

    def _sketch_process(self) -> ProcessPoolExecutor:
        """Sketches are read in a process of their own, kept for the next one: OCR and
        OpenCV hold the GIL for long stretches (loading the OCR models alone for hundreds of
        ms at a time), which would stall a window running in this process."""
        with self._sketcher_lock:
            if self._closing:
                raise VistavoxError("Vistavox is closing")
            if self._sketcher is None:
                self._sketcher = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_sketch_process,
                    initargs=(os.getpid(),),
                )
            return self._sketcher

    def _idle(self) -> None:
        """Back to waiting: listening if the microphone is on, else idle."""
        state = EngineState.LISTENING if self._voice is not None else EngineState.IDLE
        self.bus.publish(StateChanged(state=state))

    def shutdown(self) -> None:
        """Let loading finish, stop the voice loop, refuse pending confirmations, end the
        sketch process, close the database. Every wait is bounded."""
        loader = self._loader
        if loader is not None and loader is not threading.current_thread():
            # A model still loading or warming up is native code at work: the process
            # crashed (SIGSEGV) when it exited under it, as when the window was closed in
            # the first seconds on a busy machine. (One warm-up pass: seconds at most.)
            loader.join(timeout=_LOADING_GRACE_S)
        self.interrupt()  # (which refuses the tools still waiting for an answer)
        self._voice_worker.shutdown(wait=False, cancel_futures=True)
        if self._voice_request is not None:
            # Devices being opened: wait, so that the loop is there to be stopped.
            wait_for_futures([self._voice_request], timeout=_VOICE_GRACE_S)
        self.stop_voice()
        with self._sketcher_lock:
            self._closing = True
            sketcher, self._sketcher = self._sketcher, None
        if sketcher is not None:
            _end_process_pool(sketcher, _SKETCH_GRACE_S)
        if self.timers is not None:
            self.timers.stop()
        if self.store is not None:
            self.store.close()


def _join_audio(lead, speech):
    """The chime, a short pause, then the words."""
    import numpy as np

    pause = np.zeros(len(lead) // 3, dtype=np.float32)
    return np.concatenate([lead, pause, np.asarray(speech, dtype=np.float32)])


def _end_process_pool(pool: ProcessPoolExecutor, grace_s: float) -> None:
    """Shut ``pool`` down without waiting on it: idle workers end at once; one still at work
    is given ``grace_s`` seconds, then killed (the work was for an app that is closing)."""
    import time

    # No public way to reach the workers before Python 3.14 (terminate_workers).
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + grace_s
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            _log.warning("the sketch process did not end by itself: killed")
            worker.kill()
            worker.join(1.0)


def _start_sketch_process(parent_pid: int | None = None) -> None:
    """In the sketch process: end with the app that started it (``parent_pid``), yield the
    CPU to the window and the voice loop, and load the sketch reader (OpenCV, the OCR
    models) before the first photo arrives."""
    import contextlib
    import signal

    from .lifeline import exit_when_parent_exits

    exit_when_parent_exits(parent_pid if parent_pid is not None else os.getppid())
    # Ctrl+C in a terminal reaches the whole process group: the app ends this process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(AttributeError, OSError):
        os.nice(5)
    from .vision.ocr import engine
    from .vision.sketch import pipeline  # noqa: F401 - imported for its start-up cost

    engine()


def _sketch_process_ready() -> bool:
    return True


def _sketch_page(photo: str):
    """The page made from a sketch photo: a SketchResult (sketch process)."""
    from .vision.sketch.pipeline import sketch_to_html

    return sketch_to_html(Path(photo))
