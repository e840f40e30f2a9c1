"""Real human recordings from ../shared/eval/speech are transcribed within a measured WER bound.

Measured with Whisper tiny.en int8, beam 1, on this 2-core CPU: corpus WER 0.060 over the
16 clips (worst clip 0.25: "old-sposed" / "10 meters" vs "ten metres"). OpenAI reports 5.6 %
for tiny.en on LibriSpeech test-clean, so a bound of 0.12 (twice what we measure) allows
int8 and CPU differences between machines, while a real regression (wrong sample rate,
lost audio, broken trimming or hallucination filtering) lands far above it.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import word_error_rate

CORPUS_WER_BOUND = 0.12
CLIP_WER_BOUND = 0.40


def _clips(eval_dir):
    with (eval_dir / "speech" / "transcripts.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def results(eval_dir, transcriber):
    from vistavox.pipelines.audio.files import load_audio

    rows = []
    for clip in _clips(eval_dir):
        audio = load_audio(eval_dir / "speech" / clip["file"])
        rows.append((clip["file"], clip["transcript"], transcriber.transcribe(audio).text))
    return rows


def test_corpus_word_error_rate_within_bound(results):
    assert len(results) >= 10
    wer = word_error_rate([r[1] for r in results], [r[2] for r in results])
    assert wer <= CORPUS_WER_BOUND, f"corpus WER {wer:.3f}"


def test_every_clip_is_mostly_right(results):
    for name, reference, heard in results:
        assert word_error_rate(reference, heard) <= CLIP_WER_BOUND, (name, reference, heard)
