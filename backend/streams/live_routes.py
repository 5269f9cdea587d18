"""The agent's live feed of an environment's streams and consumer groups: `GET /api/v1/streams/live/sse`
(`stream.created|updated|deleted`, `consumer-group.created|updated|deleted`, payload = the item's
list entry with its LRN), served like HQ's feeds (backend/sse.py: `Last-Event-ID` replay,
`resync`, `: ping`) from the environment's `StreamLedger` (backend/streams/live.py). The stream
and group lists stamp their answers with `StreamsFeedPositionDep`, so list-then-follow misses
nothing."""

from __future__ import annotations

from fastapi import APIRouter

from backend.agent.feeds import agent_feed_route
from backend.streams.live import FEED_KINDS

router = APIRouter(prefix="/api/v1", tags=["Event API"])

StreamsFeedPositionDep = agent_feed_route(
    router, "/streams/live/sse", FEED_KINDS,
    "Server-Sent Events: stream.* and consumer-group.* (created/updated/deleted) of the environment's cluster",
    lambda context: context.streams.feed)
