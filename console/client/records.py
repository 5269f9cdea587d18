"""`client.records`: publishing to a stream (one event, a batch) and tailing it, through HQ's
proxy to the environment's agent (backend/streams/tail_routes.py for the tail's frames).

`tail()` is an async iterator: a `TailReady` (where the tail starts), then a `TailRecords` per
poll, for as long as the caller iterates; leaving the loop (or cancelling its task) closes the
connection, which closes the agent's consumer. It does not reconnect: a tail that ends (the
stream was deleted, HQ went away) raises, and the screen says so and offers to start again
(a tail has no position to resume from that the user did not choose)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from httpx_sse import aconnect_sse
from pydantic import ValidationError

from backend.streams.models import (
    BatchPublish,
    BatchPublished,
    EventErrorBody,
    Published,
    PublishEvent,
    TailReady,
    TailRecords,
)
from console.client.errors import APIError, Unreachable
from console.client.event_api import EventAPIClient, EventAPIError, events_error, events_path

# The agent pings a quiet tail every 15 s: a connection silent for longer is dead.
TAIL_IDLE_SECONDS = 45.0
IDEMPOTENCY_HEADER = "Idempotency-Key"

TailFrame = TailReady | TailRecords


def read_tail_frame(event: str, data: str) -> TailFrame | None:
    """One SSE event of a tail; None for an event this console does not know (a newer agent's).
    `error` (the tail ended on a failure) raises it as an EventAPIError."""
    if event == "records":
        return TailRecords.model_validate_json(data)
    if event == "ready":
        return TailReady.model_validate_json(data)
    if event == "error":
        try:
            body = EventErrorBody.model_validate_json(data)
        except ValidationError:
            return None
        raise EventAPIError(200, body.description, [], body.code, body.message)
    return None


class RecordsClient(EventAPIClient):
    async def publish(self, environment: str, stream: str, event: PublishEvent, *,
                      idempotency_key: str | None = None) -> Published:
        headers = {IDEMPOTENCY_HEADER: idempotency_key} if idempotency_key else None
        answer = await self._call("POST", events_path(environment, "streams", stream, "events"), body=event,
                                  headers=headers)
        return Published.model_validate_json(answer.content)

    async def publish_batch(self, environment: str, stream: str, batch: BatchPublish) -> BatchPublished:
        answer = await self._call("POST", events_path(environment, "streams", stream, "events", "batch"), body=batch)
        return BatchPublished.model_validate_json(answer.content)

    async def tail(self, environment: str, stream: str, from_: str = "latest",
                   partition: int | None = None) -> AsyncIterator[TailFrame]:
        params: dict[str, str] = {"from": from_}
        if partition is not None:
            params["partition"] = str(partition)
        timeout = httpx.Timeout(10.0, read=TAIL_IDLE_SECONDS)
        path = events_path(environment, "streams", stream, "tail")
        try:
            async with aconnect_sse(self._hq.http, "GET", path, params=params, timeout=timeout) as source:
                if source.response.status_code != 200:
                    await source.response.aread()
                    raise events_error(source.response)
                async for message in source.aiter_sse():
                    frame = read_tail_frame(message.event, message.data)
                    if frame is not None:
                        yield frame
        except httpx.TransportError as exc:
            raise Unreachable(self._hq.server, str(exc) or type(exc).__name__) from exc
        raise APIError(200, f"The tail of {stream} ended: the agent closed it.")
