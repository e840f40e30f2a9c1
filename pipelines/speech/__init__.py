"""Speech: voice activity detection, speech-to-text and text-to-speech."""
