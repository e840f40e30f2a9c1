"""Persona files (TOML in the user's config folder): any bytes (invalid UTF-8, arrays nested
thousands deep, wrong types, missing keys) give a persona or a PersonaError that names the
file; any persona name the settings may hold (slashes, ``..``, NUL) gives a persona or a
PersonaError; and a persona saved is read back the same, whatever its text holds (quotes,
backslashes, triple quotes, control characters, right-to-left and combining marks)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import Blob, counted, expect_clear, fuzz
from vistavox.pipelines.kernel import personas
from vistavox.pipelines.kernel.personas import Persona, PersonaError

TOML_PIECES = st.sampled_from(
    [
        'name = "mine"\n', 'title = "Mine"\n', 'system_prompt = """\nBe brief.\n"""\n',
        "temperature = 0.7\n", "temperature = nan\n", "temperature = 1e400\n",
        'tools = ["calculator"]\n', "tools = 5\n", 'voice = "x"\n', "name = 5\n",
        'name = "Not Valid!"\n', "[table]\n", "system_prompt = 1979-05-27T07:32:00Z\n",
        'title = """\n', "= broken\n", '"' * 7, "\\", "\x00", "\ufeff",
    ]
)  # fmt: skip
FILES = st.one_of(
    st.lists(TOML_PIECES, max_size=8).map(lambda parts: "".join(parts).encode()),
    st.binary(max_size=300),
    st.builds(lambda n: b"a = " + b"[" * n + b"]" * n, st.integers(1, 5000)),
    st.builds(lambda n: b"a = " + b"{b = " * n + b"1" + b"}" * n, st.integers(1, 5000)),
).map(Blob)


@pytest.fixture
def user_folder(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("personas")
    monkeypatch.setattr(personas, "user_personas_dir", lambda: folder)
    return folder


@fuzz(100)
@given(FILES)
@example(Blob(b'name = "mine"\ntitle = "\xff"\nsystem_prompt = "x"\n'))  # not UTF-8
@example(Blob(b"a = " + b"[" * 3000 + b"]" * 3000))  # RecursionError in tomllib
@counted
def test_any_persona_file_gives_a_persona_or_a_clear_error(user_folder, content):
    for old in user_folder.iterdir():
        old.unlink()
    (user_folder / "mine.toml").write_bytes(content)
    persona = expect_clear(lambda: personas.load_persona("mine"), PersonaError)
    assert persona is None or isinstance(persona, Persona)
    listed = personas.list_personas()  # a broken file is skipped, the shipped ones stay
    assert "assistant" in listed


@fuzz(60)
@given(st.text(max_size=40))
@example("../../../../etc/passwd")
@example("a\0b")
@example("")
@counted
def test_any_persona_name_gives_a_persona_or_a_clear_error(user_folder, name):
    persona = expect_clear(lambda: personas.load_persona(name), PersonaError)
    assert persona is None or persona.name == name


NAMES = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)


@fuzz(100)
@given(
    st.builds(
        Persona,
        name=NAMES,
        title=st.text(max_size=60),
        system_prompt=st.text(max_size=400),
        voice=st.text(max_size=30),
        tools=st.lists(st.text(max_size=20), max_size=4).map(tuple),
        temperature=st.floats(0.0, 2.0),
    )
)
@example(Persona(name="q", title='Say "hi"', system_prompt="C:\\Users\\me"))
@example(Persona(name="q", title="t", system_prompt='Quote: """ and \\d'))
@example(Persona(name="q", title="t\x7f", system_prompt="line\rcarriage"))
@counted
def test_a_saved_persona_is_read_back_the_same(user_folder, persona):
    for old in user_folder.iterdir():
        old.unlink()
    personas.save_persona(persona)
    loaded = personas.load_persona(persona.name)
    assert loaded == persona.model_copy(update={"system_prompt": persona.system_prompt.strip()})
