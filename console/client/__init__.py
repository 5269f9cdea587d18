"""How the console talks to an HQ: HTTP requests (`HQClient`) and the live feeds (`LiveFeed`)."""

from console.client.http import APIError, HQClient, Unreachable
from console.client.live import FeedState, LiveFeed

__all__ = ["APIError", "FeedState", "HQClient", "LiveFeed", "Unreachable"]
