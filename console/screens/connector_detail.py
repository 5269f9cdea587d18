"""One connector: its state and worker, its tasks with theirs, its configuration (masked as
the API gives it: secrets arrive as ***), its topics, and the trace of whatever FAILED, full
screen a key away. Live from its environment's connector feed; the state keys act on it, and
it leads to its offsets, its editor and its cluster's views."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, Static

from backend.connect.models import ConnectorDetails, ConnectorListItem
from console.client import APIError, Unreachable
from console.client.events import Kind
from console.format import MISSING
from console.messages import LiveChange, Refetch
from console.screens.connector_actions import (
    STATE_ACTIONS,
    ConnectorRef,
    StateKeys,
    confirm_delete,
    open_editor,
    open_offsets,
    restart_task,
    state_bindings,
)
from console.screens.registry import detail_of
from console.screens.rows import connector_state, state_text
from console.screens.trace_view import TraceScreen
from console.widgets.status_header import StatusHeader

TRACE_CELL = 90  # characters of a trace's first line in the tasks table; v shows it whole


def first_line(trace: str | None, width: int | None = None) -> str:
    line = trace.strip().splitlines()[0] if trace and trace.strip() else ""
    return line if width is None or len(line) <= width else line[: width - 1] + "…"


def summary(environment: str, item: ConnectorListItem, details: ConnectorDetails | None,
            active_topics: list[str] | None = None) -> Table:
    """`active_topics`: the worker's record of the topics the connector used (its `/topics`),
    shown beside the configured ones when it names others."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_column(style="dim")
    grid.add_column()
    state = details.state if details else item.state
    worker = (details.workerId if details else item.workerId) or MISSING
    version = details.version if details and details.version else MISSING
    configured = details.topics if details else item.topics
    topics = ", ".join(configured) or MISSING
    if active_topics and sorted(active_topics) != sorted(configured):  # e.g. a `topics.regex` sink's matches
        topics += f" · active: {', '.join(active_topics)}"
    shown = details or item
    rows = [
        ("Name", Text(item.name, style="bold"), "State", connector_state(state)),
        ("Class", shown.className or MISSING, "Worker", worker),
        ("Type", shown.type or MISSING, "Version", version),
        ("Cluster", f"{environment} · {item.cluster}", "Topics", topics),
    ]
    for cells in rows:
        grid.add_row(*cells)
    if details and (trace := first_line(details.trace)):
        grid.add_row(Text("Failed", style="bold red"), Text(trace, style="red"), "", "")
    for error in details.errors if details else []:
        grid.add_row(Text("Redacted", style="yellow"), f"{error.field}: {error.reason}", "", "")
    return grid


