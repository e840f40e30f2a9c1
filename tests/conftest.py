"""Shared fixtures: real models loaded once per test session, and the evaluation material."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from vistavox.models.resolve import user_models_dir

pytest_plugins = ["tests.loopback_hub"]  # the `hub` fixture: a Hugging Face Hub on loopback

# The app's decisions (held speech, echo dropped) appear with a failing test's output
# (VISTAVOX_LOG_LEVEL=DEBUG shows every endpoint decision, for debugging).
logging.getLogger("vistavox").setLevel(os.environ.get("VISTAVOX_LOG_LEVEL", "INFO"))

# Where no test names a model, the suite runs on the embedded one (fast, and present on every
# install), not on the bigger model the app would pick where one is installed; the tests of
# that choice, and of the bigger models, name theirs.
os.environ.setdefault("VISTAVOX_LLM", "smollm2-135m-instruct")

REPO = Path(__file__).resolve().parents[1]
EVAL_DIR = Path(os.environ.get("VISTAVOX_EVAL_DIR", REPO.parent / "shared" / "eval"))
ARTIFACTS = Path(os.environ.get("VISTAVOX_TEST_ARTIFACTS", REPO / "tests" / "artifacts"))


def play_out(conversation, mic, *, play_s: float = 120, idle_s: float = 60) -> None:
    """Wait until a file-driven microphone has played everything, then until the
    conversation is idle again (each within its limit: a test asserts what was heard)."""
    import time

    mic.finished.wait(play_s)
    deadline = time.monotonic() + idle_s
    while not conversation.is_idle() and time.monotonic() < deadline:
        time.sleep(0.1)


def user_speech(tts, text: str, rate: float = 1.0, to_rate: int = 16_000):
    """``text`` as a test's user says it, the same way every run (float32 at ``to_rate``).
    The voice's own variation is off: with it each take of a sentence differs in rhythm
    and sound, and a test fed a new take each run fails now and then by chance (one take in
    a few of "What is the capital of Italy?" was heard as "... of the lead")."""
    from vistavox.pipelines.audio.resample import resample

    speech = tts.speak_varied(text, rate, 0.0, 0.0)
    return resample(speech, tts.sample_rate, to_rate).astype("float32", copy=False)


def normalise_words(text: str) -> str:
    """Lower-case words without punctuation, numbers spelled out ("8" and "eight" are the
    same word to a listener), for word error rates."""
    from num2words import num2words

    text = re.sub(r"\d+", lambda m: f" {num2words(int(m.group()))} ", text.lower())
    text = text.replace("-", " ")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())


def word_error_rate(reference: str | list[str], hypothesis: str | list[str]) -> float:
    """WER after normalisation (jiwer), over one pair or a corpus of pairs."""
    import jiwer

    if isinstance(reference, str):
        reference, hypothesis = [reference], [hypothesis]  # type: ignore[list-item]
    return float(
        jiwer.wer([normalise_words(r) for r in reference], [normalise_words(h) for h in hypothesis])
    )


def character_error_rate(reference: str, hypothesis: str) -> float:
    """CER after the same normalisation (jiwer): graded where a short reply's word error
    rate jumps by a fifth for one misheard word ("A spider" heard as "This spider")."""
    import jiwer

    return float(jiwer.cer(normalise_words(reference), normalise_words(hypothesis)))


@pytest.fixture(scope="session")
def eval_dir() -> Path:
    """../shared/eval, or a clean skip when it is not beside the project."""
    if not EVAL_DIR.is_dir():
        pytest.skip(f"evaluation material not found at {EVAL_DIR} (set VISTAVOX_EVAL_DIR)")
    return EVAL_DIR


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave files worth looking at (audio, screenshots)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def transcriber():
    from vistavox.pipelines.speech.stt import Transcriber

    return Transcriber()


@pytest.fixture(scope="session")
def synthesizer():
    from vistavox.pipelines.speech.tts import Synthesizer

    return Synthesizer()


@pytest.fixture(scope="session")
def llm():
    from vistavox.pipelines.kernel.local_llm import LocalLlm

    return LocalLlm()


TOOL_MODEL = "qwen2.5-coder-0.5b-instruct"


# Where the test setup downloaded models, taken before any test points the user's data
# folder at a fresh one (the desktop tests do).
USER_MODELS_DIR = user_models_dir()


def user_model(name: str, folder: Path = USER_MODELS_DIR):
    """The model ``name`` resolved in ``folder`` (where the test setup downloads models), or
    a clean skip when it is not there."""
    from vistavox.models.resolve import ModelError, resolve

    saved = os.environ.get("VISTAVOX_MODELS_DIR")
    os.environ["VISTAVOX_MODELS_DIR"] = str(folder)
    try:
        return resolve(name)
    except ModelError as exc:
        pytest.skip(f"the tool-calling model is not here ({exc}); bash packaging/setup.sh test")
    finally:
        if saved is None:
            os.environ.pop("VISTAVOX_MODELS_DIR")
        else:
            os.environ["VISTAVOX_MODELS_DIR"] = saved


@pytest.fixture(scope="session")
def tool_llm():
    """The model that calls tools correctly (the 135M default cannot); the test setup
    (packaging/setup.sh test) fetches it."""
    from vistavox.pipelines.kernel.local_llm import LocalLlm

    return LocalLlm(user_model(TOOL_MODEL))


@pytest.fixture(scope="module")
def rig():
    """A private PulseAudio daemon with the virtual microphone and speaker (audio_rig.py),
    for one test module; a clean skip where PulseAudio is not installed."""
    from tests.audio_rig import PulseRig, PulseUnavailable

    try:
        rig = PulseRig().start()
    except PulseUnavailable as exc:
        pytest.skip(f"no virtual audio devices: {exc}")
    rig.start_io()
    yield rig
    rig.close()
