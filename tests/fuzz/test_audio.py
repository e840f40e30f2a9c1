"""Audio files for ``vistavox reply --audio-in`` and ``converse --input-file``: every container
and codec libsndfile writes (WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF, AU, CAF, W64...), rates
from 1 Hz to 384 kHz, up to 64 channels, clipped and NaN samples, clips of 0-5 samples, then
truncated, bit-flipped or replaced by garbage, under odd names; and hours of silence in a few
hundred kilobytes. ``load_audio`` must give 16 kHz mono float32 in [-1, 1] or an
AudioInputError, without ever decoding more than its limit; what ``reply`` does next (trim
the silence with the VAD) must give speech or NoSpeechError."""

from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
from hypothesis import assume, example, given
from hypothesis import strategies as st

from tests.fuzz import Blob, check_clear, counted, expect_clear, fuzz
from vistavox.pipelines.audio.files import MAX_INPUT_SECONDS, SPEECH_RATE, load_audio
from vistavox.pipelines.errors import AudioInputError, NoSpeechError
from vistavox.pipelines.speech.vad import trim_silence

CODECS = [
    ("WAV", "PCM_16"), ("WAV", "PCM_U8"), ("WAV", "PCM_24"), ("WAV", "FLOAT"), ("WAV", "DOUBLE"),
    ("WAV", "ULAW"), ("WAV", "IMA_ADPCM"), ("WAV", "MS_ADPCM"), ("WAV", "GSM610"),
    ("FLAC", "PCM_16"), ("FLAC", "PCM_S8"), ("FLAC", "PCM_24"), ("OGG", "VORBIS"),
    ("OGG", "OPUS"), ("MP3", "MPEG_LAYER_III"), ("AIFF", "PCM_16"), ("AU", "ALAW"),
    ("CAF", "ALAC_16"), ("W64", "PCM_32"), ("RF64", "FLOAT"),
]  # fmt: skip
ENCODERS = {"VORBIS", "OPUS", "MPEG_LAYER_III", "ALAC_16"}
RATES = st.one_of(
    st.sampled_from([1, 8, 100, 4000, 8000, 11025, 16000, 22050, 44100, 48000, 96000, 384000]),
    st.integers(1, 200_000),
)
NAMES = st.sampled_from(
    ["q.wav", "question.mp3", "-starts with a dash.ogg", "spaces and ünïcode ✓.flac", "noext",
     "wrong extension.png", ".hidden.wav", "a" * 200 + ".wav"]
)  # fmt: skip


