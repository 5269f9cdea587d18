"""Waiting for the console to catch up with the server, without sleeping a fixed time."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot

from console.screens.base import ResourceScreen
from console.widgets.resource_table import ResourceTable
from tests.waiting import POLL_SECONDS


async def until(pilot: Pilot, condition: Callable[[], object], what: str, *, tries: int = 300) -> None:
    """Lets the app run until `condition()` holds; fails naming `what` if it never does."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"the console never showed: {what}")


async def eventually(pilot: Pilot, probe: Callable[[], Awaitable[object]], what: str, *,
                     timeout: float = 60.0) -> None:
    """`until` for a condition only the server can answer (an API call, a worker's state): asked
    every POLL_SECONDS, the console running between the questions, up to `timeout` (a bound
    against a hang, as in tests/waiting.py)."""
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f}s for {what}")
        await pilot.pause(POLL_SECONDS)


async def settle(pilot: Pilot) -> None:
    """Lets every table of the screen apply its coalesced changes, then the app go idle."""
    await until(pilot, lambda: all(t.settled for t in pilot.app.screen.query(ResourceTable)), "the tables settled")
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


async def live(pilot: Pilot) -> None:
    await until(pilot, lambda: pilot.app.feed_state == "live", "the feed live")
    await pilot.pause()


def table_keys(pilot: Pilot) -> list[str]:
    """The rows shown by the topmost table screen (dialogs above it are looked through)."""
    screen = next(s for s in reversed(pilot.app.screen_stack) if isinstance(s, ResourceScreen))
    return screen.table.visible_keys
