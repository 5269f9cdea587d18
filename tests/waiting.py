"""Waiting in a test for something to happen, never for a fixed time: a fast machine goes on
at once, and a slow one gets as long as it needs up to a bound that only catches a hang."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.1  # how often the condition is asked again; it only costs CPU when shorter


def until(condition: Callable[[], T], timeout: float, message: str | Callable[[], str], *,
          every: float = POLL_SECONDS) -> T:
    """Returns `condition()`'s first truthy answer. `timeout` is an upper bound (generous: the
    machine is shared), not an expectation; past it the test fails with `message`, which may be
    a function for text that is only worth building then (a worker's log). A condition that
    itself blocks while it waits (a consumer's poll) is asked again at once with `every=0`."""
    deadline = time.monotonic() + timeout
    while True:
        answer = condition()
        if answer:
            return answer
        if time.monotonic() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"waited {timeout:.0f}s for {text}")
        if every:
            time.sleep(every)
