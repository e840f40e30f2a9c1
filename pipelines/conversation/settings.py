"""How the conversation engine behaves: one settings object, shared by its stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..kernel.prompts import VOICE_SYSTEM_PROMPT
from ..speech.endpoint import EndpointSettings
from ..speech.wakeword import WakeWord


@dataclass
class EngineSettings:
    """How the conversation behaves."""

    hands_free: bool = True
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)
    barge_in: bool = True
    readapt_after_s: float = 2.0  # silence after which the hold-off applies again
    barge_in_holdoff_s: float = 0.5  # no barge-in while the assistant's first half second
    # of speech trains the echo canceller
    duck_s: float = 0.25  # how long playback holds for a possible barge-in
    echo_correlation: float = 0.8  # mic envelope following the speaker's this closely
    # is echo
    echo_gate_db: float = -45.0  # cancelled signal louder than this while the assistant
    # talks is the user, not echo (AEC3 leaves echo tens of dB below this)
    speculative: bool = True  # start work at a pause, before the endpoint is confirmed
    stream_reply: bool = True  # speak phrase by phrase while the reply is being written
    echo_cancellation: bool = True
    # Through speakers, speech over the assistant's voice pauses it and is taken as the
    # user only once its words are not the assistant's own (the acoustic checks can be
    # fooled by an echo path that changes under load).
    check_echo_words: bool = True
    echo_words_after_s: float = 3.0  # how long after playback its echo is still expected
    partial_every_s: float = 0.8
    preroll_s: float = 0.3
    system_prompt: str = VOICE_SYSTEM_PROMPT  # used when no kernel is given
    store_path: Path | None = None  # conversation database when no kernel is given
    # (None: a temporary one, removed at stop)
    level_every_s: float = 0.1
    wake_word: WakeWord | None = None  # if set, a turn starts only after it is heard
    wake_window_s: float = 8.0  # how long after the wake word speech is taken
    follow_up_s: float = 6.0  # ... and after a reply (a follow-up needs no wake word)
    wake_sound: bool = True  # a short chime when the word was said on its own
    history_turns: int = 32  # finished turns kept in memory (the store keeps them all)
