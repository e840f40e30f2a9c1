"""A few minutes of the real desktop app used as a busy user would (tests/desktop_soak.py):
typed and spoken questions, calculator and python tool calls, a sketch made into a page
and edited, a screenshot asked about, a switch to an earlier conversation, delete + undo,
cycle after cycle. Every request is answered, no error is shown in the window, threads do
not pile up from cycle to cycle, and the app quits cleanly.

Speed and the memory trend are measured by ``python -m tests.benchmarks soak`` (an hour),
not asserted here."""

from __future__ import annotations

import pytest

from tests.conftest import ARTIFACTS, user_model
from tests.desktop_rig import App, ScreenUnavailable, VirtualScreen
from tests.desktop_soak import SOAK_LLM, Soak, models_dir, sketch_photos, soak_env

CYCLES = 3
# Threads the app may have more at rest after the last cycle than after the first: native
# pools (Qt WebEngine's, ONNX Runtime's) grow and shrink a little with the work. A thread
# left behind by a turn, a sketch, a tool call or a screenshot adds one or more per cycle.
THREAD_MARGIN = 3

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def screen():
    try:
        display = VirtualScreen(None).start()  # a free display: other runs may hold :87
    except ScreenUnavailable as exc:
        pytest.skip(str(exc))
    yield display.name
    display.close()


@pytest.fixture(scope="module")
def soak_models():
    """Where the tool-calling model is (the test setup fetches it), or a clean skip."""
    folder = models_dir()
    user_model(SOAK_LLM, folder)
    return folder


def test_cycles_of_mixed_use_are_all_answered_without_errors_or_piling_up_threads(
    screen, rig, eval_dir, soak_models, tmp_path
):
    from tests.desktop_soak import spoken_questions

    photos = sketch_photos(eval_dir)
    if not photos:
        pytest.skip(f"no sketch photos in {eval_dir / 'sketches' / 'samples'}")
    logs = ARTIFACTS / "soak"
    logs.mkdir(parents=True, exist_ok=True)
    env = soak_env(screen, tmp_path, SOAK_LLM, soak_models)
    app = App(env, tmp_path / "conversations.db", logs / "app-stderr.log")
    try:
        app.event("ModelsReady", timeout=400)
        soak = Soak(app, rig, photos, spoken_questions())
        soak.start()
        for _ in range(CYCLES):
            soak.run_cycle()
        log = soak.log
        assert not log.unanswered, [
            f"{r.what}: {r.text} ({r.problem or r.reply})" for r in log.unanswered
        ]
        assert len(log.requests) >= CYCLES * 9, [r.what for r in log.requests]  # none skipped
        assert not log.errors, log.errors
        first, last = log.cycles[0], log.cycles[-1]
        assert last.threads <= first.threads + THREAD_MARGIN, (
            f"threads at rest after each cycle: {[c.threads for c in log.cycles]}; Python's "
            f"after the first: {first.thread_names}, after the last: {last.thread_names}"
        )
        assert soak.quit() == 0, "the app did not quit cleanly"
    finally:
        if app.proc.poll() is None:
            app.proc.kill()
