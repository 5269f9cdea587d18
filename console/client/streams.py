"""The stream (topic) calls of the console: seed 004's create, describe and delete, and its
additions (the paged list, a stream's offsets, the consumer groups reading a stream), through
HQ's proxy to the environment's agent, parsed into `backend.streams.models`. It hangs off the
HQ client as `client.streams`."""

from __future__ import annotations

from dataclasses import dataclass

from backend.streams.models import (
    MAX_LIST_LIMIT,
    GroupList,
    GroupSummary,
    StreamCreate,
    StreamDeleted,
    StreamDescription,
    StreamList,
    StreamOffsets,
    StreamSummary,
)
from console.client.event_api import EventAPIClient, events_path

# A cluster of 50,000 topics is five pages; a bound so that a server whose `next` never ends
# cannot hold the screen in a loop.
MAX_PAGES = 64


@dataclass(frozen=True)
class StreamListing:
    """An environment's streams by name; `last_event_id` is its stream feed's position when the
    first page was read (None: the agent did not say)."""

    items: list[StreamSummary]
    total: int
    last_event_id: int | None


class StreamsClient(EventAPIClient):
    async def list(self, environment: str) -> StreamListing:
        """Every stream, internal ones included, page after page (one call up to MAX_LIST_LIMIT streams)."""
        items: list[StreamSummary] = []
        # Internal topics too: the screen hides them itself, so that showing them is a key away.
        params: dict[str, str] = {"limit": str(MAX_LIST_LIMIT), "internal": "true"}
        last_event_id: int | None = None
        total = 0
        for page in range(MAX_PAGES):
            response = await self._call("GET", events_path(environment, "streams"), params=params)
            answer = StreamList.model_validate_json(response.content)
            if page == 0:  # the feed resumes from where the first page was read: later changes come live
                last = response.headers.get("x-last-event-id")
                last_event_id = int(last) if last and last.isdigit() else None
            items += answer.data
            total = answer.total
            if not answer.next:
                break
            params = {**params, "after": answer.next}
        return StreamListing(items, total, last_event_id)

    async def describe(self, environment: str, stream: str) -> StreamDescription:
        return await self._get(events_path(environment, "streams", stream), StreamDescription)

    async def create(self, environment: str, body: StreamCreate) -> StreamDescription:
        response = await self._call("POST", events_path(environment, "streams"), body=body)
        return StreamDescription.model_validate_json(response.content)

    async def delete(self, environment: str, stream: str) -> StreamDeleted:
        response = await self._call("DELETE", events_path(environment, "streams", stream))
        return StreamDeleted.model_validate_json(response.content)

    async def offsets(self, environment: str, stream: str, at: str | None = None) -> StreamOffsets:
        """Each partition's start and end offsets; with `at` (ISO 8601), the first offset at or after it."""
        params = {"at": at} if at else None
        return await self._get(events_path(environment, "streams", stream, "offsets"), StreamOffsets, params)

    async def groups_reading(self, environment: str, stream: str) -> list[GroupSummary]:
        """The consumer groups with a committed position on `stream` (a topic's detail shows them;
        the groups themselves are `client.groups`')."""
        answer = await self._get(events_path(environment, "consumers"), GroupList)
        return [group for group in answer.data if stream in group.streams]
