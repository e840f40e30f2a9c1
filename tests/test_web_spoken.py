"""Web addresses said aloud: found in transcripts (and not in ordinary sentences with the
word "dot"), and read in spoken turns like typed ones, behind the same per-site permission,
from a real page on a loopback server and a real spoken clip."""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack

import numpy as np
import pytest

from tests.conftest import user_speech
from tests.web_server import serve
from vistavox.pipelines.tools.registry import ToolRegistry
from vistavox.pipelines.web.sites import SitePermissions
from vistavox.pipelines.web.spoken import spoken_addresses
from vistavox.pipelines.web.tool import addresses_in, web_fetch_tool

RATE = 16_000
ARTICLE = (
    "<html><head><title>Moon base opens</title></head><body><nav>Home | World</nav>"
    "<article><h1>Moon base opens</h1><p>The first moon base opened on Tuesday with twelve "
    "astronauts living inside it.</p><p>Its greenhouse grows potatoes under red lamps.</p>"
    "</article></body></html>"
)
# Ports the recogniser writes right when said digit by digit (tiny.en heard "eight zero zero
# eight" as 808): the test server takes the first one free.
SPOKEN_PORTS = (8765, 8181, 7070, 9090, 6060)
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@pytest.mark.parametrize(
    "heard, address",
    [
        ("Read me the article at example dot com slash news.", "https://example.com/news"),
        ("Remi the article at example.com slash news.", "https://example.com/news"),
        ("Read example dot com/news", "https://example.com/news"),
        ("What does BBC dot co dot UK say about the budget?", "https://bbc.co.uk"),
        ("Open w w w dot example dot org.", "https://www.example.org"),
        ("Open www dot example dot org slash about", "https://www.example.org/about"),
        ("Read HTTPS colon slash slash example dot org slash about.", "https://example.org/about"),
        ("Read me 127.0.0.1 colon 8080 slash news.", "http://127.0.0.1:8080/news"),
        ("Open example dot com slash index dot html", "https://example.com/index.html"),
        ("read repubblica dot it slash politica", "https://repubblica.it/politica"),
    ],
)
def test_addresses_said_aloud_are_written_out(heard, address):
    assert spoken_addresses(heard) == [address]
    assert addresses_in(heard, spoken=True) == [address]


@pytest.mark.parametrize(
    "heard",
    [
        "Connect the dots and put a dot on the map.",
        "There is one dot in the picture and it is red.",
        "The dot com bubble burst in two thousand.",
        "I bought it on amazon dot com yesterday.",  # a site mentioned, nothing to read
        "Read notes.txt and script.py for me.",
        "Version 1.2.3.4 is out.",
        "What does repubblica dot it say?",  # "it" is a word first: needs a path or www
        "E.g. this, i.e. that.",
        "Polka dot dress at the dot dot dot sale.",
    ],
)
def test_ordinary_sentences_with_dots_are_not_addresses(heard):
    assert addresses_in(heard, spoken=True) == []


def test_typed_text_is_read_as_written_only():
    assert addresses_in("Read me example dot com slash news") == []
    assert addresses_in("See https://example.org/a and example dot com slash b", spoken=True) == [
        "https://example.org/a",
        "https://example.com/b",
    ]


@pytest.fixture
def article_site():
    """The article on loopback, on a port that can be said."""
    with ExitStack() as stack:
        for port in SPOKEN_PORTS:
            try:
                site = stack.enter_context(serve(port=port))
                break
            except OSError:  # taken
                continue
        else:
            pytest.skip(f"none of the ports {SPOKEN_PORTS} is free on this machine")
        site.add("/news", ARTICLE)
        yield site


def _said(site) -> str:
    port = " ".join(DIGITS[int(d)] for d in str(site.port))
    address = f"one two seven dot zero dot zero dot one colon {port} slash news"
    return f"Read me the article at {address}."


def _reader(tmp_path, *, allowed: bool) -> ToolRegistry:
    """The web tools as spoken turns have them: no one to ask (confirm None)."""
    sites = SitePermissions(tmp_path / "sites.json")
    if allowed:
        sites.allow("127.0.0.1")
    return ToolRegistry([web_fetch_tool(sites)], confirm=None)


