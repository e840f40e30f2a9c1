"""The remote backend against a real OpenAI-compatible server on loopback
(llama-cpp-python's llama_cpp.server serving the embedded SmolLM2)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("fastapi", reason="llama_cpp.server needs the test extras")
    from vistavox.models.manifest import ModelKind
    from vistavox.models.resolve import resolve_default

    port = _free_port()
    model = resolve_default(ModelKind.LLM).main_file
    log = (tmp_path_factory.mktemp("server") / "server.log").open("w+")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "1",
            "--model_alias",
            "smollm2",
            "--verbose",
            "False",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file: a pipe nobody reads would fill up and stall the server
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.seek(0)
            pytest.fail(f"llama_cpp.server did not start: {log.read()[-800:]}")
        time.sleep(0.3)
    yield url
    log.close()
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def remote(server):
    from vistavox.pipelines.kernel.remote_llm import RemoteLlm

    client = RemoteLlm(server)
    yield client
    client.close()


QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def test_streaming_matches_the_non_streamed_answer(remote):
    streamed = "".join(remote.stream_chat(QUESTION, max_tokens=24, temperature=0.0))
    whole = remote.complete_chat(QUESTION, max_tokens=24, temperature=0.0)
    assert streamed.strip()
    assert streamed == whole["choices"][0]["message"]["content"]


def test_cancel_stops_the_stream_and_the_server_stays_usable(remote):
    cancel = threading.Event()
    pieces = []
    for piece in remote.stream_chat(
        [{"role": "user", "content": "Tell me a long story."}],
        max_tokens=200,
        temperature=0.7,
        cancel=cancel,
    ):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert len(pieces) == 3
    assert "".join(remote.stream_chat(QUESTION, max_tokens=8)).strip()


def test_json_schema_constrains_the_output(remote):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    text = "".join(remote.stream_chat(QUESTION, max_tokens=40, json_schema=schema))
    assert isinstance(json.loads(text)["city"], str)


def test_our_grammar_works_remotely_too(remote):
    from vistavox.pipelines.kernel.grammar import parse_tool_step, tool_call_grammar
    from vistavox.pipelines.tools.builtin import calculator_tool

    tools = [calculator_tool().spec()]
    text = "".join(
        remote.stream_chat(
            [{"role": "user", "content": "What is 12 times 7? Use the calculator."}],
            max_tokens=80,
            grammar=tool_call_grammar(tools),
        )
    )
    parse_tool_step(text, tools)


def test_token_counts_are_exact(remote, llm):
    assert remote.exact_token_counts
    for text in ("Hello there!", "Tokenizers split text into pieces. " * 20):
        assert remote.count_tokens(text) == llm.count_tokens(text)
    assert remote.context_tokens > 0


def test_kernel_runs_on_the_remote_backend(remote, tmp_path):
    from vistavox.pipelines.kernel.kernel import Kernel
    from vistavox.pipelines.kernel.personas import load_persona
    from vistavox.pipelines.kernel.store import Store

    with Store(tmp_path / "k.db") as store:
        reply = Kernel(remote, store, load_persona("assistant")).ask("Say hello.")
        assert reply.text
        assert [m.role for m in store.messages(reply.conversation_id)] == ["user", "assistant"]


def test_a_server_that_is_not_running_gives_a_clear_error():
    from vistavox.pipelines.kernel.remote_llm import RemoteLlm, RemoteLlmError

    with pytest.raises(RemoteLlmError, match="is it running"):
        RemoteLlm(f"http://127.0.0.1:{_free_port()}")


def test_image_messages_are_well_formed_requests(remote):
    import io

    from PIL import Image

    from vistavox.pipelines.kernel.remote_llm import RemoteLlmError
    from vistavox.pipelines.kernel.vision import image_part, prepare_image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(buf, format="PNG")
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "What colour is this?"},
            image_part(prepare_image(buf.getvalue())),
        ],
    }
    # A text-only server either answers from the text or refuses clearly; never a crash.
    try:
        text = "".join(remote.stream_chat([message], max_tokens=8))
        assert isinstance(text, str)
    except RemoteLlmError as exc:
        assert "refused" in str(exc)
