"""Messages the app sends to its screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.client.events import FeedEvent, Kind
from console.client.live import FeedState


@dataclass
class LiveChange(Message):
    """One typed event of a live feed, sent to the screens that follow its kind."""

    change: FeedEvent


@dataclass
class Refetch(Message):
    """A feed missed events (`resync`): what the screen shows of `kinds` must be fetched again."""

    kinds: frozenset[Kind]


@dataclass
class EnvironmentFeedState(Message):
    """The state of one environment's own feed (an agent's: it comes and goes with the agent,
    so the header's state, which is HQ's, does not show it), sent to the screens that follow
    its kinds."""

    environment: str
    state: FeedState
    detail: str
