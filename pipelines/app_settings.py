"""The assistant's user settings, kept as JSON in the user's config folder.

Audio devices have their own file (``audio.devices.DeviceSettings``), shared with the
command line. A damaged settings file is set aside and defaults are used: a bad file never
stops the app from starting.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, Field, ValidationError

from .files import read_json, set_aside, write_atomic

_log = logging.getLogger(__name__)
BUILT_IN_LLM = "smollm2-135m-instruct"  # the embedded default (models/manifest.py)


def config_dir() -> Path:
    """The user's Vistavox config folder."""
    return Path(platformdirs.user_config_dir("vistavox"))


class AppSettings(BaseModel):
    """What the user chose in the settings dialog."""

    persona: str = "assistant"
    custom_instructions: str = Field(default="", max_length=4000)
    hands_free: bool = True
    # Start hands-free listening as soon as the models are loaded (chosen in the welcome).
    listen_on_start: bool = False
    welcomed: bool = False  # the welcome was shown (and finished or skipped)
    # 0 (hard to trigger) … 1 (hears whispers): mapped onto the VAD's start threshold.
    sensitivity: float = Field(default=0.5, ge=0.0, le=1.0)
    echo_cancellation: bool = True
    # Hands-free turns only after this word ("" = every sentence is a turn): a built-in one
    # ("alexa", "okay_nabu", "hey_jarvis", "hey_mycroft") or one the user trained
    # ("hey-vistavox"); see speech/wakeword.py. Its sensitivity: 0.5 is the measured
    # cut-off, 1 wakes most easily.
    wake_word: str = Field(default="", max_length=80, pattern=r"^[a-z0-9_-]*$")
    wake_sensitivity: float = Field(default=0.5, ge=0.0, le=1.0)
    speak_typed_replies: bool = False
    hide_window_for_screenshots: bool = True
    theme: Literal["system", "light", "dark"] = "system"
    llm_model: str = ""  # manifest name; "" = the embedded default
    stt_model: str = ""
    vision_model: str = ""  # "" = none: images are described by OCR
    tts_model: str = ""  # "" = the embedded voice
    # How fast the voice speaks: 1 is the voice's own pace, 1.25 a quarter faster.
    speech_rate: float = Field(default=1.0, ge=0.5, le=2.0)
    # Pages from sketches proof-read by the language model (misread words, title, accent):
    # "auto" does it when the model in use is bigger than the built-in one (or can see).
    refine_sketch_pages: Literal["auto", "on", "off"] = "auto"
    # Hosts, addresses or networks on this computer or its local network that web pages
    # may be read from (all others of those are refused: see pipelines/web/address.py).
    web_allow: list[str] = Field(default_factory=list, max_length=100)
    # Web search: the address of a SearXNG instance with its JSON format on ("" = no web
    # search; VISTAVOX_SEARCH_URL overrides it). See pipelines/web/search.py.
    search_url: str = Field(default="", max_length=2000)

    @property
    def refines_sketch_pages(self) -> bool:
        """Whether a page made from a sketch goes to the language model for proof-reading,
        as far as the settings tell (see ``refines_with``)."""
        return self.refines_with(self.llm_model or self.vision_model)

    def refines_with(self, model_name: str) -> bool:
        """The same, for the model actually in use ("" or the built-in one: not on auto)."""
        if self.refine_sketch_pages == "auto":
            return bool(model_name) and model_name != BUILT_IN_LLM
        return self.refine_sketch_pages == "on"

    @staticmethod
    def path() -> Path:
        return config_dir() / "settings.json"

    @classmethod
    def load(cls) -> AppSettings:
        """The saved settings, or defaults (a damaged file is renamed ``.damaged``)."""
        path = cls.path()
        try:
            return cls.model_validate(read_json(path))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, ValidationError) as exc:
            if path.is_file():
                set_aside(path, f"{exc}; defaults are used")
            else:
                _log.warning("settings file %s cannot be read (%s); using defaults", path, exc)
            return cls()

    def save(self) -> Path:
        """Write atomically (a crash mid-write keeps the previous file)."""
        path = self.path()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, self.model_dump_json(indent=2).encode("utf-8"))
        return path

    def start_threshold(self) -> float:
        """The VAD probability that starts a turn, from the sensitivity slider."""
        return round(0.8 - 0.6 * self.sensitivity, 3)
