"""Vistavox pipelines: audio, speech, kernel, tools and vision. No Qt imports here."""
