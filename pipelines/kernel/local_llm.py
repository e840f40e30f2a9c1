"""A local language model run by llama.cpp (llama-cpp-python), streaming its reply."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import logging
import os
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypedDict

import llama_cpp
import llama_cpp._internals as llama_internals
import numpy as np
from llama_cpp import Llama, LlamaGrammar
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from ...models.manifest import ModelKind
from ...models.resolve import ModelError, ResolvedModel, resolve_default
from .cache_shift import plan_cache_shift
from .model_gate import ModelGate, Preempted

_log = logging.getLogger(__name__)


class ChatMessage(TypedDict):
    """One message of a chat, in the OpenAI layout llama.cpp understands."""

    role: str
    content: str


@dataclass(frozen=True)
class LlmSettings:
    """How the model is loaded and sampled."""

    context_tokens: int = 2048
    threads: int = 0  # generation threads; 0: all cores but one (llama.cpp's token loop
    # collapses when its threads compete with speech synthesis: 2 threads fell to 35 tok/s
    # under load on a 2-core CPU, 1 thread kept 108 tok/s)
    batch_threads: int = 0  # prompt threads; 0: all cores
    temperature: float = 0.2
    repeat_penalty: float = 1.1
    max_reply_tokens: int = 120


class _StoppableLlama(Llama):
    """llama.cpp's model whose prompt can be read in small steps, with a check before each
    step: background work gives way within one step, not after a whole prompt."""

    STEP_TOKENS = 16
    stop_check: Callable[[], bool] | None = None
    shifts_cache = True  # off where a chat handler reads images into the cache itself
    reused_by_shift = 0  # prompt tokens not read again thanks to a shift, since loading

    def _init_sampler(self, *args, **kwargs):
        # The reply before this one's sampler is freed here, on the model's thread: left to
        # llama-cpp-python, it sits in a reference cycle until the collector frees it on
        # whichever thread allocates next, the window's among them (seen in a soak).
        if self._sampler is not None:
            self._sampler.close()
            self._sampler = None
        return super()._init_sampler(*args, **kwargs)

    def generate(self, tokens: Sequence[int], *args, **kwargs):
        if kwargs.get("reset", True):
            self._shift_cache_for(tokens)
        return super().generate(tokens, *args, **kwargs)

    def _shift_cache_for(self, tokens: Sequence[int]) -> None:
        """Where the new prompt is the cached one with turns taken out after its start
        (paged out of the window), drop those from the cache and move the rest up, so
        only the new tokens are read (llama.cpp then finds the rest as a cached prefix)."""
        if not self.shifts_cache or self.n_tokens == 0:
            return
        shift = plan_cache_shift(self.input_ids[: self.n_tokens], tokens)
        if shift is None or not llama_cpp.llama_memory_can_shift(self._ctx.memory):
            return
        end = shift.start + shift.removed
        if not self._ctx.kv_cache_seq_rm(-1, shift.start, end):
            return
        self._ctx.kv_cache_seq_shift(0, end, -1, -shift.removed)
        moved = self.input_ids[end : end + shift.kept].copy()
        self.input_ids[shift.start : shift.start + shift.kept] = moved
        self.n_tokens = shift.start + shift.kept
        self._requires_eval = True  # (the logits are those of the old last token)
        self.reused_by_shift += shift.kept

    def eval(self, tokens: Sequence[int]) -> None:
        if len(tokens) > 1:  # a prompt (replies are read a token at a time)
            # What a slow first token is usually made of: tokens read again.
            _log.debug("reading %d prompt tokens after %d cached", len(tokens), self.n_tokens)
        check = self.stop_check
        if check is None:
            return super().eval(tokens)
        for start in range(0, max(1, len(tokens)), self.STEP_TOKENS):
            if check():
                raise Preempted("the model is wanted for a reply")
            super().eval(tokens[start : start + self.STEP_TOKENS])
        return None

    def second_context(self, *, threads: int, n_batch: int) -> _StoppableLlama:
        """Another context on these weights, with a cache of its own. It shares the loaded
        model (loading the file again kept a second copy of the weights llama.cpp repacks
        in memory: hundreds of MB for the 1.5B, and seconds to make)."""
        # (the model, tokenizer, chat format and metadata shared; copy.copy would pickle
        # it, and Llama's pickling loads the file again)
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        twin._stack = contextlib.ExitStack()
        params = llama_cpp.llama_context_params.from_buffer_copy(self.context_params)
        params.n_batch = params.n_ubatch = n_batch
        params.n_threads = params.n_threads_batch = threads
        twin.context_params = params
        twin.n_batch, twin.n_threads, twin.n_threads_batch = n_batch, threads, threads
        twin._ctx = twin._stack.enter_context(
            contextlib.closing(
                llama_internals.LlamaContext(model=self._model, params=params, verbose=False)
            )
        )
        twin._batch = twin._stack.enter_context(
            contextlib.closing(
                llama_internals.LlamaBatch(
                    n_tokens=n_batch, embd=0, n_seq_max=params.n_ctx, verbose=False
                )
            )
        )
        twin._candidates = llama_internals.LlamaTokenDataArray(n_vocab=self._n_vocab)
        twin.input_ids = np.ndarray((self._n_ctx,), dtype=np.intc)
        twin.scores = np.ndarray((n_batch, self._n_vocab), dtype=np.single)
        twin.n_tokens = 0
        twin._requires_eval = True
        twin._mirostat_mu = ctypes.c_float(10.0)
        twin._sampler = None
        twin._chat_handlers = dict(self._chat_handlers)
        twin.stop_check = None
        twin.reused_by_shift = 0
        twin._weights_owner = self  # (its model is freed with this object)
        return twin


def _copy_cache(source: _StoppableLlama, target: _StoppableLlama) -> bool:
    """Make ``target`` (a context on the same weights) hold what ``source`` has cached: its
    sequence's keys and values, copied in one go, and the tokens they are of."""
    size = llama_cpp.llama_state_seq_get_size(source._ctx.ctx, 0)
    buffer = np.empty(size, dtype=np.uint8)
    pointer = buffer.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))
    written = llama_cpp.llama_state_seq_get_data(source._ctx.ctx, pointer, size, 0)
    if not written:
        return False
    target._ctx.kv_cache_seq_rm(-1, 0, -1)
    target.n_tokens = 0
    target._requires_eval = True  # (its logits are of whatever it read last)
    if not llama_cpp.llama_state_seq_set_data(target._ctx.ctx, pointer, written, 0):
        return False  # (left empty: the next turn reads its whole prompt)
    count = source.n_tokens
    target.input_ids[:count] = source.input_ids[:count]
    target.n_tokens = count
    return True


