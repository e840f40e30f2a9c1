"""The engine, split into stages, still does what it did as one loop: the milestone events
of file-driven scenarios come in the order recorded before the split (tests/event_order.py)."""

from __future__ import annotations

import json

import pytest

from tests.event_order import GOLDEN, SCENARIOS, run


@pytest.fixture(scope="module")
def models():
    from vistavox.pipelines.voice_models import VoiceModels

    return VoiceModels.load_defaults()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_milestone_events_come_in_the_recorded_order(models, scenario, tmp_path):
    expected = json.loads((GOLDEN / f"{scenario}.json").read_text())
    assert run(models, scenario, tmp_path) == expected
