"""One topic: its figures, its partitions (leader, replicas, in-sync replicas, start and end
offsets: a partition short of replicas in sync, or without a leader, stands out), the configs
set on it, and the consumer groups with a position on it; read again whenever the environment's
stream feed says the topic changed. `t` tails it, `P` publishes to it,
`d` deletes it."""

from __future__ import annotations

from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from backend.streams.models import GroupSummary, PartitionDetail, StreamDeleted, StreamDescription, StreamSummary
from console.client import APIError, Unreachable
from console.client.events import Kind
from console.format import MISSING, count, human_bytes
from console.messages import LiveChange, Refetch
from console.screens.registry import PUBLISH, TAIL, detail_of
from console.screens.rows import per_second, state_text
from console.screens.topic_actions import confirm_delete, open_on_topic, tool_bindings
from console.widgets.status_header import StatusHeader


def summary(environment: str, item: StreamSummary, description: StreamDescription | None) -> Table:
    grid = Table.grid(padding=(0, 2))
    for style in ("dim", "", "dim", "", "dim", ""):
        grid.add_column(style=style)
    messages = description.totalMessages if description else item.totalMessages
    size = description.totalSize if description else item.totalSize
    name = Text(item.name, style="bold")
    if item.internal:
        name.append(" (internal)", style="dim")
    grid.add_row("Name", name, "Partitions", count(item.partitions), "Messages", count(messages))
    grid.add_row("Environment", environment, "Replication", count(item.replicationFactor), "Size", human_bytes(size))
    grid.add_row("Records/s in", per_second(item.messagesPerSecond), "Consumer groups", count(item.consumerGroups),
                 "", "")
    return grid


def replicas_in_sync(partition: PartitionDetail) -> Text:
    text = Text(", ".join(partition.inSyncReplicas) or MISSING)
    if len(partition.inSyncReplicas) < len(partition.replicas):
        text.stylize("bold yellow")
    return text


def leader(partition: PartitionDetail) -> Text:
    return Text(partition.leader) if partition.leader else Text("none", style="bold red")


def lag(group: GroupSummary) -> str | Text:
    if group.k2kApp:  # its offsets are the source cluster's: a lag against this one means nothing
        return Text(f"K2K app {group.k2kApp}", style="cyan")
    return count(group.totalLag)


