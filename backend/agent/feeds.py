"""The agent's live feeds, each a ledger's `ChangeFeed` on the environment's `AgentContext` (the
connectors', the streams'), served alike: one `GET …/sse` route through `live_route`
(backend/sse.py) pinging at the context's interval, and the position dependency its lists stamp
their answers with, so list-then-follow misses nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from backend.agent.context import AgentContext, Context
from backend.feed import ChangeFeed
from backend.sse import FeedPosition, live_route, position_of, published_data


async def sse_ping_seconds(context: Context) -> float:
    return context.sse_ping_seconds


def agent_feed_route(router: APIRouter, path: str, kinds: set[str], summary: str,
                     feed_of: Callable[[AgentContext], ChangeFeed]) -> Any:
    """Adds `GET path` to `router`: the events of `kinds` on the context's feed `feed_of` names,
    as published. Answers the `Annotated[FeedPosition, …]` dependency of that feed's position."""

    async def feed(context: Context) -> ChangeFeed:
        return feed_of(context)

    live_route(router, path, kinds, published_data, summary, feed=feed, ping_seconds=sse_ping_seconds)
    return Annotated[FeedPosition, Depends(position_of(feed))]
