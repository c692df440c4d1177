"""Exceptions raised by the engine."""

from __future__ import annotations


class EngineError(ValueError):
    """Invalid input to an engine function (bad matrix, bad settings, bad data)."""


class PackageError(EngineError):
    """A malformed JSON package; ``path`` names the offending JSON location (``$.a[0].b``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message
