"""Decoding common audio formats to 16 kHz mono; writing files that are never half-written."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
import soundfile as sf

from vistavox.pipelines.audio.files import SPEECH_RATE, load_audio, write_wav
from vistavox.pipelines.errors import AudioInputError, OutputPathError
from vistavox.pipelines.files import check_writable, write_atomic


def _tone(rate: int, seconds: float, channels: int = 1) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.4 * np.sin(2 * np.pi * 440 * t)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


@pytest.mark.parametrize(
    ("fmt", "subtype", "rate", "channels"),
    [
        ("WAV", "PCM_16", 44_100, 2),
        ("FLAC", "PCM_16", 48_000, 1),
        ("OGG", "VORBIS", 22_050, 2),
        ("MP3", "MPEG_LAYER_III", 44_100, 1),
    ],
)
def test_common_formats_decode_to_16k_mono(tmp_path, fmt, subtype, rate, channels):
    path = tmp_path / f"tone.{fmt.lower()}"
    sf.write(path, _tone(rate, 1.5, channels), rate, format=fmt, subtype=subtype)
    audio = load_audio(path)
    assert audio.ndim == 1 and audio.dtype == np.float32
    assert abs(audio.size / SPEECH_RATE - 1.5) < 0.1
    # The tone survives resampling: its energy sits at 440 Hz.
    spectrum = np.abs(np.fft.rfft(audio[:SPEECH_RATE]))
    assert abs(np.argmax(spectrum) - 440) <= 2


def test_overlong_audio_is_refused(tmp_path, monkeypatch):
    import vistavox.pipelines.audio.files as files

    monkeypatch.setattr(files, "MAX_INPUT_SECONDS", 2.0)
    path = tmp_path / "long.wav"
    sf.write(path, _tone(16_000, 3.0), 16_000)
    with pytest.raises(AudioInputError, match="too long"):
        load_audio(path)


def test_write_wav_round_trips(tmp_path):
    path = tmp_path / "out.wav"
    write_wav(path, _tone(22_050, 1.0).astype(np.float32), 22_050)
    data, rate = sf.read(path)
    assert rate == 22_050 and data.size == 22_050
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "answer.txt"
    path.write_text("the earlier answer")

    def disk_full(_fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OutputPathError, match="No space left"):
        write_atomic(path, b"new answer that does not fit")
    assert path.read_text() == "the earlier answer"
    assert [p.name for p in tmp_path.iterdir()] == ["answer.txt"], "no temporary file left"


def test_unwritable_destinations_are_caught_early(tmp_path):
    with pytest.raises(OutputPathError, match="does not exist"):
        check_writable(tmp_path / "missing" / "a.wav")
    with pytest.raises(OutputPathError, match="is a folder"):
        check_writable(tmp_path)
    assert check_writable(tmp_path / "fine.wav") == tmp_path / "fine.wav"
