"""The agent's live feed of an environment's connectors: `GET /api/kafka-connect/live/sse`
(`connector.created|updated|deleted`, payload = the connector's list item), served like HQ's
feeds (backend/sse.py: `Last-Event-ID` replay, `resync`, `: ping`) from the environment's
`ConnectorLedger` (backend/connect/live.py). The connector list stamps its answer with
`ConnectorFeedPositionDep`, so list-then-follow misses nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from backend.agent.context import Context
from backend.connect.live import FEED_KINDS
from backend.feed import ChangeFeed, Event
from backend.sse import FeedPosition, live_route, position_of

router = APIRouter(prefix="/api/kafka-connect", tags=["kafka-connect"])


async def connector_feed(context: Context) -> ChangeFeed:
    return context.connectors.feed


async def sse_ping_seconds(context: Context) -> float:
    return context.sse_ping_seconds


def render_change(event: Event) -> dict:
    return event.change.data  # already the list item's public JSON


ConnectorFeedPositionDep = Annotated[FeedPosition, Depends(position_of(connector_feed))]

live_route(router, "/live/sse", FEED_KINDS, render_change,
           "Server-Sent Events: connector.created/updated/deleted across the environment's Connect clusters",
           feed=connector_feed, ping_seconds=sse_ping_seconds)
