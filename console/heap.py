"""Keeping the garbage collector's full passes short in a long-running streamhq process.

A full collection walks every tracked object. After start-up that is some 100k-250k objects
(Textual, Rich, pydantic, FastAPI, the first screen's rows) that will live as long as the
process; walking them costs 100-200 ms on a small host, and at 50 live updates a second
CPython runs a full pass about once a second, so the pauses land on live figures and keys as
latency spikes. Frozen once start-up is over, they are out of the collector's sight."""

from __future__ import annotations

import gc

SETTLE_AFTER_SECONDS = 2.0  # start-up and the first paint are over; the user is reading


def hold() -> None:
    """No automatic collections until `settle`, which the console runs once its first screen is up."""
    gc.disable()


def settle() -> None:
    """Collects what start-up left behind, freezes everything still alive, and lets the
    collector run again."""
    gc.collect()
    gc.freeze()
    gc.enable()
