"""The Topics screen: the topics of the environment in focus, with the figures its agent reads
from the cluster (messages held, size on disk, records/s written, the consumer groups with a
position on each). Internal topics (`__consumer_offsets`, …) are hidden until `i` shows them.
An agent that did not answer is named over the table, which keeps what it last showed."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.worker import Worker

from backend.streams.models import StreamDescription, StreamSummary
from console.client import APIError, Unreachable
from console.client.events import FeedEvent, Kind
from console.client.streams import StreamListing
from console.format import count, human_bytes
from console.screens.live_list import BEFORE_ANY_EVENT, FeedPosition, LiveListScreen
from console.screens.registry import PUBLISH, TAIL
from console.screens.rows import per_second
from console.screens.topic_actions import REFRESH_SECONDS, confirm_delete, open_on_topic, tool_bindings
from console.screens.topic_form import TopicForm
from console.widgets.resource_table import Column

# What the figures' columns take at most (their cells and padding, the scrollbar): the name
# gets the rest of the screen, a longer one ends in "…" (the detail and `y` give it whole).
FIGURES_WIDTH = 75
MIN_NAME_WIDTH = 24


def columns(screen_width: int) -> list[Column]:
    return [
        Column("name", "NAME", lambda name: Text(name, overflow="ellipsis"),
               width=max(MIN_NAME_WIDTH, screen_width - FIGURES_WIDTH)),
        Column("partitions", "PARTITIONS", count),
        Column("replication", "REPLICATION", count),
        Column("messages", "MESSAGES", count),
        Column("size", "SIZE", human_bytes),
        Column("in", "RECORDS/S IN", per_second),
        Column("groups", "GROUPS", count),
    ]


class TopicsScreen(LiveListScreen[StreamSummary]):
    NOUN, ITEM = "topics", "topic"
    TABLE_ID = "topics"
    MODEL, FEED_KINDS = StreamSummary, frozenset[Kind]()
    DETAIL = Kind.stream
    EMPTY_HINT = "No topics here. Press n to create one, i to show the internal ones."
    EMPTY_HINT_READ_ONLY = "No topics here. Press i to show the internal ones."
    MUTATING = frozenset({"new", "delete", "publish"})

    BINDINGS = [
        Binding("enter", "open", "Open", id="topics.open"),
        *tool_bindings("topics"),
        Binding("n", "new", "New", id="topics.new"),
        Binding("d", "delete", "Delete", id="topics.delete"),
        Binding("i", "internal", "Internal", id="topics.internal"),
        Binding("escape", "app.pop_screen", "Back", id="topics.back", show=False),
    ]

    def __init__(self, environment: str) -> None:
        super().__init__(name="topics")
        self.environment = environment
        self.show_internal = False
        self.tier: str | None = None  # until read, a delete asks as in production
        self._reading: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        self.COLUMNS = columns(self.app.size.width)
        yield from super().compose()

    def on_mount(self) -> None:  # after LiveListScreen's (Textual calls each class's handler)
        self.set_interval(REFRESH_SECONDS, self.refresh_figures)

    def refresh_figures(self) -> None:
        """Reads the list again, unless a read is under way (a big cluster's may outlast the interval)."""
        if self._reading is None or self._reading.is_finished:
            self._reading = self.run_worker(self.load(), exclusive=True, group="load")

    def on_screen_resume(self) -> None:
        """The header names the environment listed (a detail of another one may have renamed it)."""
        if self.tier is not None:
            self.app.focus_environment = self.environment
            self.app.focus_tier = self.tier

    def title_scope(self) -> str:
        return f"{self.environment} · with internal" if self.show_internal else self.environment

    def shows(self, item: StreamSummary) -> bool:
        return self.show_internal or not item.internal

    def unread_position(self) -> FeedPosition:
        return {self.environment: BEFORE_ANY_EVENT}

    # the list

    async def fetch(self) -> tuple[list[StreamSummary], FeedPosition]:
        if self.tier is None:
            self.tier = (await self.app.client.get_environment(self.environment)).tier.value
            if self.app.screen is self:
                self.on_screen_resume()
        try:
            listing = await self.app.client.streams.list(self.environment)
        except (APIError, Unreachable) as exc:
            # What was shown stays, named as stale; the feed's first answer reads the list again.
            stale = " (the topics shown are as last read)" if self.items else ""
            self.show_notice(f"⚠ {self.environment}: {exc}{stale}")
            return list(self.items.values()), self.unread_position()
        self.show_notice("")
        return listing.items, {self.environment: listing.last_event_id}

    def show_listing(self, listing: StreamListing) -> None:
        """Shows `listing` in place of what the screen had."""
        self.show_notice("")
        self.items = {self.key(item): item for item in listing.items}
        self.show_rows()
        self._show_empty_hint()

    def key(self, item: StreamSummary) -> str:
        return item.name

    def row(self, item: StreamSummary) -> tuple[Any, ...]:
        return (item.name, item.partitions, item.replicationFactor, item.totalMessages, item.totalSize,
                item.messagesPerSecond, item.consumerGroups)

    def apply(self, change: FeedEvent) -> str | None:
        if change.environment != self.environment:
            return None  # another environment's feed, followed by another screen
        return super().apply(change)

    def detail_arguments(self, item: StreamSummary) -> tuple[Any, ...]:
        return (self.environment, item, self.tier)

    # actions

    def action_internal(self) -> None:
        self.show_internal = not self.show_internal
        self.show_scope()
        self.show_rows()

    def action_new(self) -> None:
        def created(description: StreamDescription | None) -> None:
            if description is not None:
                self.notify(f"Topic {description.name!r} created.", timeout=3)
                self.refresh_figures()

        self.app.push_screen(TopicForm(self.environment), created)

    def action_delete(self) -> None:
        if (selected := self.selected()) is None:
            return
        confirm_delete(self.app, self.environment, selected.name, production=self.tier in (None, "production"),
                       messages=selected.totalMessages, size=selected.totalSize,
                       deleted=lambda _: self.refresh_figures())

    def action_tail(self) -> None:
        if selected := self.selected():
            open_on_topic(self.app, TAIL, self.environment, selected.name)

    def action_publish(self) -> None:
        if selected := self.selected():
            open_on_topic(self.app, PUBLISH, self.environment, selected.name)
