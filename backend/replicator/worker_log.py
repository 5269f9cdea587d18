"""A worker's log: its own lines and its Kafka clients', with repeats rate-limited.

While a cluster is unreachable librdkafka logs every refused connection of every client, a
line every few tens of milliseconds: about 40 KB/s per worker, for as long as the outage lasts.
Its log therefore goes through Python logging (the clients' `logger` setting) and a filter that
lets the first line of each kind through and then at most one a minute, saying how many it held
back, so a log grows with the number of distinct problems, not with their duration."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

# Where librdkafka's lines go (confluent-kafka passes them on when a client is polled).
client_log = logging.getLogger("streamhq.worker.kafka")

REPEAT_WINDOW_SECONDS = 60.0
# Distinct kinds of line remembered at once; the oldest is forgotten first (and let through again).
KINDS_REMEMBERED = 256

_NUMBERS = re.compile(r"\d+")


def kind_of(record: logging.LogRecord) -> tuple[str, int, str]:
    """Lines that differ only in their numbers (ports, durations, client ids) are one kind."""
    return record.name, record.levelno, _NUMBERS.sub("#", record.getMessage())


class RepeatFilter(logging.Filter):
    """Passes a line's first occurrence, then holds back repeats of its kind: the first one
    after `window` seconds passes with a count of those held back, and a new window starts.
    The worker's own informational lines (partitions assigned and revoked) always pass: they
    come with rebalances, not with an outage, and each one's numbers matter."""

    def __init__(self, window: float = REPEAT_WINDOW_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self._clock = clock
        self._windows: OrderedDict[tuple[str, int, str], tuple[float, int]] = OrderedDict()
        self._lock = threading.Lock()  # clients log from whichever thread polls them
        self.held_back = 0  # repeats not written, in all: a probe for tests and benchmarks

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING and not record.name.startswith(client_log.name):
            return True
        kind, now = kind_of(record), self._clock()
        with self._lock:
            window = self._windows.get(kind)
            if window is not None and now - window[0] < self.window:
                self._windows[kind] = (window[0], window[1] + 1)
                self.held_back += 1
                return False
            self._windows[kind] = (now, 0)
            self._windows.move_to_end(kind)
            if len(self._windows) > KINDS_REMEMBERED:
                self._windows.popitem(last=False)
        if window is not None and window[1]:
            record.msg, record.args = (f"{record.getMessage()} (repeated {window[1]} times in the last "
                                       f"{now - window[0]:.0f} s)"), None
        return True


def configure(worker_id: str) -> RepeatFilter:
    """The worker process's logging: one line per record on stderr (the controller's log file),
    repeats rate-limited. Returns the filter, whose `held_back` counts what it kept out."""
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {worker_id} %(levelname)s %(message)s")
    repeats = RepeatFilter()
    for handler in logging.getLogger().handlers:
        handler.addFilter(repeats)
    return repeats
