"""The consumer group calls of the console (`client.groups`): an environment's groups with their
lag, one group's partitions and members, the ranges of a stream's partitions (and its offsets at
a time) that an offsets editor checks against, and setting a group's committed offsets through
the seed's commit route. Answers are `backend.streams.models`; refusals `EventAPIError`s."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from backend.streams.models import (
    CommitOffset,
    CommitRequest,
    Committed,
    GroupDetail,
    GroupList,
    GroupSummary,
    StreamOffsets,
)
from console.client.event_api import EventAPIClient, events_path


@dataclass(frozen=True)
class GroupListing:
    """An environment's groups; `last_event_id` is its stream feed's position when they were read."""

    items: list[GroupSummary]
    last_event_id: int | None


class GroupsClient(EventAPIClient):
    async def list(self, environment: str) -> GroupListing:
        response = await self._call("GET", events_path(environment, "consumers"))
        last = response.headers.get("x-last-event-id")
        return GroupListing(GroupList.model_validate_json(response.content).data,
                            int(last) if last and last.isdigit() else None)

    async def describe(self, environment: str, group: str) -> GroupDetail:
        return await self._get(events_path(environment, "consumers", group), GroupDetail)

    async def stream_offsets(self, environment: str, stream: str, at: str | None = None) -> StreamOffsets:
        """Each partition's start and end offsets; with `at` (ISO 8601), the first offset at or after it."""
        return await self._get(events_path(environment, "streams", stream, "offsets"), StreamOffsets,
                               params={"at": at} if at else None)

    async def commit(self, environment: str, group: str, offsets: Iterable[CommitOffset]) -> Committed:
        """Sets the group's committed offsets, all in one request: the agent refuses (1008, 409)
        while the group has members, whose own commits would overwrite them."""
        body = CommitRequest(offsets=list(offsets))
        response = await self._call("POST", events_path(environment, "consumers", group, "commit"), body=body)
        return Committed.model_validate_json(response.content)
