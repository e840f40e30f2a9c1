"""Vistavox desktop app: Qt views only (the logic lives in vistavox.pipelines)."""
