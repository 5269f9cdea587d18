"""`GET /api/v1/streams/{streamName}/tail` (an addition to seed 004): a stream's records as they
arrive, over Server-Sent Events, read with no consumer group (backend/streams/tail.py).

The stream says `event: ready` once the tail is placed (`data`: TailReady, where it starts on
each partition), then one `event: records` per poll (`data`: TailRecords), `: ping` while the
stream is quiet, and `event: error` (`data`: EventErrorBody) before it ends on a failure (the
stream was deleted). What is refused before the stream starts is an ordinary event API error."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from backend.agent.context import Context
from backend.streams.errors import error_responses
from backend.streams.models import MAX_PARTITIONS, STREAM_PATTERN
from backend.streams.routes import kafka_of
from backend.streams.tail import END, Tail, parse_from, ready_frame, tail_registry

router = APIRouter(prefix="/api/v1", tags=["Event API"])

TAIL_EVENTS = {200: {"description": "An endless event stream: `ready`, then `records` per poll (a `: ping` "
                                    "while the stream is quiet), `error` before it ends on a failure.",
                     "content": {"text/event-stream": {"schema": {
                         "type": "object", "required": ["event", "data"],
                         "properties": {"event": {"type": "string", "enum": ["ready", "records", "error"]},
                                        "data": {"type": "string", "contentMediaType": "application/json"}}}}}}}


class TailResponse(StreamingResponse):
    """The tail's frames; the tail is closed however the response ends, and as soon as the
    client disconnects (not at the next write, which may be a ping a while away)."""

    def __init__(self, tail: Tail, ping_seconds: float) -> None:
        super().__init__(_frames(tail, ping_seconds), media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.tail = tail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.create_task(self._close_on_disconnect(receive))
        try:
            await super().__call__(scope, receive, send)
        finally:
            watcher.cancel()
            self.tail.close()

    async def _close_on_disconnect(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass  # the request's (empty) body
        self.tail.close()


async def _frames(tail: Tail, ping_seconds: float) -> AsyncIterator[bytes]:
    yield ready_frame(tail.ready)
    while (frame := await tail.next_frame(ping_seconds)) is not END:
        yield b": ping\n\n" if frame is None else frame


@router.get("/streams/{streamName}/tail", response_class=StreamingResponse,
            responses={**TAIL_EVENTS, **error_responses(400, 404, 429, 502)},
            summary="Addition: a stream's records as they arrive (Server-Sent Events), with no consumer group",
            description="At most 16 tails per environment (QUOTA_EXCEEDED, 429). A tail never commits: it "
                        "moves no group's position. A slow client makes the tail fall behind, never lose records.")
async def tail_stream(
    context: Context,
    streamName: Annotated[str, Path(pattern=STREAM_PATTERN)],  # the seed's name
    from_: Annotated[str, Query(alias="from", max_length=64, description=(
        "`latest` (default), `earliest`, an offset (each partition from there; from its oldest record when "
        "retention took that one), or an ISO 8601 time, UTC without a zone (the first record at or after "
        "it)"))] = "latest",
    partition: Annotated[int | None, Query(ge=0, le=MAX_PARTITIONS, description="Only this partition")] = None,
) -> StreamingResponse:
    start = parse_from(from_)
    registry = tail_registry(context.kafka_clients, await kafka_of(context))
    tail = await asyncio.to_thread(registry.open, streamName, start, partition, asyncio.get_running_loop())
    return TailResponse(tail, context.sse_ping_seconds)
