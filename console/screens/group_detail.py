"""One consumer group: per partition its committed offset, the log end and the lag (drawn as a
bar), and its members with the partitions each holds; `o` opens its offsets editor.

A K2K app's position group shows the app's figures instead: the position against the source's
log end and the app's lag there (console/screens/group_rows.py says why); its offsets are the
app's to edit, and `k` goes to the app."""

from __future__ import annotations

from rich.console import Group as RichGroup
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from backend.k2k.models import K2KMetrics
from backend.streams.models import GroupDetail, GroupSummary
from console.client import APIError, Unreachable
from console.client.events import Kind
from console.format import MISSING, count
from console.messages import LiveChange, Refetch
from console.screens.group_offsets import open_group_offsets
from console.screens.group_rows import (
    GROUP_FEED_KINDS,
    k2k_label,
    k2k_lag,
    k2k_partition_lags,
    k2k_source_ends,
    lag_text,
    open_k2k_app,
)
from console.screens.registry import detail_of
from console.screens.rows import state_text
from console.widgets.status_header import StatusHeader


def summary(environment: str, group: GroupSummary, metrics: K2KMetrics | None) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_column(style="dim")
    grid.add_column()
    lag = k2k_lag(metrics) if group.k2kApp else group.totalLag
    grid.add_row("Group", Text(group.groupId, style="bold"), "State", state_text(group.state))
    grid.add_row("Environment", environment, "Members", count(group.members))
    grid.add_row("Streams", ", ".join(group.streams) or MISSING, "Lag", lag_text(lag))
    if not group.k2kApp:
        return grid
    return RichGroup(grid, Text.assemble(
        "\n", (k2k_label(group.k2kApp), "bold magenta"),
        (": this group holds the app's positions, offsets of its source topics under the target's names. "
         "Lag is the app's, against the source. k opens the app; its offsets are edited there.", "dim")))


