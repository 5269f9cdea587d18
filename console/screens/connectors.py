"""The Connectors screen: the Kafka Connect connectors of the environment in focus, across its
Connect clusters (or, a key away, of every environment), live from each environment's
connector feed. Rows can be marked; the state keys and delete act on the marked rows, or on
the row under the cursor when none is marked.

A cluster that did not answer is named over the table (the list leaves its connectors out),
and so is an environment whose agent did not: the rest of the list still shows."""

from __future__ import annotations

import asyncio
from typing import Any

from rich.text import Text
from textual.binding import Binding

from backend.connect.models import ConnectorListItem, ConnectStatus
from console.client import APIError, FeedState, Unreachable
from console.client.connect import ConnectorListing
from console.client.events import FeedEvent, Kind, connector_environment
from console.messages import EnvironmentFeedState
from console.screens.connector_actions import (
    STATE_ACTIONS,
    ConnectorRef,
    StateKeys,
    confirm_delete,
    open_editor,
    open_offsets,
    state_bindings,
)
from console.screens.live_list import BEFORE_ANY_EVENT, FeedPosition, LiveListScreen
from console.screens.rows import connector_state, short_class, task_counts, tasks_text
from console.widgets.resource_table import Column

MARK = "✓"
NOTICE_LINES = 4  # of what the lists left out; across a fleet the rest are counted, not listed


def _mark(marked: bool) -> Text:
    return Text(MARK if marked else " ", style="bold magenta")


COLUMNS = [
    Column("mark", " ", _mark, width=1),
    Column("name", "NAME"),
    Column("cluster", "CLUSTER"),
    Column("class", "CLASS"),
    Column("type", "TYPE"),
    Column("state", "STATE", lambda state: connector_state(ConnectStatus(state) if state else None)),
    Column("tasks", "TASKS", tasks_text),
    Column("topics", "TOPICS"),
]


def running(item: ConnectorListItem) -> bool:
    return item.state is ConnectStatus.RUNNING and all(task.state is ConnectStatus.RUNNING for task in item.tasks)


