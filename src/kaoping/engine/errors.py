"""Exceptions raised by the engine; their messages are in Chinese (shown to organizers)."""

from __future__ import annotations


class EngineError(ValueError):
    """Invalid input to an engine function (bad matrix, bad settings, bad data)."""


class PackageError(EngineError):
    """A malformed JSON package.

    ``path`` names the offending JSON location (``$.indicators[3].rule.max``) and ``message``
    says in Chinese what is wrong there (``必须是数字``); ``str(exc)`` is ``path：message``.
    """

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}：{message}")
        self.path = path
        self.message = message
