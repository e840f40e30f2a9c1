"""The welcome on first start: device checks, how to talk, suggested models; saved once."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt", reason="pytest-qt is not installed (pip install -e .[test])")


@pytest.fixture
def fresh_user(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))  # none downloaded
    return tmp_path


def test_a_new_user_is_offered_the_bigger_models_and_their_choice_is_saved(qtbot, fresh_user):
    from vistavox.desktop.welcome import Welcome
    from vistavox.pipelines.app_settings import AppSettings

    settings = AppSettings.load()
    assert not settings.welcomed and not settings.listen_on_start
    opened = []
    dialog = Welcome(settings, lambda: opened.append(True))
    qtbot.addWidget(dialog)
    text = dialog.models_text.text()
    assert "Qwen2.5-Coder 1.5B" in text and "1.12 GB" in text
    assert dialog.push_to_talk.isChecked()  # the quiet choice until the user picks
    dialog.choose_models.click()
    assert opened == [True]
    dialog.hands_free.setChecked(True)
    assert dialog.apply() == {"listen_on_start", "welcomed"}
    again = AppSettings.load()
    assert again.welcomed and again.listen_on_start


def test_skipping_changes_nothing_but_is_not_asked_again(qtbot, fresh_user):
    from vistavox.desktop.welcome import Welcome
    from vistavox.pipelines.app_settings import AppSettings

    dialog = Welcome(AppSettings.load(), lambda: None)
    qtbot.addWidget(dialog)
    dialog.hands_free.setChecked(True)
    dialog.skipped()
    again = AppSettings.load()
    assert again.welcomed and not again.listen_on_start


def test_installed_recommended_models_are_not_offered_again(qtbot, fresh_user, monkeypatch):
    from tests.conftest import USER_MODELS_DIR
    from vistavox.desktop.welcome import suggestions
    from vistavox.models.resolve import ModelError, resolve
    from vistavox.pipelines.app_settings import AppSettings

    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(USER_MODELS_DIR))
    try:
        resolve("qwen2.5-coder-1.5b-instruct")
    except ModelError:
        pytest.skip("Qwen2.5-Coder 1.5B is not here (packaging/setup.sh run installs it)")
    offered = [info.name for info in suggestions(AppSettings())]
    assert "qwen2.5-coder-1.5b-instruct" not in offered
