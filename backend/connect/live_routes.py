"""The agent's live feed of an environment's connectors: `GET /api/kafka-connect/live/sse`
(`connector.created|updated|deleted`, payload = the connector's list item), served like HQ's
feeds (backend/sse.py: `Last-Event-ID` replay, `resync`, `: ping`) from the environment's
`ConnectorLedger` (backend/connect/live.py). The connector list stamps its answer with
`ConnectorFeedPositionDep`, so list-then-follow misses nothing."""

from __future__ import annotations

from fastapi import APIRouter

from backend.agent.feeds import agent_feed_route
from backend.connect.live import FEED_KINDS

router = APIRouter(prefix="/api/kafka-connect", tags=["kafka-connect"])

ConnectorFeedPositionDep = agent_feed_route(
    router, "/live/sse", FEED_KINDS,
    "Server-Sent Events: connector.created/updated/deleted across the environment's Connect clusters",
    lambda context: context.connectors.feed)
