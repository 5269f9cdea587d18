"""Server-Sent Events over the change feed (DESIGN §5): `event: <kind>.<verb>`, `id: <sequence>`,
JSON `data`, a `: ping` comment while idle, and `Last-Event-ID` replay with a `resync` event
when the client is too far behind."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from backend.feed import ChangeFeed, Event, Resync

Render = Callable[[Event], dict[str, Any]]


def _frame(event_id: int, name: str, data: dict[str, Any]) -> bytes:
    return f"id: {event_id}\nevent: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def event_frame(event: Event, render: Render) -> bytes:
    """The event's frame as `render` shows it, rendered once however many clients stream it."""
    frame = event.rendered.get(render)
    if frame is None:
        frame = event.rendered[render] = _frame(event.id, event.name, render(event))
    return frame


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id", "").strip()
    return int(raw) if raw.isdigit() else None


def sse_response(
    request: Request, feed: ChangeFeed, kinds: set[str], render: Render, ping_seconds: float
) -> StreamingResponse:
    """Streams the feed's events of `kinds`, each rendered to its public JSON by `render`."""

    async def stream() -> AsyncIterator[bytes]:
        last_event_id = _last_event_id(request)
        try:
            subscription, missed = feed.subscribe(last_event_id)
            # Until the replay below is through, the client's own position is where it resumes.
            resume_from = subscription.position if last_event_id is None else last_event_id
        except Resync:
            subscription, missed = feed.subscribe(None)
            resume_from = subscription.position
            yield _frame(resume_from, "resync", {"reason": "Events were missed; fetch the current state again."})
        try:
            # Tells the client the stream is up and gives it an id to resume from.
            yield _frame(resume_from, "ready", {})
            for event in missed:
                if event.change.kind in kinds:
                    yield event_frame(event, render)
            while True:
                try:
                    event = await asyncio.wait_for(subscription.queue.get(), timeout=ping_seconds)
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                if event.change.kind in kinds:
                    yield event_frame(event, render)
        finally:
            subscription.close()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
