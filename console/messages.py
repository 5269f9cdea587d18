"""Messages the app sends to its screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.client.events import FeedEvent, Kind


@dataclass
class LiveChange(Message):
    """One typed event of a live feed, sent to the screens that follow its kind."""

    change: FeedEvent


@dataclass
class Refetch(Message):
    """A feed missed events (`resync`): what the screen shows of `kinds` must be fetched again."""

    kinds: frozenset[Kind]
