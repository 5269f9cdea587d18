"""A small Server-Sent Events reader over an httpx streaming response, parsing lines itself
so that the tests see exactly what the server sent (comments included)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

# A safety net only: a stream that says nothing for this long fails the test instead of hanging it.
READ_TIMEOUT = 10.0


@dataclass(frozen=True)
class Frame:
    """One SSE block: an event (`event`, `id`, `data`) or a comment such as `: ping`."""

    event: str | None = None
    id: int | None = None
    data: Any = None
    comment: str | None = None


class EventStream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()

    def next_frame(self) -> Frame:
        fields: dict[str, str] = {}
        comment = None
        for line in self._lines:
            if not line:
                if fields or comment is not None:
                    return Frame(
                        event=fields.get("event"),
                        id=int(fields["id"]) if "id" in fields else None,
                        data=json.loads(fields["data"]) if "data" in fields else None,
                        comment=comment,
                    )
                continue
            if line.startswith(":"):
                comment = line[1:].strip()
                continue
            key, _, value = line.partition(":")
            fields[key] = value.removeprefix(" ")
        raise EOFError("the server closed the stream")

    def next_event(self) -> Frame:
        """The next frame that is an event, skipping pings."""
        while (frame := self.next_frame()).comment is not None:
            pass
        return frame

    def events_until_idle(self) -> list[Frame]:
        """Every event up to the first ping, which the server sends only once it has nothing else."""
        events = []
        while (frame := self.next_frame()).comment is None:
            events.append(frame)
        return events


@contextmanager
def live(client: httpx.Client, path: str = "/v1/environments/live/sse",
         last_event_id: int | str | bytes | None = None) -> Iterator[EventStream]:
    """`last_event_id` as bytes is sent as they are (a header value need not be ASCII)."""
    header = last_event_id if isinstance(last_event_id, bytes) else str(last_event_id)
    headers = {"Last-Event-ID": header} if last_event_id is not None else {}
    timeout = httpx.Timeout(READ_TIMEOUT)
    with client.stream("GET", path, headers=headers, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventStream(response)


@contextmanager
def live_and_ready(client: httpx.Client, path: str = "/v1/environments/live/sse",
                   last_event_id: int | str | None = None) -> Iterator[tuple[EventStream, Frame]]:
    """A live stream whose first frame was `ready` (so the server has subscribed)."""
    with live(client, path, last_event_id) as stream:
        ready = stream.next_event()
        assert ready.event == "ready", ready
        yield stream, ready
