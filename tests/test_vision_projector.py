"""The real multimodal path, end to end, without real vision weights.

No vision model can be downloaded here, so a LLaVA-1.5 projector with random weights is
written (tests/synthetic_projector.py) for the embedded text model, SmolLM2-135M. Everything
else is the product's own path: the model spec resolved from the models folder, the chat
handler made by ``make_chat_handler`` (llama-cpp-python's ``Llava15ChatHandler`` on libmtmd,
with the image-embedding cache), ``LocalLlm.stream_chat`` and ``Kernel.ask``. The words that
come back are meaningless; what is checked is that an image becomes the projector's patch
embeddings inside the prompt, and that a reply streams back.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.conftest import EVAL_DIR
from tests.synthetic_projector import patch_count, text_embedding_length, write_llava_projector
from vistavox.models.manifest import HubSource, ModelFile, ModelKind, ModelSpec
from vistavox.models.resolve import ModelError, ResolvedModel, resolve, resolve_default
from vistavox.pipelines.kernel.image_cache import EmbeddingCachingMtmd
from vistavox.pipelines.kernel.local_llm import LocalLlm
from vistavox.pipelines.kernel.vision import image_part, make_chat_handler, prepare_image

IMAGE_SIZE = 112  # 8 x 8 patches of 14 px: 64 image tokens
SAMPLE = EVAL_DIR / "sketches" / "samples" / "sample1.jpg"
# The LLaVA template puts the image right before the text. A question starting with a line
# break is tokenized the same with or without the image marker before it ("USER: What"
# would lose its " What" token to the split), so token counts compare exactly.
QUESTION = "\nWhat is in this picture?"


def _install(models_dir: Path, text_model: ResolvedModel, handler: str) -> ResolvedModel:
    """A vision model in the models folder, as the model manager leaves one: the embedded
    text GGUF beside a synthetic projector sized for it, resolved like any other model."""
    spec = ModelSpec(
        name=f"synthetic-{handler}",
        title=f"SmolLM2 with a synthetic projector ({handler})",
        kind=ModelKind.VISION,
        licence="test only",
        source=HubSource(repo_id="vistavox-tests/synthetic-projector"),
        files=(ModelFile(path="model.gguf"), ModelFile(path="mmproj.gguf")),
        chat_handler=handler,
        projector="mmproj.gguf",
        image_size=IMAGE_SIZE,
    )
    root = models_dir / spec.name
    root.mkdir()
    (root / "model.gguf").symlink_to(text_model.main_file)
    width = text_embedding_length(text_model.main_file)
    write_llava_projector(root / "mmproj.gguf", text_embd=width, image_size=IMAGE_SIZE)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("VISTAVOX_MODELS_DIR", str(models_dir))
        return resolve(spec)


@pytest.fixture(scope="module")
def text_model() -> ResolvedModel:
    return resolve_default(ModelKind.LLM)


@pytest.fixture(scope="module")
def vision_llm(tmp_path_factory, text_model) -> LocalLlm:
    model = _install(tmp_path_factory.mktemp("models"), text_model, "llava-1.5")
    return LocalLlm(model, chat_handler=make_chat_handler(model))


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    """A photo of a paper sketch from the evaluation set, or a drawn one without it."""
    if SAMPLE.is_file():
        return SAMPLE
    path = tmp_path_factory.mktemp("photo") / "sketch.png"
    image = Image.new("RGB", (640, 480), (60, 45, 35))
    draw = ImageDraw.Draw(image)
    draw.rectangle((80, 40, 560, 440), fill="white")
    draw.rectangle((120, 80, 520, 140), outline="black", width=4)
    draw.text((140, 90), "SIGN UP", fill="black", font_size=40)
    image.save(path)
    return path


def _question(*images: bytes, text: str = QUESTION) -> list[dict]:
    parts = [image_part(png) for png in images]
    return [{"role": "user", "content": [{"type": "text", "text": text}, *parts]}]


def _cache(llm: LocalLlm) -> EmbeddingCachingMtmd:
    cache = llm.chat_handler._mtmd_cpp
    assert isinstance(cache, EmbeddingCachingMtmd), "make_chat_handler did not add the cache"
    return cache


def _prompt_tokens(llm: LocalLlm, messages: list[dict]) -> int:
    """Tokens of the prompt llama.cpp evaluated (image chunks included), from the usage of
    a one-token completion (the streamed replies carry no usage)."""
    done = llm._llama.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)
    return done["usage"]["prompt_tokens"]


def test_an_image_goes_through_the_projector_and_a_reply_streams_back(vision_llm, photo):
    png = prepare_image(photo.read_bytes(), vision_llm.model_info.spec.image_size)
    with Image.open(io.BytesIO(png)) as im:
        assert im.size == (IMAGE_SIZE, IMAGE_SIZE)
    cache = _cache(vision_llm)
    encoded, reused = cache.encoded, cache.reused

    reply = "".join(vision_llm.stream_chat(_question(png), max_tokens=16, temperature=0.0))
    assert reply.strip()
    # The handler ran the vision encoder on this image once, and kept its embeddings: one
    # row per patch, as wide as the text model's token embeddings, all finite and not flat.
    assert (cache.encoded, cache.reused) == (encoded + 1, reused)
    stored = cache._cache[hashlib.sha256(png).hexdigest().encode()]
    embeddings = np.ctypeslib.as_array(stored)
    width = vision_llm._llama.n_embd()
    assert embeddings.shape == (patch_count(IMAGE_SIZE) * width,)
    assert np.isfinite(embeddings).all() and embeddings.std() > 0

    # A follow-up question about the same picture decodes the stored embeddings instead.
    again = _question(png, text="\nAnd what colour is it?")
    reply = "".join(vision_llm.stream_chat(again, max_tokens=16, temperature=0.0))
    assert reply.strip()
    assert (cache.encoded, cache.reused) == (encoded + 1, reused + 1)


def test_each_image_adds_the_projectors_patch_count_to_the_prompt(vision_llm, photo):
    png = prepare_image(photo.read_bytes(), IMAGE_SIZE)
    none = _prompt_tokens(vision_llm, _question())
    one = _prompt_tokens(vision_llm, _question(png))
    two = _prompt_tokens(vision_llm, _question(png, png))
    assert one - none == patch_count(IMAGE_SIZE) == 64
    assert two - one == patch_count(IMAGE_SIZE)


def test_the_kernel_shows_an_attached_image_to_the_vision_model(vision_llm, photo, tmp_path):
    from vistavox.pipelines.kernel.kernel import Kernel
    from vistavox.pipelines.kernel.personas import load_persona
    from vistavox.pipelines.kernel.store import Store

    persona = load_persona("assistant").model_copy(update={"temperature": 0.0})
    cache = _cache(vision_llm)
    embedded = cache.encoded + cache.reused
    with Store(tmp_path / "kernel.db") as store:
        kernel = Kernel(vision_llm, store, persona)
        reply = kernel.ask("What is in this picture?", images=[photo])
        user = store.messages(reply.conversation_id)[0]
    assert reply.text.strip()
    assert len(user.image_hashes) == 1
    assert "it follows" in user.content  # the vision branch of Kernel._describe_image
    # The picture reached the projector (encoded, or reused when an earlier test already
    # encoded the same prepared image).
    assert cache.encoded + cache.reused > embedded


def test_a_text_only_chat_template_given_images_gets_a_clear_error(
    tmp_path_factory, text_model, photo
):
    """The generic mtmd handler renders the GGUF's own chat template; SmolLM2's concatenates
    message['content'] as a string, so a list of parts (text and image) breaks it."""
    model = _install(tmp_path_factory.mktemp("models"), text_model, "mtmd")
    llm = LocalLlm(model, chat_handler=make_chat_handler(model))
    messages = _question(prepare_image(photo.read_bytes(), IMAGE_SIZE))
    # What llama-cpp-python itself raises:
    with pytest.raises(TypeError, match=r"can only concatenate str \(not \"list\"\) to str"):
        llm._llama.create_chat_completion(messages=messages, max_tokens=1)
    with pytest.raises(ModelError, match="its chat template cannot take images") as caught:
        list(llm.stream_chat(messages, max_tokens=4))
    assert model.spec.title in str(caught.value)
    assert "choose a vision model whose GGUF has a vision chat template" in str(caught.value)
    # Plain text through the same handler and template still works.
    hello = [{"role": "user", "content": "Hello!"}]
    assert "".join(llm.stream_chat(hello, max_tokens=4, temperature=0.0)).strip()


def test_other_type_errors_of_a_handler_are_not_taken_for_the_template(text_model, photo):
    def broken_handler(**kwargs):
        raise TypeError('can only concatenate str (not "list") to str')

    llm = LocalLlm(text_model, chat_handler=broken_handler)
    messages = _question(prepare_image(photo.read_bytes(), IMAGE_SIZE))
    with pytest.raises(TypeError, match="can only concatenate"):
        list(llm.stream_chat(messages, max_tokens=4))
