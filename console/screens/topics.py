"""The Topics screen: the topics of the environment in focus, with the figures its agent reads
from the cluster (messages held, size on disk, records/s written, the consumer groups with a
position on each), live from the environment's stream feed. Internal topics
(`__consumer_offsets`, …) are hidden until `i` shows them. An agent that did not answer, or a
feed that stopped, is named over the table, which keeps what it last showed."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding

from backend.environments.models import Environment
from backend.streams.models import StreamDescription, StreamSummary
from console.client import APIError, FeedState, Unreachable
from console.client.events import FeedEvent, Kind
from console.client.streams import StreamListing
from console.format import count, human_bytes, middle_ellipsis
from console.messages import EnvironmentFeedState
from console.screens.live_list import FeedPosition, LiveListScreen
from console.screens.registry import PUBLISH, TAIL
from console.screens.rows import per_second
from console.screens.topic_actions import confirm_delete, open_on_topic, tool_bindings
from console.screens.topic_form import TopicForm
from console.widgets.resource_table import Column

# What the figures' columns take at most (their cells and padding, the scrollbar): the name
# gets the rest of the screen, a longer one is cut in the middle (the detail and `y` give it whole).
FIGURES_WIDTH = 75
MIN_NAME_WIDTH = 24


def columns(screen_width: int) -> list[Column]:
    name_width = max(MIN_NAME_WIDTH, screen_width - FIGURES_WIDTH)
    return [
        Column("name", "NAME", lambda name: Text(middle_ellipsis(name, name_width)), width=name_width),
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
    MODEL, FEED_KINDS = StreamSummary, frozenset({Kind.stream, Kind.environment})
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
        self.reads = 0  # of the list (tests read it)
        self.list_trouble = ""  # why the last list read failed
        self.feed_trouble = ""  # why live updates are not arriving

    def compose(self) -> ComposeResult:
        self.COLUMNS = columns(self.app.size.width)
        yield from super().compose()

    def on_screen_resume(self) -> None:
        """The header names the environment listed (a detail of another one may have renamed it)."""
        if self.tier is not None:
            self.app.focus_environment = self.environment
            self.app.focus_tier = self.tier

    def title_scope(self) -> str:
        return f"{self.environment} · with internal" if self.show_internal else self.environment

    def shows(self, item: StreamSummary) -> bool:
        return self.show_internal or not item.internal

    # the list

    async def fetch(self) -> tuple[list[StreamSummary], FeedPosition]:
        if self.tier is None:
            self.tier = (await self.app.client.get_environment(self.environment)).tier.value
            if self.app.screen is self:
                self.on_screen_resume()
        self.reads += 1
        try:
            listing = await self.app.client.streams.list(self.environment)
        except (APIError, Unreachable) as exc:
            # What was shown stays, named as stale, and no stream feed is followed from an unknown
            # position: the list is read again when HQ says the environment's agent is connected.
            stale = " (the topics shown are as last read)" if self.items else ""
            self._show_troubles(list_trouble=f"{exc}{stale}")
            return list(self.items.values()), {}
        self._show_troubles(list_trouble="")
        return listing.items, {self.environment: listing.last_event_id}

    def show_listing(self, listing: StreamListing) -> None:
        """Shows `listing` in place of what the screen had."""
        self._show_troubles(list_trouble="")
        self.items = {self.key(item): item for item in listing.items}
        self.show_rows()
        self._show_empty_hint()

    def _show_troubles(self, *, list_trouble: str | None = None, feed_trouble: str | None = None) -> None:
        self.list_trouble = self.list_trouble if list_trouble is None else list_trouble
        self.feed_trouble = self.feed_trouble if feed_trouble is None else feed_trouble
        lines = [f"⚠ {self.environment}: {self.list_trouble}"] if self.list_trouble else []
        lines += [f"⚠ live updates of {self.environment}: {self.feed_trouble}"] if self.feed_trouble else []
        self.show_notice("\n".join(lines))

    def on_environment_feed_state(self, message: EnvironmentFeedState) -> None:
        if message.environment != self.environment:
            return
        trouble = message.state in (FeedState.reconnecting, FeedState.offline)
        self._show_troubles(feed_trouble=f"{message.state.value} ({message.detail})" if trouble else "")

    def key(self, item: StreamSummary) -> str:
        return item.name

    def row(self, item: StreamSummary) -> tuple[Any, ...]:
        return (item.name, item.partitions, item.replicationFactor, item.totalMessages, item.totalSize,
                item.messagesPerSecond, item.consumerGroups)

    def on_mount(self) -> None:  # after LiveListScreen's (Textual calls each class's handler)
        self.app.feeds.follow({Kind.environment})  # HQ's own feed: running already, under the home screen

    def apply(self, change: FeedEvent) -> str | None:
        if change.kind is Kind.environment:
            agent = change.payload.status.agent_connected if isinstance(change.payload, Environment) else False
            if change.name == self.environment and self.list_trouble and agent:
                self.run_worker(self.load(), exclusive=True, group="load")
            return None
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
                self.notify(f"Topic {description.name!r} created.", timeout=3)  # the feed brings its row

        self.app.push_screen(TopicForm(self.environment), created)

    def action_delete(self) -> None:
        if (selected := self.selected()) is None:
            return
        confirm_delete(self.app, self.environment, selected.name, production=self.tier in (None, "production"),
                       messages=selected.totalMessages, size=selected.totalSize)

    def action_tail(self) -> None:
        if selected := self.selected():
            open_on_topic(self.app, TAIL, self.environment, selected.name)

    def action_publish(self) -> None:
        if selected := self.selected():
            open_on_topic(self.app, PUBLISH, self.environment, selected.name)
