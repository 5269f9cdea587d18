"""Records written per second to each stream (`messagesPerSecond`), from the agent's consecutive
readings of the streams' message totals.

A stream's rate is the records written over the readings of the last `RATE_WINDOW_SECONDS`
(at least the last two readings, however far apart), divided by the time between the first and
the last of them: one slow round or a burst moves it a little, not from 0 to 10,000 and back, and
once writes stop it is exactly 0 after one window (no tail of ever-smaller figures to publish).
It is rounded to `RATE_DECIMALS`: float noise is not a change worth an event. Until a stream has
two readings its rate is None (the list shows "not yet").

A stream's total is what its partitions hold (end - start offsets), which falls when retention
deletes a segment or the stream is emptied; only its rises count as written, so a deletion never
makes a rate negative (writes in the very reading that a deletion lands in are not counted).

One writer (the agent's round) updates; readers (the list route, on the event loop) get the
mapping of the last update, which is replaced whole and never changed in place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

RATE_WINDOW_SECONDS = 30.0
RATE_DECIMALS = 2


class WriteRates:
    def __init__(self, window_seconds: float = RATE_WINDOW_SECONDS) -> None:
        self.window_seconds = window_seconds
        self._totals: dict[str, int] = {}  # stream -> its last total
        self._written: dict[str, deque[tuple[float, int]]] = {}  # stream -> (when, records written by then)
        self._rates: Mapping[str, float | None] = {}

    def update(self, totals: Mapping[str, int], at: float) -> Mapping[str, float | None]:
        """One reading of every stream's total, at `at` (monotonic): the rates of those streams;
        streams the reading does not name are forgotten."""
        rates: dict[str, float | None] = {}
        written_by_stream: dict[str, deque[tuple[float, int]]] = {}
        for stream, total in totals.items():
            readings = self._written.get(stream) or deque()
            written = readings[-1][1] + max(0, total - self._totals[stream]) if readings else 0
            readings.append((at, written))
            while len(readings) > 2 and readings[1][0] <= at - self.window_seconds:
                readings.popleft()
            written_by_stream[stream] = readings
            rates[stream] = _rate(readings)
        self._totals = dict(totals)
        self._written = written_by_stream
        self._rates = rates
        return rates

    def rates(self) -> Mapping[str, float | None]:
        """Each stream's rate at the last update."""
        return self._rates


def _rate(readings: deque[tuple[float, int]]) -> float | None:
    (first_at, first), (last_at, last) = readings[0], readings[-1]
    if last_at <= first_at:
        return None
    return round((last - first) / (last_at - first_at), RATE_DECIMALS)