@detail_of(Kind.stream)
class TopicDetailScreen(Screen[None]):
    FEED_KINDS = frozenset({Kind.stream})
    MUTATING = frozenset({"delete", "publish"})
    BINDINGS = [
        *tool_bindings("topic_detail"),
        Binding("d", "delete", "Delete", id="topic_detail.delete"),
        Binding("escape", "app.pop_screen", "Back", id="topic_detail.back"),
    ]

    DEFAULT_CSS = """
    TopicDetailScreen #summary { height: auto; padding: 1 2; background: $surface; }
    TopicDetailScreen #notice { padding: 0 1; color: $warning; display: none; }
    TopicDetailScreen #notice.-shown { display: block; }
    TopicDetailScreen .section { padding: 1 1 0 1; text-style: bold; color: $text-accent; }
    TopicDetailScreen #partitions { height: auto; max-height: 14; }
    TopicDetailScreen #below { height: 1fr; }
    TopicDetailScreen #below > Vertical { width: 1fr; }
    TopicDetailScreen #configs, TopicDetailScreen #groups { height: 1fr; }
    """

    def __init__(self, environment: str, item: StreamSummary, tier: str | None = None) -> None:
        """`tier`: the environment's, as the list read it (None: a delete asks as in production)."""
        super().__init__(name=f"topic:{environment}/{item.name}")
        self.environment = environment
        self.item = item
        self.tier = tier
        self.description: StreamDescription | None = None
        self.groups: list[GroupSummary] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(summary(self.environment, self.item, None), id="summary")
        yield Static("", id="notice")
        yield Label("Partitions", classes="section")
        yield DataTable(id="partitions", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="below"):
            with Vertical():
                yield Label("Configs set on the topic", classes="section")
                yield DataTable(id="configs", cursor_type="row", zebra_stripes=True)
            with Vertical():
                yield Label("Consumer groups", classes="section")
                yield DataTable(id="groups", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MUTATING and self.app.read_only)

    def on_mount(self) -> None:
        self.title = f"Topic {self.item.name}"
        self.query_one("#partitions", DataTable).add_columns("PARTITION", "LEADER", "REPLICAS", "IN SYNC", "START",
                                                             "END", "MESSAGES")
        self.query_one("#configs", DataTable).add_columns("KEY", "VALUE")
        self.query_one("#groups", DataTable).add_columns("GROUP", "STATE", "MEMBERS", "LAG")
        self.app.feeds.follow(self.FEED_KINDS, environment=self.environment)
        self.reload()
        self.query_one("#partitions", DataTable).focus()

    def on_screen_resume(self) -> None:
        if self.tier is not None:
            self.app.focus_environment = self.environment
            self.app.focus_tier = self.tier

    def reload(self) -> None:
        self.run_worker(self.load(), exclusive=True, group="load")

    async def load(self) -> None:
        streams = self.app.client.streams
        try:
            description = await streams.describe(self.environment, self.item.name)
        except (APIError, Unreachable) as exc:
            # Over the tables rather than a toast: the screen reads again on every change of the topic.
            stale = " (shown as last read)" if self.description else ""
            self._say(f"⚠ Cannot read topic {self.item.name}: {exc}{stale}")
            return
        try:
            groups = await streams.groups_reading(self.environment, self.item.name)
        except (APIError, Unreachable):
            groups = []  # the topic still shows; its groups come with the next reading
        self.show_reading(description, groups)

    def show_reading(self, description: StreamDescription, groups: list[GroupSummary]) -> None:
        """Shows what the agent read of the topic (its description, the groups reading it), cursors kept."""
        self.description, self.groups = description, groups
        self._say("")
        self.query_one("#summary", Static).update(summary(self.environment, self.item, description))
        _refill(self.query_one("#partitions", DataTable), (
            (str(p.partition), (p.partition, leader(p), ", ".join(p.replicas), replicas_in_sync(p),
                                count(p.startOffset), count(p.endOffset), count(p.endOffset - p.startOffset)))
            for p in description.partitionDetails))
        configs = [(key, (key, Text(str(value)))) for key, value in sorted(description.config.items())]
        _refill(self.query_one("#configs", DataTable),
                configs or [(MISSING, (MISSING, Text("none: the brokers' defaults apply", style="dim")))])
        rows = [(g.groupId, (g.groupId, state_text(g.state), count(g.members), lag(g))) for g in groups]
        _refill(self.query_one("#groups", DataTable),
                rows or [(MISSING, (MISSING, Text("none has a position on it", style="dim"), "", ""))])

    def _say(self, text: str) -> None:
        notice = self.query_one("#notice", Static)
        notice.update(text)
        notice.set_class(bool(text), "-shown")

    @property
    def notice(self) -> str:
        """What the line over the tables says ("" when it is hidden)."""
        return str(self.query_one("#notice", Static).render()) if self.query_one("#notice").has_class("-shown") \
            else ""

    def on_refetch(self, _: Refetch) -> None:
        self.reload()

    def on_live_change(self, message: LiveChange) -> None:
        change = message.change
        if change.environment != self.environment or change.name != self.item.name:
            return
        if change.deleted:
            self.notify(f"Topic {self.item.name!r} was deleted.", severity="warning", timeout=4)
            if self.app.screen is self:
                self.dismiss()
            return
        if isinstance(change.payload, StreamSummary):
            self.item = change.payload
        self.reload()  # the partitions' offsets come with the description

    # actions

    def action_tail(self) -> None:
        open_on_topic(self.app, TAIL, self.environment, self.item.name)

    def action_publish(self) -> None:
        open_on_topic(self.app, PUBLISH, self.environment, self.item.name)

    def action_delete(self) -> None:
        description = self.description

        def deleted(_: StreamDeleted) -> None:
            if self.app.screen is self:
                self.dismiss()

        confirm_delete(self.app, self.environment, self.item.name, production=self.tier in (None, "production"),
                       messages=description.totalMessages if description else self.item.totalMessages,
                       size=description.totalSize if description else self.item.totalSize, deleted=deleted)


def _refill(table: DataTable, rows: Iterable[tuple[str, tuple[object, ...]]]) -> None:
    """Replaces the rows of `table`, the cursor on the same row number."""
    cursor = table.cursor_row
    table.clear()
    for key, cells in rows:
        table.add_row(*cells, key=key)
    if table.row_count:
        table.move_cursor(row=min(cursor, table.row_count - 1), animate=False)
