"""Server-Sent Events over the change feed (docs/architecture.md, the live-update path):
`event: <kind>.<verb>`, `id: <sequence>`, JSON `data`, a `: ping` comment while idle, and
`Last-Event-ID` replay with a `resync` event when the client is too far behind.

Every feed is served by `live_route`, and every list a feed follows stamps its answer with the
feed position it was read at (a `position_of(feed)` dependency), so a client that lists, then
resumes the feed from `X-Last-Event-ID`, misses nothing.

Any `ChangeFeed` can be streamed: a route names its feed and its ping interval as FastAPI
dependencies, so HQ's feed (backend/deps.py) and an agent's per-environment feeds (the
connectors', backend/connect/live_routes.py) are served alike, and this module depends on
neither app.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from backend.feed import ChangeFeed, Event, FellBehind, Resync
from backend.openapi import SSE_RESPONSE

Render = Callable[[Event], dict[str, Any]]
# FastAPI dependencies (any callable FastAPI can solve): the feed a route streams, and the
# seconds of silence after which it sends `: ping`.
FeedDependency = Callable[..., Any]
PingDependency = Callable[..., Any]
LAST_EVENT_HEADER = "X-Last-Event-ID"

FELL_BEHIND = "This client fell too far behind the events; fetch the current state again."


def _frame(event_id: int, name: str, data: dict[str, Any]) -> bytes:
    return f"id: {event_id}\nevent: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def published_data(event: Event) -> dict[str, Any]:
    """The render of a feed whose changes carry their public JSON already (the agent's ledgers')."""
    return event.change.data


def event_frame(event: Event, render: Render) -> bytes:
    """The event's frame as `render` shows it, rendered once however many clients stream it."""
    frame = event.rendered.get(render)
    if frame is None:
        frame = event.rendered[render] = _frame(event.id, event.name, render(event))
    return frame


# Event ids are 64-bit sequence numbers: no id this feed issues has more digits.
MAX_EVENT_ID_DIGITS = 19


def _last_event_id(request: Request) -> int | None:
    """The client's Last-Event-ID; Resync for a value that is no id of this feed (too long to be
    one, or not ASCII digits): the client is told to refetch, and nothing has to parse it."""
    raw = request.headers.get("last-event-id", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_EVENT_ID_DIGITS):
        raise Resync()
    return int(raw)


def _sse_response(
    request: Request, feed: ChangeFeed, kinds: set[str], render: Render, ping_seconds: float
) -> StreamingResponse:
    """Streams the feed's events of `kinds`, each rendered to its public JSON by `render`."""

    async def stream() -> AsyncIterator[bytes]:
        try:
            last_event_id = _last_event_id(request)
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
                    event = await asyncio.wait_for(subscription.next_event(), timeout=ping_seconds)
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                except FellBehind:
                    # The stream ends here; the client reconnects from this id once it has refetched.
                    yield _frame(subscription.dropped_at, "resync", {"reason": FELL_BEHIND})
                    return
                if event.change.kind in kinds:
                    yield event_frame(event, render)
        finally:
            subscription.close()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# The stream reads it from the request, so that a bad value is a resync rather than a 400: described here.
_LAST_EVENT_ID_PARAMETER = {"parameters": [{
    "name": "Last-Event-ID", "in": "header", "required": False, "schema": {"type": "string"},
    "description": "The id of the last event the client got: what it missed is sent first, or `resync` when "
                   "that is no longer known (or the value is no id of this feed).",
}]}


def live_route(router: APIRouter, path: str, kinds: set[str], render: Render, summary: str, *,
               feed: FeedDependency, ping_seconds: PingDependency) -> None:
    """Adds `GET path` to `router`: the events of `kinds` on the feed the dependency `feed`
    answers, each rendered by `render`, with a `: ping` after `ping_seconds` of silence."""

    # Dependencies as defaults, not `Annotated`: the annotations are strings (postponed), and
    # FastAPI resolves them in the module's globals, where these closures' arguments are not.
    async def live(request: Request, changes: ChangeFeed = Depends(feed),
                   ping: float = Depends(ping_seconds)) -> StreamingResponse:
        return _sse_response(request, changes, kinds, render, ping)

    router.add_api_route(path, live, methods=["GET"], response_class=StreamingResponse, responses=SSE_RESPONSE,
                         openapi_extra=_LAST_EVENT_ID_PARAMETER, summary=summary)


@dataclass(frozen=True)
class FeedPosition:
    """The feed's last id when the request began, before the route read anything."""

    last_id: int

    def stamp(self, response: Response) -> Response:
        """Tells the client where to resume the live feed from (`X-Last-Event-ID`)."""
        response.headers[LAST_EVENT_HEADER] = str(self.last_id)
        return response


def position_of(feed: FeedDependency) -> Callable[..., Any]:
    """A dependency answering the position of the feed the dependency `feed` answers, read
    before the route reads anything (take it as `Annotated[FeedPosition, Depends(...)]`)."""

    async def feed_position(changes: ChangeFeed = Depends(feed)) -> FeedPosition:
        return FeedPosition(changes.last_id)

    return feed_position
