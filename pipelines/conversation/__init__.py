"""The real-time conversation engine, one job per module:

- ``capture``: microphone blocks → echo canceller → aligned raw and cancelled frames;
- ``gate``: how likely each frame is the user's speech, and why;
- ``listener``: turn-taking as a pure object (frames in, actions out);
- ``utterance``: the utterance's audio in its three forms, with prerolls;
- ``echo_judge``: the verdict on speech held as possible echo;
- ``turns``: a turn's life and the ``TurnBook`` (the lock, the one cancel path);
- ``stages``: the worker threads (transcribe, think, speak, playback notes);
- ``engine``: ``Conversation``, which wires them;
- ``voice_kernel``: the kernel that answers spoken turns.
"""

from .echo_judge import FOLLOWS_ECHO as _FOLLOWS_ECHO
from .engine import Conversation, HistoryEntry
from .settings import EngineSettings
from .turns import Phase, Suspicion, Turn, TurnBook
from .voice_kernel import scratch_voice_kernel, voice_kernel

__all__ = [
    "_FOLLOWS_ECHO",
    "Conversation",
    "EngineSettings",
    "HistoryEntry",
    "Phase",
    "Suspicion",
    "Turn",
    "TurnBook",
    "scratch_voice_kernel",
    "voice_kernel",
]
