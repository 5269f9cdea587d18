"""One create at a time per connector name, in this agent.

A Connect worker checks "already exists" against the configuration it has read so far, so two
creates of one name that reach it together can both be answered 201, the later silently
replacing the earlier's configuration (seen on Kafka 4.3 with eight at once). Creates through
this agent wait for each other, so the second one finds the first written and is a 409."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

# A lock lives while a create holds or awaits it; the registry keeps no name for longer.
_locks: weakref.WeakValueDictionary[tuple[str, str, str], asyncio.Lock] = weakref.WeakValueDictionary()


@asynccontextmanager
async def one_create_at_a_time(environment: str, cluster: str, name: str) -> AsyncIterator[None]:
    key = (environment, cluster, name)
    lock = _locks.get(key)
    if lock is None:
        lock = _locks[key] = asyncio.Lock()
    async with lock:
        yield
