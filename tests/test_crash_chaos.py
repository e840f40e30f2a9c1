"""Crash at any moment, lose nothing (the short version of ``python -m tests.benchmarks
chaos``): the real app is killed with SIGKILL during a typed turn, a settings save, a
conversation delete with its undo and a sketch page save, with a fixed seed; after each
kill the database passes ``PRAGMA integrity_check`` and holds every acknowledged message,
the settings file is the old or the new one, and the app starts again cleanly with the
earlier conversations listed. See tests/crash_chaos.py."""

from __future__ import annotations

import pytest

from tests.crash_chaos import Chaos
from tests.desktop_rig import ScreenUnavailable, VirtualScreen
from tests.test_desktop_e2e import _sketch_photo

SEED = 27
# A turn first (so there is a conversation to delete), then one kill at each other moment.
MOMENTS = ("typed-turn", "delete-undo", "settings-save", "page-save", "typed-turn")


@pytest.fixture(scope="module")
def screen():
    try:
        display = VirtualScreen(name=None).start()
    except ScreenUnavailable as exc:
        pytest.skip(str(exc))
    yield display.name
    display.close()


def test_killing_the_app_at_any_moment_loses_nothing(screen, tmp_path):
    chaos = Chaos(screen, tmp_path / "home", SEED, sketch=_sketch_photo(tmp_path))
    for moment in MOMENTS:
        chaos.one_kill(moment)
    tally = chaos.finish()
    assert tally["problems"] == [], tally
    assert tally["kills"] == len(MOMENTS)
    assert tally["clean_restarts"] == len(MOMENTS)
