"""Job kinds register a handler here: ``@handler("org.import") def run(job, progress): ...``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any, "Progress"], dict[str, Any]]
_handlers: dict[str, Handler] = {}


class Progress:
    """Reports progress. ``callback`` receives (done, total, stage)."""

    def __init__(self, callback: Callable[[int, int, str], None] | None = None, every: int = 200):
        self.callback = callback
        self.every = every
        self.done = 0
        self.total = 0
        self.stage = ""

    def start(self, stage: str, total: int) -> None:
        self.stage, self.total, self.done = stage, total, 0
        self._emit()

    def advance(self, n: int = 1) -> None:
        before = self.done
        self.done += n
        if self.done // self.every != before // self.every or self.done >= self.total:
            self._emit()

    def _emit(self) -> None:
        if self.callback is not None:
            self.callback(self.done, self.total, self.stage)


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return register


def get_handler(kind: str) -> Handler:
    return _handlers[kind]