@detail_of(Kind.consumer_group)
class GroupDetailScreen(Screen[None]):
    FEED_KINDS = GROUP_FEED_KINDS | {Kind.k2k_metrics}
    MUTATING = frozenset({"offsets"})
    BINDINGS = [
        Binding("o", "offsets", "Offsets", id="group_detail.offsets"),
        Binding("k", "k2k", "K2K app", id="group_detail.k2k"),
        Binding("escape", "app.pop_screen", "Back", id="group_detail.back"),
    ]

    DEFAULT_CSS = """
    GroupDetailScreen #summary { height: auto; padding: 1 2; background: $surface; }
    GroupDetailScreen .section { padding: 1 1 0 1; text-style: bold; color: $text-accent; }
    GroupDetailScreen #partitions { height: 1fr; }
    GroupDetailScreen #members { height: auto; max-height: 12; }
    """

    def __init__(self, environment: str, group: GroupSummary, detail: GroupDetail | None = None,
                 metrics: K2KMetrics | None = None) -> None:
        """`detail` (and a K2K group's app `metrics`), when the caller has them, are shown without
        reading them again; without, they are read on mount."""
        super().__init__(name=f"group:{group.groupId}")
        self.environment = environment
        self.group = group
        self.detail = detail
        self.metrics = metrics

    @property
    def is_k2k(self) -> bool:
        return bool(self.group.k2kApp)

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(summary(self.environment, self.group, self.metrics), id="summary")
        yield Label("Partitions", classes="section")
        yield DataTable(id="partitions", cursor_type="row", zebra_stripes=False)
        yield Label("Members", classes="section", id="members-label")
        yield DataTable(id="members", cursor_type="row", zebra_stripes=False)
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("k2k", "offsets") and self.is_k2k != (action == "k2k"):
            return False  # a K2K group goes to its app, whose own editor sets its positions
        return not (action in self.MUTATING and self.app.read_only)

    def on_mount(self) -> None:
        self.title = f"Consumer group {self.group.groupId}"
        end, lag = ("SOURCE END", "LAG ON SOURCE") if self.is_k2k else ("LOG END", "LAG")
        self.query_one("#partitions", DataTable).add_columns("STREAM", "PARTITION", "COMMITTED", end, lag,
                                                             "CLIENT ID", "HOST")
        self.query_one("#members", DataTable).add_columns("MEMBER", "CLIENT ID", "HOST", "PARTITIONS")
        self.app.feeds.follow(GROUP_FEED_KINDS, environment=self.environment)
        if self.is_k2k:
            self.app.feeds.follow({Kind.k2k_metrics})
        if self.detail is None:
            self.run_worker(self.load(), exclusive=True, group="load")
        else:
            self._show()
            if self.is_k2k and self.metrics is None:
                self.run_worker(self._read_app_metrics(), group="metrics")
        self.query_one("#partitions", DataTable).focus()

    async def load(self) -> None:
        try:
            self.detail = await self.app.client.groups.describe(self.environment, self.group.groupId)
        except (APIError, Unreachable) as exc:
            self.notify(f"Cannot read {self.group.groupId}: {exc}", severity="error", timeout=5)
            return
        self.group = self.detail
        self._show()
        if self.is_k2k and self.metrics is None:
            await self._read_app_metrics()

    async def _read_app_metrics(self) -> None:
        """A K2K group's figures are its app's, as HQ last measured them (then live from its feed)."""
        try:
            self.metrics = (await self.app.client.get_k2k(self.group.k2kApp or "")).metrics
        except (APIError, Unreachable) as exc:
            self.notify(f"Cannot read K2K app {self.group.k2kApp}: {exc}", severity="warning", timeout=5)
            return
        self._show()

    def _show(self) -> None:
        self.query_one("#summary", Static).update(summary(self.environment, self.group, self.metrics))
        detail = self.detail
        if detail is None:
            return
        table = self.query_one("#partitions", DataTable)
        cursor = table.cursor_row
        table.clear()
        lags, ends = k2k_partition_lags(self.metrics), k2k_source_ends(self.metrics)
        for p in detail.partitions:
            where = (p.stream, p.partition)
            end, lag = (ends.get(where), lags.get(where)) if self.is_k2k else (p.logEndOffset, p.lag)
            table.add_row(p.stream, str(p.partition), count(p.committedOffset), count(end), lag_text(lag),
                          p.clientId or "", p.host or "", key=f"{p.stream}/{p.partition}")
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))
        members = self.query_one("#members", DataTable)
        members.clear()
        for member in detail.memberDetails:
            held = ", ".join(f"{a.stream}[{a.partition}]" for a in member.assignments) or MISSING
            members.add_row(member.memberId, member.clientId, member.host, held, key=member.memberId)
        self.query_one("#members-label", Label).update(
            f"Members ({len(detail.memberDetails)})" if detail.memberDetails
            else "Members (none: its offsets can be set)")

    def on_refetch(self, _: Refetch) -> None:
        self.run_worker(self.load(), exclusive=True, group="load")

    def on_live_change(self, message: LiveChange) -> None:
        change = message.change
        if change.kind is Kind.k2k_metrics:
            if change.name == self.group.k2kApp:
                self.metrics = change.payload  # type: ignore[assignment]
                self._show()
            return
        if change.name != self.group.groupId or change.environment not in (None, self.environment):
            return
        if change.deleted:
            self.notify(f"Consumer group {self.group.groupId} is gone.", severity="warning", timeout=4)
            if self.app.screen is self:
                self.dismiss()
            return
        self.group = change.payload  # type: ignore[assignment]
        self.run_worker(self.load(), exclusive=True, group="load")  # its partitions come with the detail

    # actions

    def action_offsets(self) -> None:
        open_group_offsets(self, self.environment, self.detail or self.group)

    def action_k2k(self) -> None:
        if self.group.k2kApp:
            self.run_worker(open_k2k_app(self, self.group.k2kApp), group="k2k")
