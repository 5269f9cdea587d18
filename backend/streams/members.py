"""The consumer members behind `GET /api/v1/streams/{s}/events?consumerGroup=g` (the README's
"consumer model"): the agent is the group's single member per (group, stream), and HTTP calls
are pulls from it.

- A `Member` (backend/streams/member.py) is one `confluent_kafka.Consumer` (group.id = the group,
  no auto-commit, subscribed to the stream) owned by one thread, which polls into a bounded
  buffer whether or not anyone calls: a slow caller never stalls a rebalance.
- Concurrent callers of one (group, stream) share its records: each record is taken from the
  buffer by exactly one caller, under the member's lock.
- A first call waits (within its `timeout`) for the assignment and the first records instead of
  answering empty at once. `offset` says where a new member starts on partitions the group has
  no committed position for: `earliest`, `latest` or a number (every such partition seeks there;
  a number outside a partition's range is 1002). A member that exists keeps its positions.
- Positions between calls are the member's: the next offset it will hand out per partition.
  Nothing is committed unless a commit asks; an idle member is closed after the TTL without
  committing, so the group's positions stay as committed. Records handed out and not committed
  are read again by whoever holds the partition next (Kafka's at-least-once).
- On a rebalance the member drops the buffered records of the partitions it loses, so a record
  is never handed out by two members; a partition it keeps resumes where it was.
- Bounds: MAX_MEMBERS per environment (1005 beyond), a buffer of BUFFER_RECORDS / BUFFER_BYTES
  per member (past it the member pauses its partitions, and keeps polling)."""

from __future__ import annotations

import asyncio
import threading
import time

from backend.environments.models import KafkaConnectionSpec
from backend.streams.errors import QUOTA_EXCEEDED, TIMEOUT, EventApiError
from backend.streams.member import METADATA_SECONDS, Member, Start

MAX_MEMBERS = 32
DEFAULT_TTL_SECONDS = 60.0
READY_SECONDS = 3 * METADATA_SECONDS


class MemberPool:
    """The environment's members, one per (group, stream); closed members leave it."""

    def __init__(self, spec: KafkaConnectionSpec, ttl_seconds: float = DEFAULT_TTL_SECONDS,
                 capacity: int = MAX_MEMBERS) -> None:
        self.spec = spec
        self.ttl_seconds = ttl_seconds
        self.capacity = capacity
        self._lock = threading.Lock()
        self._members: dict[tuple[str, str], Member] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._members)

    async def acquire(self, group: str, stream: str, start: Start) -> Member:
        """The member of (group, stream), started if there is none; `release` it after the call."""
        with self._lock:
            member = self._members.get((group, stream))
            if member is None:
                if len(self._members) >= self.capacity:
                    raise EventApiError(QUOTA_EXCEEDED, f"The agent holds {self.capacity} consumer members, as many "
                                                        "as it takes; an idle one closes after "
                                                        f"{self.ttl_seconds:.0f} s.")
                member = self._members[(group, stream)] = Member(self.spec, group, stream, start, self._expire)
                member.start_polling()
            member.callers += 1
            member.last_used = time.monotonic()
        try:
            # its checks are bounded by METADATA_SECONDS each: this only catches a member that hangs
            await asyncio.wait_for(asyncio.wrap_future(member.ready), READY_SECONDS)
        except TimeoutError:
            self.release(member)
            raise EventApiError(TIMEOUT, f"The consumer member did not start within {READY_SECONDS:.0f} s.") from None
        except BaseException:
            self.release(member)
            raise
        return member

    def release(self, member: Member) -> None:
        with self._lock:
            member.callers -= 1
            member.last_used = time.monotonic()

    def of_group(self, group: str) -> list[Member]:
        with self._lock:
            return [m for (g, _), m in self._members.items() if g == group and not m.closed]

    def _expire(self, member: Member) -> bool:
        """Called by a member's thread: True when it is to close, idle past the TTL; a closed one
        leaves the pool."""
        with self._lock:
            idle = time.monotonic() - member.last_used > self.ttl_seconds and member.callers == 0
            if (idle or member.closed) and self._members.get((member.group, member.stream)) is member:
                del self._members[(member.group, member.stream)]
            return idle

    def close(self) -> None:
        with self._lock:
            members, self._members = list(self._members.values()), {}
        for member in members:
            member.close()
        for member in members:
            member.join()
