"""A worker's log is private and its repeated lines are rate-limited
(backend/replicator/worker_log.py, backend/k2k/controller.py)."""

from __future__ import annotations

import logging
import stat

from backend.k2k.controller import open_worker_log
from backend.replicator.worker_log import RepeatFilter


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(message: str, *args: object, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("streamhq.worker.kafka", level, __file__, 1, message, args, None)


def refused(port: int, after_ms: int) -> logging.LogRecord:
    return record("127.0.0.1:%d/bootstrap: Connect failed: Connection refused (after %dms in state CONNECT)",
                  port, after_ms)


def test_a_line_passes_once_then_its_repeats_are_held_back_for_a_minute():
    clock = Clock()
    repeats = RepeatFilter(clock=clock)

    passed = [repeats.filter(refused(20_000 + n % 2, n)) for n in range(500)]

    assert passed == [True] + [False] * 499  # lines that differ only in their numbers are one kind
    assert repeats.held_back == 499


def test_the_first_repeat_after_a_minute_passes_and_says_how_many_were_held_back():
    clock = Clock()
    repeats = RepeatFilter(clock=clock)
    repeats.filter(refused(20_000, 0))
    for n in range(41):
        clock.now += 1
        repeats.filter(refused(20_000, n))

    clock.now += 60
    line = refused(20_000, 7)
    assert repeats.filter(line)
    assert line.getMessage().endswith("(after 7ms in state CONNECT) (repeated 41 times in the last 101 s)")
    assert not repeats.filter(refused(20_000, 8))  # a new minute has begun


def test_different_lines_and_levels_are_kinds_of_their_own():
    repeats = RepeatFilter(clock=Clock())

    assert repeats.filter(refused(20_000, 0))
    assert repeats.filter(record("authentication failed"))
    assert repeats.filter(record("authentication failed", level=logging.WARNING))
    assert repeats.held_back == 0


def test_the_workers_own_informational_lines_always_pass():
    repeats = RepeatFilter(clock=Clock())
    assigned = [logging.LogRecord("streamhq.worker", logging.INFO, __file__, 1, "assigned orders[0]@%d", (n,), None)
                for n in range(3)]

    assert [repeats.filter(line) for line in assigned] == [True, True, True]


def test_worker_logs_are_private_even_one_an_older_version_left_readable(tmp_path):
    new, old = tmp_path / "new.log", tmp_path / "old.log"
    old.write_bytes(b"from before\n")
    old.chmod(0o644)

    for path in (new, old):
        with open_worker_log(path) as log:
            log.write(b"a line\n")

    assert [stat.S_IMODE(p.stat().st_mode) for p in (new, old)] == [0o600, 0o600]
    assert old.read_bytes() == b"from before\na line\n"  # appended to, not replaced
