"""A language model on another machine, behind an OpenAI-compatible server (llama.cpp's
server, llama-cpp-python's ``llama_cpp.server``, vLLM, Ollama, LM Studio), with the same
interface as ``LocalLlm``: streaming, cancellation, grammars, images, exact token counts
where the server offers a tokenizer."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from ..errors import VistavoxError
from .local_llm import ChatMessage

DEFAULT_CONTEXT = 4096


class RemoteLlmError(VistavoxError):
    """The server cannot be reached or refused the request."""


class _RemoteInfo:
    """Stands in for a manifest entry in messages and memory maps."""

    def __init__(self, title: str, name: str) -> None:
        self.title, self.name, self.image_size = title, name, None


class _ModelInfo:
    def __init__(self, url: str, model: str) -> None:
        self.spec = _RemoteInfo(f"{model} at {url}", model)


class RemoteLlm:
    """Chat with a model served over HTTP."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        context_tokens: int | None = None,
        timeout: float = 60.0,
        temperature: float = 0.2,
        max_reply_tokens: int = 256,
    ):
        root = base_url.rstrip("/")
        self.root = root.removesuffix("/v1")
        self.api = self.root + "/v1"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=5.0))
        self.temperature = temperature
        self.max_reply_tokens = max_reply_tokens
        self.model = model or self._first_model()
        self.model_info = _ModelInfo(self.root, self.model)
        self._context = context_tokens or self._discover_context()
        self._tokenize_endpoint: str | None = None
        self._bos_tokens = 0
        self.exact_token_counts = self._find_tokenizer()
        self.supports_images = False  # a server with a vision model: set True

    # --- discovery ---------------------------------------------------------------------
    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx.ConnectError as exc:
            raise RemoteLlmError(
                f"cannot reach the language-model server at {self.root}: is it running? "
                "(start one with: python -m llama_cpp.server --model MODEL.gguf)"
            ) from exc
        except httpx.TimeoutException as exc:
            raise RemoteLlmError(f"the server at {self.root} did not answer in time") from exc
        except httpx.HTTPError as exc:
            raise RemoteLlmError(f"talking to {self.root} failed: {exc}") from exc
        if response.status_code >= 400:
            detail = response.text[:300].replace("\n", " ")
            raise RemoteLlmError(
                f"the server at {self.root} refused the request (HTTP {response.status_code}): "
                f"{detail}"
            )
        return response

    def _first_model(self) -> str:
        data = self._request("GET", self.api + "/models").json().get("data", [])
        if not data:
            raise RemoteLlmError(f"the server at {self.root} serves no model")
        return str(data[0]["id"])

    def _discover_context(self) -> int:
        try:  # llama.cpp's own server
            props = self._http.get(self.root + "/props").json()
            return int(props["default_generation_settings"]["n_ctx"])
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            pass
        try:  # some servers put it in the model list
            for entry in self._http.get(self.api + "/models").json().get("data", []):
                for key in ("context_length", "max_model_len", "n_ctx"):
                    if entry.get(key):
                        return int(entry[key])
        except (httpx.HTTPError, ValueError, TypeError):
            pass
        return DEFAULT_CONTEXT

    def _find_tokenizer(self) -> bool:
        for endpoint, body in (
            ("/tokenize", {"content": ""}),
            ("/extras/tokenize", {"input": "", "model": self.model}),
        ):
            try:
                response = self._http.post(self.root + endpoint, json=body)
                if response.status_code == 200 and "tokens" in response.json():
                    self._tokenize_endpoint = endpoint
                    self._bos_tokens = len(response.json()["tokens"])  # tokens of ""
                    return True
            except (httpx.HTTPError, ValueError):
                continue
        return False

    # --- the LocalLlm interface ------------------------------------------------------------
    @property
    def context_tokens(self) -> int:
        return self._context

    def count_tokens(self, text: str) -> int:
        """Exact with a llama.cpp-family server; otherwise a cautious estimate (3.5 chars per
        token, rounded up) — see ``exact_token_counts``."""
        if self._tokenize_endpoint is None:
            return math.ceil(len(text) / 3.5)
        key = "content" if self._tokenize_endpoint == "/tokenize" else "input"
        body: dict[str, Any] = {key: text}
        if key == "input":
            body["model"] = self.model
        tokens = self._request("POST", self.root + self._tokenize_endpoint, json=body).json()
        return max(0, len(tokens["tokens"]) - self._bos_tokens)

    def _body(self, messages, max_tokens, temperature, json_schema, grammar, tools, stream):
        body: dict[str, Any] = {
            "model": self.model,
            "messages": list(messages),
            "max_tokens": max_tokens or self.max_reply_tokens,
            "temperature": self.temperature if temperature is None else temperature,
            "stream": stream,
        }
        if json_schema is not None:
            body["response_format"] = {"type": "json_object", "schema": json_schema}
        if grammar is not None:
            body["grammar"] = grammar  # llama.cpp-family servers
        if tools:
            body["tools"] = tools
        return body

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        grammar: str | None = None,
        json_schema: dict | None = None,
        tools: list[dict] | None = None,
        threads: int | None = None,  # the server's own affair
        background: bool = False,  # likewise: the server queues its requests
        scratch: bool = False,  # and keeps its own caches
    ) -> Iterator[str]:
        """Yield the reply as the server streams it; setting ``cancel`` (or closing the
        iterator) closes the connection, which stops generation on the server."""
        body = self._body(messages, max_tokens, temperature, json_schema, grammar, tools, True)
        try:
            with self._http.stream("POST", self.api + "/chat/completions", json=body) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise RemoteLlmError(
                        f"the server at {self.root} refused the request "
                        f"(HTTP {resp.status_code}): {resp.text[:300]}"
                    )
                for line in resp.iter_lines():
                    if cancel is not None and cancel.is_set():
                        return
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    try:
                        chunk = json.loads(payload)
                    except json.JSONDecodeError:
                        continue
                    choices = chunk.get("choices") or [{}]
                    piece = (choices[0].get("delta") or {}).get("content")
                    if piece:
                        yield piece
        except httpx.ConnectError as exc:
            raise RemoteLlmError(
                f"cannot reach the language-model server at {self.root}: is it running?"
            ) from exc
        except httpx.TimeoutException as exc:
            raise RemoteLlmError(f"the server at {self.root} stopped answering") from exc

    def complete_chat(self, messages: Sequence[ChatMessage], **options: Any) -> dict:
        """One non-streamed completion, as the server returns it (native tool calls are in
        ``choices[0].message.tool_calls``)."""
        body = self._body(
            messages,
            options.get("max_tokens"),
            options.get("temperature"),
            options.get("json_schema"),
            options.get("grammar"),
            options.get("tools"),
            False,
        )
        return self._request("POST", self.api + "/chat/completions", json=body).json()

    def close(self) -> None:
        self._http.close()
