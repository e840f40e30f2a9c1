"""Bundled data: sample audio, icons, styles and personas."""