@detail_of(Kind.connector)
class ConnectorDetailScreen(StateKeys, Screen[None]):
    FEED_KINDS = frozenset({Kind.connector})
    MUTATING = STATE_ACTIONS | {"restart_task", "delete", "edit", "offsets"}
    BINDINGS = [
        Binding("v", "trace", "Trace", id="connector_detail.trace"),
        Binding("t", "restart_task", "Restart task", id="connector_detail.restart_task"),
        *state_bindings("connector_detail"),
        Binding("e", "edit", "Edit", id="connector_detail.edit"),
        Binding("o", "offsets", "Offsets", id="connector_detail.offsets"),
        Binding("d", "delete", "Delete", id="connector_detail.delete"),
        Binding("c", "clusters", "Cluster", id="connector_detail.clusters", show=False),
        Binding("escape", "app.pop_screen", "Back", id="connector_detail.back"),
    ]

    DEFAULT_CSS = """
    ConnectorDetailScreen #summary { height: auto; padding: 1 2; background: $surface; }
    ConnectorDetailScreen .section { padding: 1 1 0 1; text-style: bold; color: $text-accent; }
    ConnectorDetailScreen #tasks { height: auto; max-height: 10; }
    ConnectorDetailScreen #config { height: 1fr; }
    """

    def __init__(self, environment: str, item: ConnectorListItem, details: ConnectorDetails | None = None) -> None:
        """`details`: the connector as an answer already gave it (the editor's save), shown
        without reading it again; without, it is read on mount."""
        super().__init__(name=f"connector:{item.lrn}")
        self.environment = environment
        self.item = item
        self.details = details
        self.ref = ConnectorRef(environment, item.cluster, item.name)
        self.tier: str | None = None  # until read, a delete asks as in production
        self.active_topics: list[str] | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(summary(self.environment, self.item, self.details), id="summary")
        yield Label("Tasks (v or enter: a failed one's trace)", classes="section")
        yield DataTable(id="tasks", cursor_type="row", zebra_stripes=False)
        yield Label("Configuration", classes="section")
        yield DataTable(id="config", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MUTATING and self.app.read_only)

    def on_mount(self) -> None:
        self.title = f"Connector {self.ref.label}"
        self.query_one("#tasks", DataTable).add_columns("TASK", "STATE", "WORKER", "TRACE")
        self.query_one("#config", DataTable).add_columns("KEY", "VALUE")
        self.app.feeds.follow(self.FEED_KINDS, environment=self.environment)
        if self.details is not None:
            self._show()
        else:
            self.run_worker(self.load(), exclusive=True, group="load")
        self.run_worker(self._read_tier(), group="tier")
        self.query_one("#tasks", DataTable).focus()

    async def _read_tier(self) -> None:
        try:
            self.tier = (await self.app.client.get_environment(self.environment)).tier.value
        except (APIError, Unreachable):
            return
        if self.app.screen is self:
            self.on_screen_resume()

    def on_screen_resume(self) -> None:
        """The header names the connector's environment (a production one stands out)."""
        if self.tier is not None:
            self.app.focus_environment = self.environment
            self.app.focus_tier = self.tier

    async def load(self) -> None:
        connect = self.app.client.connect
        try:
            self.details = await connect.details(self.environment, self.ref.cluster, self.ref.name)
        except APIError as exc:
            if exc.status == 404 and self.details is not None:
                return  # deleted: the feed's deletion closes the screen
            self.notify(f"Cannot read {self.ref.label}: {exc}", severity="error", timeout=5)
            return
        except Unreachable as exc:
            self.notify(str(exc), severity="error", timeout=5)
            return
        try:
            self.active_topics = await connect.topics(self.environment, self.ref.cluster, self.ref.name)
        except (APIError, Unreachable):
            self.active_topics = None  # a worker without topic tracking: the configured ones still show
        self._show()

    def _show(self) -> None:
        self.query_one("#summary", Static).update(summary(self.environment, self.item, self.details,
                                                          self.active_topics))
        details = self.details
        if details is None:
            return
        tasks = self.query_one("#tasks", DataTable)
        cursor = tasks.cursor_row
        tasks.clear()
        for task in details.tasks:
            trace = first_line(task.trace, TRACE_CELL)
            tasks.add_row(task.id, state_text(task.state), task.workerId, Text(trace, style="red") if trace else "",
                          key=task.id)
        if tasks.row_count:
            tasks.move_cursor(row=min(cursor, tasks.row_count - 1))
        config = self.query_one("#config", DataTable)
        config.clear()
        for key in sorted(details.config):
            config.add_row(key, Text(details.config[key]), key=key)

    def on_refetch(self, _: Refetch) -> None:
        self.run_worker(self.load(), exclusive=True, group="load")

    def on_live_change(self, message: LiveChange) -> None:
        change = message.change
        if change.name != self.item.lrn:
            return
        if change.deleted:
            self.notify(f"Connector {self.ref.label} was deleted.", severity="warning", timeout=4)
            if self.app.screen is self:
                self.dismiss()
            return
        self.item = change.payload  # type: ignore[assignment]
        self.run_worker(self.load(), exclusive=True, group="load")  # traces and config come with the details

    # the trace

    def _selected_task(self) -> str | None:
        tasks = self.query_one("#tasks", DataTable)
        if not tasks.row_count:
            return None
        return tasks.coordinate_to_cell_key(tasks.cursor_coordinate).row_key.value

    def trace_to_show(self) -> tuple[str, str] | None:
        """(what failed, its trace): the task under the cursor if it has one, else the connector's."""
        details = self.details
        if details is None:
            return None
        task_id = self._selected_task()
        for task in details.tasks:
            if task.id == task_id and task.trace:
                return f"Task {task.id} of {self.ref.label} · {task.state} on {task.workerId}", task.trace
        if details.trace:
            return f"Connector {self.ref.label} · {details.state.value if details.state else ''}", details.trace
        return None

    def action_trace(self) -> None:
        shown = self.trace_to_show()
        if shown is None:
            self.notify("Nothing here has failed: no trace to show.", timeout=2)
            return
        self.app.push_screen(TraceScreen(*shown))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "tasks":
            self.action_trace()

    # actions

    def action_restart_task(self) -> None:
        task = self._selected_task()
        if task is None:
            self.notify("No task selected.", severity="warning", timeout=2)
            return
        restart_task(self.app, self.ref, task)

    def targets(self) -> list[ConnectorRef]:
        return [self.ref]

    def action_delete(self) -> None:
        confirm_delete(self.app, [self.ref], production=self.tier in (None, "production"))

    def action_edit(self) -> None:
        open_editor(self.app, self.environment, self.ref.cluster, self.ref.name)

    def action_offsets(self) -> None:
        open_offsets(self.app, self.ref)

    def action_clusters(self) -> None:
        from console.screens.connect_cluster_views import ConnectClusterScreen

        self.app.push_screen(ConnectClusterScreen(self.environment, self.ref.cluster))

