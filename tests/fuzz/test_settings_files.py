"""The JSON files the app reads back from the user's config folder: the settings
(``AppSettings``), the audio devices (``DeviceSettings``), the tools' permissions and the web
sites allowed. Any content (wrong types, unknown keys, NaN, numbers of a thousand digits,
nesting 100 000 deep, invalid UTF-8, a folder in the file's place) must give working
settings; a damaged file is kept aside (``NAME.damaged``), never lost silently; and what is
saved is read back the same."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz import Blob, counted, fuzz
from vistavox.pipelines.app_settings import AppSettings
from vistavox.pipelines.audio.devices import DeviceSettings
from vistavox.pipelines.tools.permissions import load_permissions, save_permission
from vistavox.pipelines.tools.registry import Permission
from vistavox.pipelines.web.sites import SitePermissions

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = list(AppSettings.model_fields)


@st.composite
def settings_like(draw) -> dict:
    """A dict with some of the settings' own keys, each holding anything."""
    keys = draw(st.lists(st.sampled_from(FIELDS), max_size=6, unique=True))
    data = {key: draw(JSON_VALUES) for key in keys}
    data.update(draw(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=2)))
    return data


FILE_CONTENTS = st.one_of(
    settings_like().map(lambda d: json.dumps(d).encode()),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.builds(lambda depth: b"[" * depth + b"]" * depth, st.integers(1, 200_000)),
    st.builds(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth, st.integers(1, 200_000)),
    st.builds(lambda n: b'{"speech_rate": 1' + b"0" * n + b"}", st.integers(0, 5000)),
    st.sampled_from([b"", b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", b"{", b"null", b"NaN"]),
).map(Blob)


@pytest.fixture
def config(tmp_path_factory, monkeypatch) -> Path:
    """A fresh config folder for the whole test (each case writes its own files)."""
    root = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root))
    monkeypatch.setenv("VISTAVOX_CONFIG_DIR", str(root / "vistavox"))
    (root / "vistavox").mkdir()
    return root / "vistavox"


def _clear(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_dir():
            os.rmdir(path)
        else:
            path.unlink()


@fuzz(120)
@given(FILE_CONTENTS)
@example(Blob(b"[" * 100_000 + b"]" * 100_000))  # RecursionError in json.loads
@example(Blob(b"\xff\xfe"))  # not UTF-8
@counted
def test_any_settings_file_gives_working_settings(config, content):
    _clear(config)
    path = AppSettings.path()
    path.write_bytes(content)
    settings = AppSettings.load()
    assert isinstance(settings, AppSettings)
    damaged = path.with_suffix(".json.damaged")
    if damaged.exists():  # set aside, byte for byte, and defaults used
        assert damaged.read_bytes() == content and not path.exists()
        assert settings == AppSettings()
    else:  # it was read: every value it had is the one in use
        assert path.read_bytes() == content
        stored = json.loads(content)
        for key in set(stored) & set(FIELDS):
            assert getattr(settings, key) == stored[key] or _same_number(
                getattr(settings, key), stored[key]
            )
    settings.save()
    assert AppSettings.load() == settings


def _same_number(a, b) -> bool:
    return isinstance(a, float) and isinstance(b, int | float) and math.isclose(a, b)


@fuzz(40)
@given(
    st.builds(
        AppSettings,
        custom_instructions=st.text(max_size=4000),
        persona=st.text(max_size=40),
        sensitivity=st.floats(0, 1),
        speech_rate=st.floats(0.5, 2.0),
        web_allow=st.lists(st.text(max_size=30), max_size=5),
    )
)
@counted
def test_saved_settings_are_read_back_the_same(config, settings):
    _clear(config)
    settings.save()
    assert AppSettings.load() == settings


@fuzz(60)
@given(FILE_CONTENTS)
@example(Blob(b"[1, 2]"))  # a list, not an object: .get failed
@example(Blob(b"[" * 100_000 + b"]" * 100_000))
@counted
def test_any_device_file_gives_device_names(config, content):
    _clear(config)
    (config / "audio-devices.json").write_bytes(content)
    devices = DeviceSettings.load()
    assert isinstance(devices.input, str) and isinstance(devices.output, str)
    assert devices.input and devices.output


@fuzz(60)
@given(FILE_CONTENTS, st.text(max_size=20), st.text(max_size=20), st.sampled_from(list(Permission)))
@example(Blob(b'{"assistant": [1]}'), "assistant", "python", Permission.ALLOW)
@example(Blob(b'{"assistant": "allow"}'), "assistant", "python", Permission.DENY)
@example(Blob(b"[" * 100_000 + b"]" * 100_000), "assistant", "python", Permission.ASK)
@counted
def test_any_permission_file_gives_choices_and_saving_keeps_them(
    config, content, persona, tool, permission
):
    _clear(config)
    path = config / "tool-permissions.json"
    path.write_bytes(content)
    before = load_permissions(persona)
    assert all(isinstance(k, str) and isinstance(v, Permission) for k, v in before.items())
    save_permission(persona, tool, permission)
    after = load_permissions(persona)
    assert after[tool] is permission
    assert {k: v for k, v in after.items() if k != tool} == {
        k: v for k, v in before.items() if k != tool
    }, "saving one choice lost others"
    damaged = config / "tool-permissions.json.damaged"
    if damaged.exists():
        assert damaged.read_bytes() == content


@fuzz(60)
@given(FILE_CONTENTS, st.text(max_size=30))
@example(Blob(b'{"allowed": "example.com"}'), "a")  # a string is not a list of sites
@example(Blob(b'{"allowed": 5}'), "a")
@example(Blob(b'{"allowed": {"x": 1}}'), "x")
@counted
def test_any_sites_file_gives_allowed_sites(config, content, site):
    _clear(config)
    path = config / "web-sites.json"
    path.write_bytes(content)
    sites = SitePermissions(path)
    allowed = sites.allowed()
    assert all(isinstance(s, str) and s for s in allowed)
    try:
        stored = json.loads(content)
    except (ValueError, RecursionError):
        stored = None
    listed = stored.get("allowed") if isinstance(stored, dict) else None
    if not isinstance(listed, list):
        assert allowed == [], "sites allowed from a file without a list of them"
    if site:
        sites.allow(site)
        assert sites.allows(site)
        sites.forget(site)
        assert not sites.allows(site)