def test_a_page_named_aloud_is_read_into_the_draft_and_cited(
    llm, article_site, tmp_path, monkeypatch
):
    from vistavox.pipelines.conversation.voice_kernel import voice_kernel
    from vistavox.pipelines.kernel.store import Store

    monkeypatch.setenv("VISTAVOX_WEB_ALLOW", "127.0.0.1")
    url = article_site.url("/news")
    reader = _reader(tmp_path, allowed=True)
    heard = f"Read me the article at 127.0.0.1 colon {article_site.port} slash news."
    with Store(tmp_path / "c.db") as store:
        kernel = voice_kernel(llm, store, page_reader=reader)
        draft = kernel.draft_answer(None, heard)
        conversation_id = kernel.start_conversation()
        draft.commit(conversation_id)
        stored = store.messages(conversation_id)
    assert [(e.tool, e.arguments, e.decision) for e in reader.audit] == [
        ("web_fetch", {"url": url}, "allowed")
    ]
    # What the model was given: the article, as data labelled with its address.
    assert f'source="web page {url}"' in draft.plan.messages[-1]["content"]
    assert "twelve astronauts" in draft.plan.messages[-1]["content"]
    assert "Home | World" not in draft.plan.messages[-1]["content"]
    assert draft.text.endswith(f"Source: Moon base opens ({url})")
    user = stored[0]
    assert user.untrusted and "twelve astronauts" in user.content
    assert stored[1].content == draft.text


def test_a_site_not_allowed_yet_is_refused_aloud_with_how_to_allow_it(
    llm, article_site, tmp_path, monkeypatch
):
    from vistavox.pipelines.conversation.voice_kernel import voice_kernel
    from vistavox.pipelines.kernel.store import Store

    monkeypatch.setenv("VISTAVOX_WEB_ALLOW", "127.0.0.1")
    reader = _reader(tmp_path, allowed=False)
    heard = f"Read me the article at 127.0.0.1 colon {article_site.port} slash news."
    with Store(tmp_path / "c.db") as store:
        draft = voice_kernel(llm, store, page_reader=reader).draft_answer(None, heard)
    assert article_site.requests == []  # nothing fetched without the user's say-so
    assert [e.decision for e in reader.audit] == ["denied"]
    assert draft.text == (
        "I did not read the page from 127.0.0.1: it is not among the sites you allowed, and "
        "I cannot ask you now. Allow 127.0.0.1 in Settings, under Web sites allowed, then "
        "ask again."
    )


@pytest.fixture(scope="module")
def models():
    from piper import SynthesisConfig

    from vistavox.pipelines.voice_models import VoiceModels

    loaded = VoiceModels.load_defaults()
    # No variation in the voice's delivery: the same clip, so the same transcript, each run.
    loaded.tts._config = dataclasses.replace(SynthesisConfig(), noise_scale=0.0, noise_w_scale=0.0)
    return loaded


def test_a_spoken_request_for_a_page_is_answered_from_it_and_cited(
    models, article_site, tmp_path, monkeypatch
):
    from vistavox.pipelines.audio.files import write_wav
    from vistavox.pipelines.audio.microphone import FileMicrophone
    from vistavox.pipelines.audio.speaker import RecordingSpeaker
    from vistavox.pipelines.conversation import Conversation, EngineSettings
    from vistavox.pipelines.conversation.voice_kernel import voice_kernel
    from vistavox.pipelines.events import EventBus, EventLog, FinalTranscript, ReplyFinished
    from vistavox.pipelines.kernel.store import Store

    monkeypatch.setenv("VISTAVOX_WEB_ALLOW", "127.0.0.1")
    url = article_site.url("/news")
    speech = user_speech(models.tts, _said(article_site))
    gap = np.zeros(RATE, np.float32)
    write_wav(tmp_path / "q.wav", np.concatenate([gap, speech, gap]), RATE)
    reader = _reader(tmp_path, allowed=True)
    store = Store(tmp_path / "c.db")
    bus = EventBus()
    log = EventLog(bus)
    mic = FileMicrophone(tmp_path / "q.wav", tail_s=4.0)
    conversation = Conversation(
        models,
        mic,
        RecordingSpeaker(source_rate=models.tts.sample_rate),
        settings=EngineSettings(),
        bus=bus,
        kernel=voice_kernel(models.llm, store, page_reader=reader),
    )
    conversation.start()
    try:
        assert log.wait_for(ReplyFinished, 1, timeout=120) is not None
        mic.finished.wait(30)
    finally:
        conversation.stop()
    heard = log.of_type(FinalTranscript)[0].text
    assert addresses_in(heard, spoken=True) == [url], heard
    reply = log.of_type(ReplyFinished)[0].text
    assert reply.endswith(f"Source: Moon base opens ({url})")
    assert ("web_fetch", {"url": url}, "allowed") in [
        (e.tool, e.arguments, e.decision) for e in reader.audit
    ]
    stored = store.messages(conversation.conversation_id)
    store.close()
    user = next(m for m in stored if m.role == "user")
    assert user.untrusted and f'source="web page {url}"' in user.content
    assert "twelve astronauts" in user.content
