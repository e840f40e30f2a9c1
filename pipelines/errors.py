"""Errors a user can act on. Their message is shown as-is, without a traceback."""

from __future__ import annotations


class VistavoxError(Exception):
    """Base of the errors whose message tells the user what went wrong and what to do."""


class AudioInputError(VistavoxError):
    """An audio input cannot be used (missing, not audio, empty, too long)."""


class NoSpeechError(AudioInputError):
    """The audio holds no speech (silence or noise only)."""


class OutputPathError(VistavoxError):
    """An output file cannot be written."""
