"""Model files on disk: a downloaded model's files truncated, grown, bit-flipped, removed or
replaced by a folder must be refused by ``resolve`` with a ModelError that says how to get
the model again (by size at once, by SHA-256 with ``verify_hashes``); and a damaged GGUF
that reaches llama.cpp (some manifest entries have no size to check) must be refused with a
ModelError or load and generate, never kill the process (each load runs in a subprocess, so
a crash is seen as one)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import Blob, check_clear, counted, fuzz
from vistavox.models.manifest import HubSource, ModelFile, ModelKind, ModelSpec
from vistavox.models.resolve import ModelError, resolve, resolve_default


def _spec(contents: dict[str, bytes]) -> ModelSpec:
    return ModelSpec(
        name="fuzzed-model",
        title="Fuzzed model",
        kind=ModelKind.LLM,
        files=tuple(
            ModelFile(path=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
            for name, data in contents.items()
        ),
        licence="MIT",
        source=HubSource(repo_id="nobody/fuzzed-model"),
    )


@fuzz(80)
@given(
    st.binary(min_size=1, max_size=2048).map(Blob),
    st.sampled_from(["none", "truncate", "append", "flip", "remove", "folder", "empty"]),
    st.booleans(),
    st.data(),
)
@example(Blob(b"GGUF" + b"\0" * 60), "flip", True, None)
@counted
def test_a_changed_model_file_is_refused(tmp_path, monkeypatch, content, damage, verify, data):
    monkeypatch.setenv("VISTAVOX_MODELS_DIR", str(tmp_path / "models"))
    spec = _spec({"model.gguf": content, "config.json": b"{}"})
    root = tmp_path / "models" / spec.name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "config.json").write_bytes(b"{}")
    target = root / "model.gguf"
    changed = bytearray(content)
    draw = data.draw if data is not None else (lambda s: 0)
    if damage == "truncate":
        changed = changed[: draw(st.integers(0, len(content) - 1))]
    elif damage == "append":
        changed += b"\0"
    elif damage == "flip":
        at = draw(st.integers(0, len(content) - 1))
        changed[at] ^= 0x01 << draw(st.integers(0, 7))
    elif damage == "empty":
        changed = bytearray()
    if damage == "remove":
        pass
    elif damage == "folder":
        target.mkdir()
    else:
        target.write_bytes(bytes(changed))
    same_size = damage in ("none", "flip")
    try:
        resolved = resolve(spec, verify_hashes=verify)
    except ModelError as error:
        message = check_clear(error)
        assert damage != "none", message
        assert "vistavox models download" in message or "Reinstall" in message
        return
    assert same_size and (damage == "none" or not verify), f"{damage} was not noticed"
    assert resolved.main_file == target


_LOADER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from vistavox.models.manifest import ModelKind
    from vistavox.models.resolve import ModelError, ResolvedModel, resolve_default
    from vistavox.pipelines.kernel.local_llm import LlmSettings, LocalLlm

    spec = resolve_default(ModelKind.LLM).spec
    # As for the manifest's entries without a size or checksum: nothing stops the file early.
    files = tuple(f.model_copy(update={"size": None, "sha256": None}) for f in spec.files)
    spec = spec.model_copy(update={"files": files})
    try:
        llm = LocalLlm(ResolvedModel(spec, Path(sys.argv[1])), LlmSettings(context_tokens=128))
    except ModelError as error:
        print("refused:", error)
        sys.exit(0)
    try:
        reply = "".join(llm.stream_chat([{"role": "user", "content": "Hi"}], max_tokens=3))
    except (ModelError, ValueError, RuntimeError) as error:
        print("refused while generating:", type(error).__name__, error)
        sys.exit(0)
    print("loaded:", repr(reply))
    """
)


@pytest.fixture(scope="module")
def gguf():
    """The embedded language model's GGUF (98 MB)."""
    return resolve_default(ModelKind.LLM).main_file


@fuzz(3)
@given(st.sampled_from(["truncate", "header", "anywhere", "zeros"]), st.data())
@example("truncate", None)
@counted
def test_a_damaged_gguf_is_refused_or_loads_without_crashing(tmp_path, gguf, damage, data):
    """The header and metadata (tokenizer tables) fill the first ~4 MB; the rest is weights."""
    size = gguf.stat().st_size
    root = tmp_path / "model"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    target = root / gguf.name
    draw = data.draw if data is not None else (lambda s: 1_000_000)
    if damage == "truncate":
        keep = draw(st.one_of(st.integers(0, 4_000_000), st.integers(0, size - 1)))
        with gguf.open("rb") as source:
            target.write_bytes(source.read(keep))
    else:
        shutil.copyfile(gguf, target)
        where = st.integers(0, 4_000_000 if damage in ("header", "zeros") else size - 1)
        with target.open("r+b") as out:
            for _ in range(draw(st.integers(1, 8))):
                out.seek(draw(where))
                out.write(b"\0" * 64 if damage == "zeros" else bytes([draw(st.integers(0, 255))]))
    result = subprocess.run(
        [sys.executable, "-c", _LOADER, str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, (
        f"llama.cpp ended the process (exit {result.returncode}) on a {damage} GGUF:\n"
        f"{result.stderr[-1500:]}"
    )
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith(("refused:", "refused while generating:", "loaded:")), last