def _signal(kind: str, frames: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "silence":
        return np.zeros((frames, channels), np.float32)
    if kind == "noise":
        return (rng.standard_normal((frames, channels)) * 0.3).astype(np.float32)
    if kind == "clipped":  # a square wave far past full scale
        wave = np.sign(np.sin(np.arange(frames) / 7.0))[:, None] * 4.0
        return np.repeat(wave, channels, axis=1).astype(np.float32)
    if kind == "nan":
        out = rng.standard_normal((frames, channels)).astype(np.float32)
        out[:: max(1, frames // 10)] = np.nan
        out[1 :: max(1, frames // 7)] = np.inf
        return out
    return np.full((frames, channels), 0.9, np.float32)  # DC


@st.composite
def audio_files(draw) -> tuple[Blob, dict]:
    fmt, subtype = draw(st.sampled_from(CODECS))
    rate = draw(RATES)
    if subtype in ENCODERS:
        # libsndfile's Vorbis and ALAC encoders crash the process above ~200 kHz (the writer
        # here, not the reader under test): sane rates.
        rate = draw(st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000]))
    channels = draw(st.sampled_from([1, 1, 2, 3, 6, 8, 64]))
    seconds = draw(st.sampled_from([0.0, 0.0001, 0.01, 0.3, 1.0, 2.5]))
    frames = draw(st.one_of(st.integers(0, 5), st.just(int(rate * seconds))))
    kind = draw(st.sampled_from(["silence", "noise", "clipped", "nan", "dc"]))
    samples = _signal(kind, frames, channels, draw(st.integers(0, 2**16)))
    if subtype not in ("FLOAT", "DOUBLE"):
        # NaN is a float format's; libsndfile's µ-law and A-law encoders crash on it
        samples = np.nan_to_num(samples, posinf=1.0, neginf=-1.0)
    out = io.BytesIO()
    try:
        with sf.SoundFile(out, "w", rate, channels, format=fmt, subtype=subtype) as handle:
            for start in range(0, frames, 4096):  # blocks: libsndfile's Vorbis crashes on big ones
                handle.write(samples[start : start + 4096])
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError, AssertionError):
        assume(False)  # a rate or channel count this codec cannot write
    return Blob(out.getvalue()), {"format": f"{fmt}/{subtype}", "rate": rate, "frames": frames}


@st.composite
def damaged_audio(draw) -> tuple[Blob, bool]:
    data, _ = draw(audio_files())
    how = draw(st.sampled_from(["none", "truncate", "flip", "garbage", "header"]))
    if how == "none":
        return data, False
    if how == "truncate":
        return Blob(data[: draw(st.integers(0, max(0, len(data) - 1)))]), True
    if how == "flip":
        buffer = bytearray(data)
        for _ in range(draw(st.integers(1, 12))):
            if buffer:
                buffer[draw(st.integers(0, len(buffer) - 1))] = draw(st.integers(0, 255))
        return Blob(buffer), True
    if how == "header":  # a known header in front of something else
        head = draw(st.sampled_from([b"RIFF\xff\xff\xff\xffWAVEfmt ", b"fLaC", b"OggS", b"ID3"]))
        return Blob(head + draw(st.binary(max_size=512))), True
    return Blob(draw(st.binary(max_size=4096))), True


def _check_audio(audio: np.ndarray) -> None:
    assert audio.dtype == np.float32 and audio.ndim == 1 and audio.size > 0
    assert np.isfinite(audio).all() and float(np.abs(audio).max()) <= 1.0
    assert audio.size <= MAX_INPUT_SECONDS * SPEECH_RATE


@fuzz(40)
@given(audio_files(), NAMES)
@counted
def test_a_written_audio_file_is_read_at_16khz_mono(tmp_path, case, name) -> None:
    data, meta = case
    path = tmp_path / name
    path.write_bytes(data)
    audio = expect_clear(lambda: load_audio(path), AudioInputError)
    if audio is None:
        return
    _check_audio(audio)
    # Codecs pad to whole blocks (IMA ADPCM 505 samples, MP3 1152, Opus 20 ms...).
    padded = (meta["frames"] + 4096) / meta["rate"] * SPEECH_RATE
    assert audio.size <= 1.1 * padded + 0.2 * SPEECH_RATE, meta
    speech = expect_clear(lambda: trim_silence(audio), NoSpeechError)
    if speech is not None:
        assert 0 < speech.size <= audio.size


@fuzz(80)
@given(damaged_audio())
@example((Blob(b"RIFF\x00\x00\x00\x00WAVE"), True))
@example((Blob(b"\x00"), True))
@counted
def test_damaged_audio_gives_a_clear_error(tmp_path, case) -> None:
    data, _ = case
    path = tmp_path / "question.wav"
    path.write_bytes(data)
    audio = expect_clear(lambda: load_audio(path), AudioInputError)
    if audio is not None:
        _check_audio(audio)


@pytest.fixture(scope="module")
def hours_of_silence() -> bytes:
    """Three hours of silence at 8 kHz as FLAC: 270 kB on disk, 690 MB as 16 kHz floats."""
    out = io.BytesIO()
    minute = np.zeros((8000 * 60, 1), np.int16)
    with sf.SoundFile(out, "w", 8000, 1, format="FLAC", subtype="PCM_16") as handle:
        for _ in range(180):
            handle.write(minute)
    return out.getvalue()


def _without_length(flac: bytes) -> bytes:
    """The FLAC with its STREAMINFO's total sample count set to 0 ("unknown")."""
    data = bytearray(flac)
    field = int.from_bytes(data[18:26], "big") & ~((1 << 36) - 1)
    data[18:26] = field.to_bytes(8, "big")
    return bytes(data)


@pytest.mark.parametrize("length_known", [True, False])
def test_hours_of_silence_are_refused_without_decoding_hours(
    tmp_path, hours_of_silence, length_known
) -> None:
    """Found by fuzzing: a FLAC without a length in its header was decoded whole before the
    length limit was checked (3 hours: over 1 GB of memory for a 270 kB file)."""
    path = tmp_path / "silence.flac"
    path.write_bytes(hours_of_silence if length_known else _without_length(hours_of_silence))
    tracemalloc.start()
    try:
        with pytest.raises(AudioInputError, match="too long") as caught:
            load_audio(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    check_clear(caught.value)
    limit_bytes = MAX_INPUT_SECONDS * SPEECH_RATE * 4
    assert peak < 2 * limit_bytes, f"{peak / 1e6:.0f} MB held while refusing it"


@fuzz(6)
@given(st.floats(0.05, 2 * MAX_INPUT_SECONDS), st.booleans())
@example(MAX_INPUT_SECONDS + 1, False)
@counted
def test_the_length_limit_holds_with_or_without_a_length_in_the_header(
    tmp_path, seconds, length_known
) -> None:
    out = io.BytesIO()
    sf.write(out, np.zeros(int(seconds * 8000), np.int16), 8000, format="FLAC")
    data = out.getvalue() if length_known else _without_length(out.getvalue())
    path = tmp_path / "turn.flac"
    path.write_bytes(data)
    if seconds > MAX_INPUT_SECONDS + 0.01:
        with pytest.raises(AudioInputError, match="too long"):
            load_audio(path)
    elif seconds < MAX_INPUT_SECONDS - 0.01:
        assert abs(load_audio(path).size - seconds * SPEECH_RATE) <= 2
