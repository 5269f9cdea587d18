"""What the tail screen keeps of a stream: the last RING_SIZE records as rows (each cell's text
made once, when the record arrives, not at every redraw), and the rate they arrive at.

The ring is the tail's only memory of records: a stream at any rate costs at most RING_SIZE
rows. Each row has a sequence number that only grows, so a view over the ring (the rows a
filter keeps, the rows on screen) can tell which rows the ring has let go (`oldest_seq`) and
which are new since it last looked (`since(seq)`) without comparing records."""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from backend.streams.models import ConsumedEvent

RING_SIZE = 5000
VALUE_CHARS = 400  # a value's one-line text is cut there: no screen is wider
HEADERS_SHOWN = 24  # characters of `name=value` shown for a record's headers
RATE_WINDOW_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class TailRow:
    seq: int
    event: ConsumedEvent
    fields: dict[str, Any]  # what a filter reads (backend.streams.predicates)
    time: str  # HH:MM:SS.mmm of the record's timestamp (UTC)
    key: str
    headers: str
    value: str  # one line: the value's compact JSON, or its text

    @classmethod
    def of(cls, seq: int, event: ConsumedEvent) -> TailRow:
        value = event.value if event.valueEncoding != "json" and isinstance(event.value, str) else \
            json.dumps(event.value, ensure_ascii=False, separators=(",", ":"))
        return cls(seq, event, dict(event), event.timestamp[11:23], _one_line(event.key or ""),
                   _headers(event.headers), _one_line(value)[:VALUE_CHARS])


def _one_line(text: str) -> str:
    return text.replace("\n", "⏎").replace("\r", "").replace("\t", " ")


def _headers(headers: dict[str, str]) -> str:
    if not headers:
        return ""
    text = ",".join(f"{name}={value}" for name, value in headers.items())
    return _one_line(text) if len(text) <= HEADERS_SHOWN else f"{len(headers)} hdr"


class RecordRing:
    """The last `size` records; `total_seen` counts every record ever added."""

    def __init__(self, size: int = RING_SIZE) -> None:
        self._rows: deque[TailRow] = deque(maxlen=size)
        self.total_seen = 0

    def add(self, events: Iterable[ConsumedEvent]) -> None:
        for event in events:
            self._rows.append(TailRow.of(self.total_seen, event))
            self.total_seen += 1

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[TailRow]:
        return iter(self._rows)

    @property
    def oldest_seq(self) -> int:
        """The sequence number of the oldest row kept (total_seen when the ring is empty)."""
        return self._rows[0].seq if self._rows else self.total_seen

    def since(self, seq: int) -> Iterator[TailRow]:
        """The rows whose sequence number is `seq` or more, oldest first."""
        skip = max(0, seq - self.oldest_seq)
        return islice(self._rows, skip, None)


class RateMeter:
    """Records per second over the last RATE_WINDOW_SECONDS."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._arrivals: deque[tuple[float, int]] = deque()

    def add(self, count: int) -> None:
        self._arrivals.append((self._clock(), count))

    def per_second(self) -> float:
        now = self._clock()
        while self._arrivals and self._arrivals[0][0] < now - RATE_WINDOW_SECONDS:
            self._arrivals.popleft()
        return sum(count for _, count in self._arrivals) / RATE_WINDOW_SECONDS
