"""Consuming with a group and committing its positions, through the environment's consumer
members (backend/streams/members.py holds the model): what the consume and commit routes answer."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from backend.environments.models import KafkaConnectionSpec
from backend.streams.clients import KafkaClients
from backend.streams.errors import CONFLICT, CONSUMER_GROUP_NOT_FOUND, EventApiError
from backend.streams.groups import check_offsets, commit_inactive
from backend.streams.member import Start
from backend.streams.members import MemberPool
from backend.streams.models import CommitOffset, Committed, ConsumeAnswer, ConsumeMetadata
from backend.streams.records import iso_ms


async def member_pool(clients: KafkaClients, spec: KafkaConnectionSpec, ttl_seconds: float) -> MemberPool:
    # off the loop: a changed connection closes the old members first (each leaves its group)
    return await asyncio.to_thread(clients.part, spec, "members", lambda s: MemberPool(s, ttl_seconds))


async def consume(pool: MemberPool, stream: str, group: str, start: Start, limit: int,
                  timeout_ms: int) -> ConsumeAnswer:
    member = await pool.acquire(group, stream, start)
    try:
        events = await member.pull(limit, timeout_ms / 1000)
        positions = member.positions()
    finally:
        pool.release(member)
    return ConsumeAnswer(events=events, metadata=ConsumeMetadata(
        consumerGroup=group,
        lag=positions.lag,
        nextOffset=events[-1].offset + 1 if events else None,
        nextOffsets={str(p): offset for p, offset in positions.next_offsets.items()},
        expiresAt=iso_ms(int((time.time() + pool.ttl_seconds) * 1000)),
        partitions=positions.partitions,
    ))


async def commit(pool: MemberPool, clients: KafkaClients, group: str,
                 offsets: list[CommitOffset] | None) -> Committed:
    """No offsets: the positions of the agent's members of the group. Offsets: through the
    agent's member of each stream when it holds the group (which moves the member there too),
    else set on the inactive group (refused while it has members: 1008)."""
    members = {m.stream: m for m in pool.of_group(group)}
    if offsets is None:
        if not members:
            raise EventApiError(CONSUMER_GROUP_NOT_FOUND, f"The agent holds no member of group {group!r}, so it has "
                                                          "no positions to commit: name the offsets.",
                                field="consumerGroup")
        committed = []
        for stream, member in members.items():
            positions = await member.commit(None)
            committed += [CommitOffset(stream=stream, partition=p, offset=o) for p, o in sorted(positions.items())]
        return Committed(committedOffsets=committed)
    if not offsets:
        raise EventApiError.bad("offsets", "name at least one offset to commit (or send no body)")
    if not members:
        return await asyncio.to_thread(commit_inactive, clients, pool.spec, group, offsets)
    by_stream: dict[str, dict[int, int]] = defaultdict(dict)
    for entry in offsets:
        by_stream[entry.stream][entry.partition] = entry.offset
    others = sorted(set(by_stream) - set(members))
    if others:
        raise EventApiError(CONFLICT, f"The group has members (the agent's, on {', '.join(sorted(members))}); "
                                      f"commit offsets of those streams only, not of {', '.join(others)}, or wait "
                                      "until its members expire.", field="offsets")
    # As on an inactive group: Kafka takes an offset past the log end (the group then skips
    # records written up to there) and answers an unknown partition with a 502.
    await asyncio.to_thread(check_offsets, clients, pool.spec, offsets)
    for stream, wanted in by_stream.items():
        await members[stream].commit(wanted)
    return Committed(committedOffsets=offsets)
