"""The consumer groups screen (`g`, `:groups`, `:consumers`): the focused environment's groups
with their state, members, streams and total lag, live from its stream feed.

A K2K app's position group reads as the app's ("K2K orders-to-target"), its lag the app's own
against the source, live from the K2K feed's metrics (console/screens/group_rows.py says why);
`k` opens the app."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual.binding import Binding

from backend.k2k.models import K2KApp, K2KMetrics
from backend.streams.models import GroupSummary
from console.client import APIError, Unreachable
from console.client.events import FeedEvent, Kind
from console.client.groups import GroupListing
from console.format import count
from console.screens.group_rows import GROUP_FEED_KINDS, SourceLag, k2k_label, k2k_lag, lag_text, open_k2k_app
from console.screens.live_list import BEFORE_ANY_EVENT, FeedPosition, LiveListScreen
from console.screens.rows import state_text
from console.widgets.resource_table import Column


def group_cell(value: tuple[str, str | None]) -> Text:
    group, app = value
    return Text(k2k_label(app), style="bold magenta") if app else Text(group)


STREAMS_NAMED = 2  # in a row; the others are counted (the detail lists them all)


def streams_cell(streams: list[str]) -> Text:
    text = Text(", ".join(streams[:STREAMS_NAMED]))
    if len(streams) > STREAMS_NAMED:
        text.append(f" +{len(streams) - STREAMS_NAMED}", style="dim")
    return text


# The lag before the streams: with long group names, what a narrow terminal cuts is the streams.
COLUMNS = [
    Column("group", "GROUP", group_cell),
    Column("state", "STATE", state_text),
    Column("members", "MEMBERS", count),
    Column("lag", "LAG", lag_text),
    Column("streams", "STREAMS", streams_cell),
]


class GroupsScreen(LiveListScreen[GroupSummary]):
    NOUN, ITEM = "consumer groups", "consumer group"
    COLUMNS, TABLE_ID = COLUMNS, "groups"
    MODEL, FEED_KINDS = GroupSummary, GROUP_FEED_KINDS | {Kind.k2k_metrics}
    DETAIL = Kind.consumer_group
    EMPTY_HINT = EMPTY_HINT_READ_ONLY = "No consumer groups have committed offsets in this environment."

    BINDINGS = [
        Binding("enter", "open", "Open", id="groups.open"),
        Binding("k", "k2k", "K2K app", id="groups.k2k"),
        Binding("escape", "app.pop_screen", "Back", id="groups.back"),
    ]

    def __init__(self, environment: str) -> None:
        super().__init__(name="groups")
        self.environment = environment
        self.k2k_lags: dict[str, SourceLag | None] = {}  # K2K app -> its lag against the source

    def title_scope(self) -> str | None:
        return self.environment

    def unread_position(self) -> FeedPosition:
        return {self.environment: BEFORE_ANY_EVENT}

    def follow(self, position: FeedPosition) -> None:
        super().follow(position)
        self.app.feeds.follow({Kind.k2k_metrics}, None)  # HQ's own feed, not the environment's

    # the list

    async def fetch(self) -> tuple[list[GroupSummary], FeedPosition]:
        listing = await self.app.client.groups.list(self.environment)
        self.k2k_lags = await self._k2k_lags(listing.items)
        return listing.items, {self.environment: listing.last_event_id}

    async def _k2k_lags(self, groups: list[GroupSummary]) -> dict[str, SourceLag | None]:
        """Each K2K position group's app's lag, as HQ last measured it."""
        apps = sorted({g.k2kApp for g in groups if g.k2kApp})
        answers = await asyncio.gather(*(self.app.client.get_k2k(app) for app in apps), return_exceptions=True)
        lags: dict[str, SourceLag | None] = {}
        for app, answer in zip(apps, answers, strict=True):
            if isinstance(answer, K2KApp):
                lags[app] = app_lag(answer)
            elif isinstance(answer, APIError | Unreachable):
                lags[app] = None  # an app HQ no longer has: its group stays, without a lag
            else:
                raise answer
        return lags

    async def show_listing(self, listing: GroupListing) -> None:
        """Shows what a list answer read elsewhere says, in place of what the screen had."""
        self.k2k_lags = await self._k2k_lags(listing.items)
        self.items = {self.key(group): group for group in listing.items}
        self.show_rows()
        self._show_empty_hint()

    def key(self, item: GroupSummary) -> str:
        return item.groupId

    def row(self, item: GroupSummary) -> tuple[Any, ...]:
        lag = self.k2k_lags.get(item.k2kApp) if item.k2kApp else item.totalLag
        return (item.groupId, item.k2kApp), item.state, item.members, lag, item.streams

    def apply(self, change: FeedEvent) -> str | None:
        if change.kind is Kind.k2k_metrics:
            return self._take_k2k_metrics(change.name, change.payload)  # type: ignore[arg-type]
        if change.environment not in (None, self.environment):
            return None
        return super().apply(change)

    def _take_k2k_metrics(self, app: str, metrics: K2KMetrics) -> str | None:
        group = next((key for key, g in self.items.items() if g.k2kApp == app), None)
        if group is not None:
            self.k2k_lags[app] = k2k_lag(metrics)
        return group

    def detail_arguments(self, item: GroupSummary) -> tuple[Any, ...]:
        return (self.environment, item)

    # actions

    def action_k2k(self) -> None:
        selected = self.selected()
        if selected is None:
            return
        if not selected.k2kApp:
            self.notify(f"{selected.groupId} is not a K2K app's position group.", timeout=3)
            return
        self.run_worker(open_k2k_app(self, selected.k2kApp), group="k2k")


def app_lag(app: K2KApp) -> SourceLag | None:
    """The app's lag as HQ last measured it: its metrics, else the list's summary of them."""
    if (lag := k2k_lag(app.metrics)) is not None:
        return lag
    return SourceLag(app.metrics_summary.total_lag) if app.metrics_summary else None