class ConnectorsScreen(StateKeys, LiveListScreen[ConnectorListItem]):
    NOUN, ITEM = "connectors", "connector"
    COLUMNS, TABLE_ID = COLUMNS, "connectors"
    MODEL, FEED_KINDS = ConnectorListItem, frozenset({Kind.connector})
    DETAIL = Kind.connector
    EMPTY_HINT = "No connectors here. Press n to create one, w to look in every environment."
    EMPTY_HINT_READ_ONLY = "No connectors here. Press w to look in every environment."
    MUTATING = STATE_ACTIONS | {"new", "edit", "delete", "offsets"}

    BINDINGS = [
        Binding("enter", "open", "Open", id="connectors.open"),
        Binding("space", "mark", "Mark", id="connectors.mark"),
        *state_bindings("connectors"),
        Binding("n", "new", "New", id="connectors.new"),
        Binding("e", "edit", "Edit", id="connectors.edit", show=False),
        Binding("o", "offsets", "Offsets", id="connectors.offsets", show=False),
        Binding("d", "delete", "Delete", id="connectors.delete"),
        Binding("c", "clusters", "Clusters", id="connectors.clusters", show=False),
        Binding("w", "widen", "All envs", id="connectors.widen"),
        Binding("exclamation_mark", "problems", "Problems", id="connectors.problems"),
        # esc goes back on every screen; at 120 columns the footer's room goes to this screen's keys.
        Binding("escape", "app.pop_screen", "Back", id="connectors.back", show=False),
    ]

    def __init__(self, environment: str | None) -> None:
        """`environment`: the one in focus (None: every environment)."""
        super().__init__(name="connectors")
        self.environment = environment
        self.every_environment = environment is None
        self.only_problems = False
        self.marked: set[str] = set()
        self.tiers: dict[str, str] = {}
        self.warnings: dict[str, list[str]] = {}  # environment -> what its list left out
        self.feed_troubles: dict[str, str] = {}  # environment -> why its live updates are not arriving

    # scope

    @property
    def environments(self) -> list[str]:
        """The environments the list covers."""
        if self.every_environment or self.environment is None:
            return sorted(self.tiers)
        return [self.environment]

    def on_screen_resume(self) -> None:
        """The header names the environment listed (a detail of another one may have renamed it)."""
        if not self.every_environment and self.environment in self.tiers:
            self.app.focus_environment = self.environment
            self.app.focus_tier = self.tiers[self.environment]

    def title_scope(self) -> str | None:
        scope = "all environments" if self.every_environment else self.environment
        return f"{scope} · not running" if self.only_problems else scope

    def unread_position(self) -> FeedPosition:
        return {environment: BEFORE_ANY_EVENT for environment in self.environments}

    def shows(self, item: ConnectorListItem) -> bool:
        """With the quick filter: only connectors not running, or with a task that is not."""
        return not self.only_problems or not running(item)

    # the list

    async def fetch(self) -> tuple[list[ConnectorListItem], FeedPosition]:
        self.tiers = {e.name: e.tier.value for e in (await self.app.client.list_environments())[0]}
        environments = self.environments
        answers = await asyncio.gather(*(self.app.client.connect.list_connectors(e) for e in environments),
                                       return_exceptions=True)
        items: list[ConnectorListItem] = []
        positions: dict[str, int | None] = {}
        self.warnings = {}
        if self.app.screen is self:
            self.on_screen_resume()
        for environment, answer in zip(environments, answers, strict=True):
            if isinstance(answer, APIError | Unreachable):
                self.warnings[environment] = [f"{environment}: {answer}"]
            elif isinstance(answer, BaseException):
                raise answer
            else:
                items += self._take(environment, answer)
                positions[environment] = answer.last_event_id
        self._show_warnings()
        return items, positions

    def show_listing(self, environment: str, listing: ConnectorListing) -> None:
        """Shows what `environment`'s list answered in place of what the screen had of it."""
        for key in [k for k, item in self.items.items() if connector_environment(item.lrn) == environment]:
            del self.items[key]
        self.items.update((self.key(item), item) for item in self._take(environment, listing))
        self._show_warnings()
        self.show_rows()
        self._show_empty_hint()

    def _take(self, environment: str, listing: ConnectorListing) -> list[ConnectorListItem]:
        self.warnings[environment] = [f"{environment} · cluster {w.cluster}: {w.error}" for w in listing.warnings]
        return listing.items

    def _show_warnings(self) -> None:
        lines = [f"⚠ {line} (its connectors are left out)" for e in sorted(self.warnings)
                 for line in self.warnings[e]]
        lines += [f"⚠ live updates of {e}: {self.feed_troubles[e]}" for e in sorted(self.feed_troubles)
                  if e in self.environments]
        if len(lines) > NOTICE_LINES:
            lines[NOTICE_LINES - 1:] = [f"⚠ … and {len(lines) - NOTICE_LINES + 1} more"]
        self.show_notice("\n".join(lines))

    def on_environment_feed_state(self, message: EnvironmentFeedState) -> None:
        if message.state in (FeedState.reconnecting, FeedState.offline):
            self.feed_troubles[message.environment] = f"{message.state.value} ({message.detail})"
        elif self.feed_troubles.pop(message.environment, None) is None:
            return
        self._show_warnings()

    def key(self, item: ConnectorListItem) -> str:
        return item.lrn

    def row(self, item: ConnectorListItem) -> tuple[Any, ...]:
        cluster = item.cluster
        if self.every_environment:
            cluster = f"{connector_environment(item.lrn)}/{cluster}"
        return (item.lrn in self.marked, item.name, cluster, short_class(item.className), item.type or "",
                item.state.value if item.state else None, task_counts(item.tasks), ", ".join(item.topics))

    def apply(self, change: FeedEvent) -> str | None:
        if change.environment not in self.environments:
            return None  # a feed this screen followed before its scope narrowed
        if change.deleted:
            self.marked.discard(change.name)
        return super().apply(change)

    def detail_arguments(self, item: ConnectorListItem) -> tuple[Any, ...]:
        return (ConnectorRef.of(item).environment, item)

    # marks and targets

    def action_mark(self) -> None:
        key = self.table.selected_key
        if key is None or (item := self.items.get(key)) is None:
            return
        self.marked.symmetric_difference_update({key})
        self.table.upsert(key, self.row(item))
        self.table.action_cursor_down()

    def targets(self) -> list[ConnectorRef]:
        """The marked connectors still listed, else the one under the cursor."""
        marked = [self.items[key] for key in sorted(self.marked) if key in self.items]
        if marked:
            return [ConnectorRef.of(item) for item in marked]
        selected = self.selected()
        return [ConnectorRef.of(selected)] if selected else []

    def acted(self) -> None:
        self._unmark()

    def _unmark(self) -> None:
        marked, self.marked = self.marked, set()
        for key in marked & set(self.items):
            self.table.upsert(key, self.row(self.items[key]))

    # actions

    def action_delete(self) -> None:
        targets = self.targets()
        # An environment whose tier is not known asks as production does.
        production = any(self.tiers.get(t.environment, "production") == "production" for t in targets)
        confirm_delete(self.app, targets, production)
        self._unmark()

    def action_new(self) -> None:
        selected = self.items.get(self.table.selected_key or "")
        environment = self.environment or (connector_environment(selected.lrn) if selected else None)
        if environment is None:
            self.notify("No environment in focus: pick one on the home screen.", severity="warning", timeout=3)
            return
        open_editor(self.app, environment)

    def action_edit(self) -> None:
        if selected := self.selected():
            ref = ConnectorRef.of(selected)
            open_editor(self.app, ref.environment, ref.cluster, ref.name)

    def action_offsets(self) -> None:
        if selected := self.selected():
            open_offsets(self.app, ConnectorRef.of(selected))

    def action_clusters(self) -> None:
        from console.screens.connect_cluster_views import ConnectClusterScreen

        selected = self.items.get(self.table.selected_key or "")
        if selected is not None:
            ref = ConnectorRef.of(selected)
            self.app.push_screen(ConnectClusterScreen(ref.environment, ref.cluster))
        elif self.environment is not None:
            self.app.push_screen(ConnectClusterScreen(self.environment))
        else:
            self.notify("No connector selected.", severity="warning", timeout=2)

    def action_widen(self) -> None:
        if self.environment is None:
            self.notify("No environment in focus to narrow to.", severity="warning", timeout=2)
            return
        self.every_environment = not self.every_environment
        self.show_scope()
        self.run_worker(self.load(), exclusive=True, group="load")

    def action_problems(self) -> None:
        self.only_problems = not self.only_problems
        self.show_scope()
        self.show_rows()
