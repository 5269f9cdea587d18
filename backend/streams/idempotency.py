"""`Idempotency-Key` on a publish: a retried request (same key, same body, within the window)
answers the first result again instead of writing twice. HTTP clients retry on a lost answer,
and no event API they come from offers this.

- The key is at most 255 printable ASCII characters (else 1000 naming the header).
- Same key and same fingerprint (the route and the body's hash) within WINDOW_SECONDS: the
  first answer, status and body, and nothing is written. The same key for another body: 1008.
- A duplicate that arrives while the first is still publishing waits for its answer.
- At most CAPACITY keys per environment, the least recently used forgotten first. A failure that
  wrote nothing (an unknown stream, a cluster that did not answer) is not kept, nor a request
  that gave no answer (it failed inside the agent, or its client went away): a retry publishes.

One cache per environment lives on the agent context; it is used from the event loop only."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from backend.streams.errors import CONFLICT, EventApiError
from backend.streams.models import MAX_IDEMPOTENCY_KEY

HEADER = "Idempotency-Key"
WINDOW_SECONDS = 600.0
CAPACITY = 10_000
_PRINTABLE = re.compile(rf"[\x20-\x7e]{{1,{MAX_IDEMPOTENCY_KEY}}}")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    @property
    def may_have_written(self) -> bool:
        """A success, or a timeout (the events may still be written): what a retry must not repeat.
        Any other failure wrote nothing, so a retry (say, once the stream exists) publishes."""
        return self.status < 300 or self.status == 504


@dataclass
class _Entry:
    fingerprint: str
    at: float
    answer: asyncio.Future[Answer]


def check_key(key: str | None) -> str | None:
    if key is not None and not _PRINTABLE.fullmatch(key):
        raise EventApiError.bad(HEADER, f"the header takes 1-{MAX_IDEMPOTENCY_KEY} printable ASCII characters")
    return key


def fingerprint(route: str, body: bytes) -> str:
    return hashlib.sha256(route.encode() + b"\n" + body).hexdigest()


class IdempotencyCache:
    def __init__(self, capacity: int = CAPACITY, window_seconds: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = capacity
        self.window_seconds = window_seconds
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def answer(self, key: str, print_: str, work: Callable[[], Awaitable[Answer]]) -> Answer:
        """`work()`'s answer, or the answer it gave for this key before."""
        while True:
            entry = self._live(key)
            if entry is None:
                return await self._first(key, print_, work)
            if entry.fingerprint != print_:
                raise EventApiError(CONFLICT, f"The {HEADER} {key!r} was used for another request within the last "
                                              f"{self.window_seconds / 60:.0f} minutes; use a new key for a new "
                                              "request.", field=HEADER)
            self._entries.move_to_end(key)
            try:
                return await asyncio.shield(entry.answer)
            except Exception:  # the first gave no answer: it is forgotten, and this one publishes
                continue

    def _live(self, key: str) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and self._clock() - entry.at >= self.window_seconds:
            del self._entries[key]
            return None
        return entry

    async def _first(self, key: str, print_: str, work: Callable[[], Awaitable[Answer]]) -> Answer:
        entry = _Entry(print_, self._clock(), asyncio.get_running_loop().create_future())
        self._entries[key] = entry
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        try:
            result = await work()
        except BaseException:
            if self._entries.get(key) is entry:
                del self._entries[key]
            entry.answer.set_exception(RuntimeError(f"the first request with {HEADER} {key!r} gave no answer"))
            entry.answer.exception()  # retrieved: with no duplicate waiting, asyncio would log it
            raise
        if not result.may_have_written and self._entries.get(key) is entry:
            del self._entries[key]
        entry.answer.set_result(result)
        return result