def _raised_by_template_on_parts(exc: TypeError, messages: Sequence[ChatMessage]) -> bool:
    """True when ``exc`` came from inside a Jinja chat template (Jinja names the frames of
    compiled templates "<template>") while a message's content was a list of parts."""
    has_parts = any(isinstance(m.get("content"), list) for m in messages)
    frames = traceback.walk_tb(exc.__traceback__)
    return has_parts and any(f.f_code.co_filename == "<template>" for f, _ in frames)


class LocalLlm:
    """A chat GGUF loaded once; the chat template comes from the GGUF's own metadata."""

    def __init__(
        self,
        model: ResolvedModel | None = None,
        settings: LlmSettings | None = None,
        *,
        chat_handler=None,
    ):
        self.model_info = model or resolve_default(ModelKind.LLM)
        self.chat_handler = chat_handler
        self.settings = settings or LlmSettings()
        cores = os.cpu_count() or 1
        threads = self.settings.threads or max(1, cores - 1)
        batch_threads = self.settings.batch_threads or cores
        self._llama = self._load(threads, batch_threads, chat_handler)
        self._scratch: _StoppableLlama | None = None  # for background work, made when needed
        self._scratch_lock = threading.Lock()
        self._gate = ModelGate()
        atexit.register(self._gate.close)  # background work stops before Python does
        self._grammars: dict[str, LlamaGrammar] = {}

    def _load(
        self, threads: int, batch_threads: int, chat_handler=None, **options
    ) -> _StoppableLlama:
        try:
            llama = _StoppableLlama(
                model_path=str(self.model_info.main_file),
                n_ctx=self.settings.context_tokens,
                n_threads=threads,
                n_threads_batch=batch_threads,
                chat_handler=chat_handler,
                verbose=False,
                **options,
            )
        except ValueError as exc:  # llama.cpp could not read the file
            raise ModelError(
                f"{self.model_info.spec.title} could not be loaded from "
                f"{self.model_info.main_file} ({exc}). Reinstall it with: "
                f"{self.model_info.spec.install_hint}"
            ) from exc
        # An image's embeddings sit in the cache with no token of their own to line up.
        llama.shifts_cache = chat_handler is None
        return llama

    def _scratch_llama(self) -> _StoppableLlama:
        """A second context on the same weights (mapped once by the system: only its cache
        is new) for work that must not replace the conversation's prompt in the main
        cache; one thread, so the turn's speech keeps a core."""
        with self._scratch_lock:
            if self._scratch is None:
                # It reads in steps anyway; a small batch keeps its buffers small (the
                # logits kept per batch token are the vocabulary's size each).
                step = _StoppableLlama.STEP_TOKENS
                if self.chat_handler is None:
                    self._scratch = self._llama.second_context(threads=1, n_batch=step)
                else:  # (a vision model's context reads images through its handler)
                    self._scratch = self._load(1, 1, n_batch=step, n_ubatch=step)
                # (a step in the app's memory: its cache fills as background work uses it)
                _log.info("a second context is made for background work")
            return self._scratch

    @property
    def supports_images(self) -> bool:
        """True for a vision model (loaded with a projector's chat handler)."""
        return self.chat_handler is not None

    @property
    def follows_tools(self) -> bool:
        """Whether this model can be trusted with the tool-call protocol (the manifest's
        verdict, from the tools benchmark)."""
        return self.model_info.spec.follows_tools

    @property
    def context_tokens(self) -> int:
        """Size of the context window in tokens."""
        return int(self._llama.n_ctx())

    @property
    def native_tools(self) -> bool:
        """True when the model's chat template has its own tool-call format (Hermes style:
        tools listed in the system turn, calls written as <tool_call> blocks)."""
        template = self._llama.metadata.get("tokenizer.chat_template") or ""
        return "tools" in template and "<tool_call>" in template

    @functools.cached_property
    def _formatter(self) -> Jinja2ChatFormatter | None:
        """The GGUF's chat template, compiled once (None: the model has none)."""
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            return None
        eos = self._llama.detokenize([self._llama.token_eos()]).decode("utf-8", "ignore")
        bos = self._llama.detokenize([self._llama.token_bos()]).decode("utf-8", "ignore")
        return Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)

    def chat_prompt_tokens(
        self, messages: Sequence[ChatMessage], tools: list[dict] | None = None
    ) -> int:
        """Exact token count of ``messages`` (and the ``tools`` the template lists) rendered
        with the model's own chat template, including the generation prompt."""
        if self._formatter is None:
            return sum(self.count_tokens(m["content"]) + 8 for m in messages)
        prompt = self._formatter(messages=list(messages), tools=tools).prompt
        return len(self._llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))

    def count_tokens(self, text: str) -> int:
        """Exact token count of ``text`` with this model's tokenizer."""
        return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        grammar: str | None = None,
        tools: list[dict] | None = None,
        threads: int | None = None,
        background: bool = False,
        scratch: bool = False,
    ) -> Iterator[str]:
        """Yield the reply piece by piece as the model writes it. ``tools`` (OpenAI-style
        definitions) are rendered by the chat template, for models with ``native_tools``.
        ``threads``: generation threads for this reply (default: the settings'); all cores
        where nothing else needs the CPU meanwhile (a typed turn not spoken aloud).
        ``background``: work nobody waits for (a summary, warming the cache): it waits while
        any other request does, and raises ``Preempted`` within a few tokens (read or
        written) when one arrives. ``scratch``: run on a second context, so the prompt
        cached for the conversation stays for its next turn.

        Setting ``cancel`` (or closing the iterator) stops generation after the current token.
        """
        compiled = None
        if grammar is not None:
            compiled = self._grammars.get(grammar)
            if compiled is None:
                compiled = LlamaGrammar.from_string(grammar, verbose=False)
                self._grammars[grammar] = compiled
        llama = self._scratch_llama() if scratch else self._llama
        gate = self._gate.background() if background else self._gate.foreground()
        with gate, self._threads(llama, threads, background=background):
            llama.stop_check = self._gate.wanted if background else None
            try:
                yield from self._stream(
                    llama, messages, compiled, tools, max_tokens, temperature, cancel
                )
            finally:
                llama.stop_check = None

    def _stream(self, llama, messages, grammar, tools, max_tokens, temperature, cancel):
        try:
            chunks = llama.create_chat_completion(
                grammar=grammar,
                messages=list(messages),
                tools=tools,
                max_tokens=max_tokens or self.settings.max_reply_tokens,
                temperature=self.settings.temperature if temperature is None else temperature,
                repeat_penalty=self.settings.repeat_penalty,
                stream=True,
            )
        except ValueError as exc:
            raise self._explain(exc) from exc
        except TypeError as exc:
            # A text-only chat template (the generic mtmd handler renders the GGUF's own)
            # concatenates message['content'] as a string, and images make it a list.
            if self.chat_handler is None or not _raised_by_template_on_parts(exc, messages):
                raise
            raise ModelError(
                f"{self.model_info.spec.title}: its chat template cannot take images "
                f"({exc}); choose a vision model whose GGUF has a vision chat template"
            ) from exc
        try:
            for chunk in chunks:
                if cancel is not None and cancel.is_set():
                    break
                if llama.stop_check is not None and llama.stop_check():
                    raise Preempted(f"{self.model_info.spec.title} is wanted for a reply")
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
        except ValueError as exc:
            raise self._explain(exc) from exc
        finally:
            chunks.close()

    def read_ahead(self, messages: Sequence[ChatMessage], tools: list[dict] | None = None) -> bool:
        """Read ``messages`` on the second context in the background (giving way to any
        turn), then hand what it read to the main context in one copy, so the next turn
        that starts with them reads only what follows. Meanwhile the main context keeps
        the conversation's current prompt for the turns that come first. False when a turn
        took the model first, or the main context moved on while it read: nothing handed
        over (what was read stays on the second context for the next try)."""
        if self.chat_handler is not None:  # (an image's embeddings cannot be copied over)
            return False
        before = self._llama.input_ids[: self._llama.n_tokens].copy()
        try:
            for _ in self.stream_chat(
                messages, tools=tools, max_tokens=1, background=True, scratch=True
            ):
                pass
        except Preempted:
            return False
        scratch = self._scratch
        assert scratch is not None
        with self._gate.foreground():
            main = self._llama
            if not np.array_equal(main.input_ids[: main.n_tokens], before):
                return False  # a turn ran meanwhile: its prompt is the newer one
            return _copy_cache(scratch, main)

    @contextlib.contextmanager
    def _threads(self, llama: _StoppableLlama, threads: int | None, *, background: bool):
        """Run on ``llama`` with ``threads`` generation threads for the duration (default:
        the settings'), back to its own after. The second context keeps its one thread for
        background work; someone waiting on it (a reply asked again) gets the main
        context's threads, so its prompt is read on every core, not at half speed."""
        if llama is not self._llama and background:
            yield
            return
        want = (threads or self._llama.n_threads, self._llama.n_threads_batch)
        own = (llama.n_threads, llama.n_threads_batch)
        if want == own:
            yield
            return
        context = llama._ctx.ctx  # the public API sets threads only at load time
        llama_cpp.llama_set_n_threads(context, *want)
        try:
            yield
        finally:
            llama_cpp.llama_set_n_threads(context, *own)

    def _explain(self, exc: ValueError) -> Exception:
        """llama.cpp reports a broken vision projector or an oversized prompt as ValueError:
        turn it into an error that says what to do."""
        spec = self.model_info.spec
        if self.chat_handler is not None:
            return ModelError(
                f"{spec.title}: the vision projector could not be used ({exc}). "
                f"Download it again with: vistavox models download {spec.name}"
            )
        return exc
