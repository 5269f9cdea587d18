"""One environment: its summary and agent status, its Kafka connections (add, edit,
delete) and its agent key (renew). Everything follows the live feed."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Label, Static

from backend.environments.models import ConnectCluster, Environment, KafkaConnection, RedpandaConnect
from backend.k2k.models import K2KApp
from console.client import APIError, Unreachable
from console.client.events import Kind
from console.format import MISSING, count, human_bytes, human_rate, plural, tier
from console.messages import LiveChange, Refetch
from console.screens.agent_key import renew_agent_key
from console.screens.base import ResourceScreen
from console.screens.confirm import ConfirmDialog, confirm_then
from console.screens.connection_form import ConnectionForm
from console.screens.registry import detail_of
from console.screens.rows import agent_state, environment_of, state_text
from console.widgets.resource_table import Column, ResourceTable
from console.widgets.status_header import StatusHeader
from console.widgets.table_title import TableTitle

CONNECTION_COLUMNS = [
    Column("name", "NAME"),
    Column("brokers", "BOOTSTRAP BROKERS"),
    Column("auth", "AUTH"),
]


def connection_row(connection: KafkaConnection) -> tuple[str, str, str]:
    auth = connection.auth
    settings = auth.settings
    detail = auth.kind
    if auth.kind in ("sasl_plain", "sasl_scram"):
        detail = f"{auth.kind} · {settings.username}" + (" · tls" if settings.tls else "")
        if auth.kind == "sasl_scram":
            detail += f" · {settings.mechanism}"
    brokers = ", ".join(connection.override_broker_addresses) or "(agent's)"
    return (connection.name, brokers, detail)


def services_line(connects: list[ConnectCluster], pipelines: list[RedpandaConnect]) -> str:
    parts = [f"Connect {c.name} ({c.urls[0]})" for c in connects]
    parts += [f"Redpanda Connect {p.name} ({p.url})" for p in pipelines]
    return " · ".join(parts) or MISSING


def summary(environment: Environment, connects: list[ConnectCluster], pipelines: list[RedpandaConnect]) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim")
    grid.add_column()
    grid.add_column(style="dim")
    grid.add_column()
    agent = environment.status.agent
    metrics = agent.metrics if agent else None
    metadata = ", ".join(f"{k}={v}" for k, v in environment.metadata.items()) or MISSING
    rows = [
        ("Name", Text(environment.name, style="bold"), "Agent", agent_state(environment)),
        ("Display name", environment.display_name, "Agent host",
         f"{agent.agent.hostname} ({agent.agent.version})" if agent and agent.agent else MISSING),
        ("Tier", tier(environment.tier.value), "Kafka",
         f"{metrics.kafka.version or MISSING} · {plural(metrics.kafka.num_brokers, 'broker')}" if metrics else MISSING),
        ("LRN", environment.lrn, "Data",
         f"{plural(metrics.data.num_topics, 'topic')} · {human_bytes(metrics.data.topic_data_total_bytes)}"
         if metrics else MISSING),
        ("Created", environment.created_at.strftime("%Y-%m-%d %H:%M UTC"), "Throughput",
         f"in {human_rate(metrics.data.data_in_bytes_per_sec)} · out {human_rate(metrics.data.data_out_bytes_per_sec)}"
         if metrics else MISSING),
        ("Metadata", metadata, "Updated", agent.updated_at.strftime("%H:%M:%S") if agent else MISSING),
        ("Reaches", services_line(connects, pipelines), "Connectors",
         count(metrics.connect.num_connectors) if metrics else MISSING),
    ]
    for cells in rows:
        grid.add_row(*cells)
    for issue in agent.issues if agent else []:
        grid.add_row(Text("Issue", style="bold red"), Text(issue, style="red"), "", "")
    return grid


def k2k_lines(environment: str, apps: list[K2KApp]) -> Text:
    """The K2K apps that read from or write to `environment`, one line each."""
    lines = Text()
    for app in apps:
        source, target = environment_of(app.spec.sourceKafkaLRN), environment_of(app.spec.targetKafkaLRN)
        if environment not in (source, target):
            continue
        role = "reads from here" if source == environment else "writes here"
        if source == target == environment:
            role = "reads and writes here"
        lines.append(f"{app.metadata.name}", style="bold")
        lines.append(f"  {source} → {target}  {role}  ")
        lines.append_text(state_text(app.status.state.value))
        lines.append("\n")
    return lines if lines.plain else Text("None read from or write to this environment (:k2k lists them all).",
                                          style="dim")


@detail_of(Kind.environment)
class EnvironmentDetailScreen(ResourceScreen):
    # The K2K apps that touch this environment too, but not their metrics (the section shows no figures).
    FEED_KINDS = frozenset({Kind.environment, Kind.kafka_connection, Kind.connect_cluster, Kind.redpanda_connect,
                            Kind.k2k})
    MUTATING = frozenset({"new_connection", "edit_connection", "delete_connection", "renew_key"})

    BINDINGS = [
        Binding("escape", "back", "Back", id="detail.back"),
        Binding("a,n", "new_connection", "Add", id="connections.new"),
        Binding("e", "edit_connection", "Edit", id="connections.edit"),
        Binding("d", "delete_connection", "Delete", id="connections.delete"),
        Binding("r", "renew_key", "Renew key", id="environment.renew_key"),
    ]

    DEFAULT_CSS = """
    EnvironmentDetailScreen #summary { height: auto; padding: 1 2; background: $surface; }
    EnvironmentDetailScreen .section { padding: 1 1 0 1; text-style: bold; color: $text-accent; }
    EnvironmentDetailScreen TableTitle { height: auto; }
    EnvironmentDetailScreen #no-connections { padding: 0 1; color: $text-muted; }
    EnvironmentDetailScreen #k2k-apps { padding: 0 1; height: auto; max-height: 8; }
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(name=f"environment:{environment.name}")
        self.environment = environment
        self.connections: dict[str, KafkaConnection] = {}
        self.connects: list[ConnectCluster] = []
        self.pipelines: list[RedpandaConnect] = []

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(summary(self.environment, [], []), id="summary")
        yield TableTitle("Kafka connections", table="connections", ruled=False, classes="section")
        yield Static("", id="no-connections")
        yield ResourceTable(CONNECTION_COLUMNS, id="connections")
        yield Label("K2K apps", classes="section")
        yield Static("", id="k2k-apps")
        yield from self.compose_filter()
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.environment.name
        self.app.feeds.follow(self.FEED_KINDS)
        self.run_worker(self.load(), exclusive=True, group="load")

    def on_screen_resume(self) -> None:
        self.app.focus_environment = self.environment.name
        self.app.focus_tier = self.environment.tier.value

    async def load(self) -> None:
        name = self.environment.name
        client = self.app.client
        try:
            self.connects = await client.list_connect_clusters(name)
            self.pipelines = await client.list_redpanda_connects(name)
            self._show_environment(await client.get_environment(name))
            connections = await client.list_connections(name)
        except APIError as exc:
            if exc.status == 404:
                self._gone()
                return
            self.notify(f"Cannot load {name}: {exc}", severity="error")
            return
        except Unreachable as exc:
            self.notify(str(exc), severity="error")
            return
        self.connections = {c.name: c for c in connections}
        self.table.replace_all((c.name, connection_row(c)) for c in connections)
        self._show_empty_hint()
        await self.load_k2k()

    async def load_k2k(self) -> None:
        try:
            apps, _ = await self.app.client.list_k2k()
        except (APIError, Unreachable):
            return  # the section keeps what it showed; the rest of the screen matters more
        self.query_one("#k2k-apps", Static).update(k2k_lines(self.environment.name, apps))

    def _show_environment(self, environment: Environment) -> None:
        self.environment = environment
        self.query_one("#summary", Static).update(summary(environment, self.connects, self.pipelines))
        if self.app.screen is self:
            self.on_screen_resume()

    def _show_empty_hint(self) -> None:
        hint = "" if self.connections else "No Kafka connections. Press a to add one: the agent reaches Kafka with it."
        line = self.query_one("#no-connections", Static)
        line.update(hint)
        line.display = bool(hint)

    def _gone(self) -> None:
        self.notify(f"Environment {self.environment.name!r} was deleted.", severity="warning")
        if self.app.screen is self:
            self.dismiss()

    def on_refetch(self, _: Refetch) -> None:
        self.run_worker(self.load(), exclusive=True, group="load")

    def on_live_change(self, message: LiveChange) -> None:
        change = message.change
        name = self.environment.name
        if change.kind is Kind.environment and change.name == name:
            if change.deleted:
                self._gone()
            else:
                self._show_environment(change.payload)  # type: ignore[arg-type]
        elif change.kind in (Kind.connect_cluster, Kind.redpanda_connect) and change.environment == name:
            self.run_worker(self.load(), exclusive=True, group="load")
        elif change.kind is Kind.kafka_connection and change.environment == name:
            if change.deleted:
                self.connections.pop(change.name, None)
                self.table.remove(change.name)
            else:
                connection: KafkaConnection = change.payload  # type: ignore[assignment]
                self.connections[connection.name] = connection
                self.table.upsert(connection.name, connection_row(connection))
            self._show_empty_hint()
        elif change.kind is Kind.k2k:  # the section is small: read it again
            self.run_worker(self.load_k2k(), exclusive=True, group="k2k")

    def _selected(self) -> KafkaConnection | None:
        selected = self.connections.get(self.table.selected_key or "")
        if selected is None:
            self.notify("No connection selected.", severity="warning", timeout=2)
        return selected

    # actions

    def action_back(self) -> None:
        self.dismiss()

    def action_new_connection(self) -> None:
        self.app.push_screen(ConnectionForm(self.environment.name), self._saved)

    def action_edit_connection(self) -> None:
        if selected := self._selected():
            self.app.push_screen(ConnectionForm(self.environment.name, selected), self._saved)

    def _saved(self, connection: KafkaConnection | None) -> None:
        if connection:
            self.notify(f"Kafka connection {connection.name!r} saved.", timeout=3)

    def action_delete_connection(self) -> None:
        selected = self._selected()
        if selected is None:
            return

        connection = f"environments:kafka-connection/{self.environment.name}/{selected.name}"
        confirm_then(
            self.app,
            ConfirmDialog(f"Delete Kafka connection {selected.name}?",
                          f"Apps that use {connection} lose their cluster."),
            lambda: self.app.client.delete_connection(self.environment.name, selected.name),
            failed="Delete failed",
            done=lambda _: self.notify(f"Kafka connection {selected.name!r} deleted.", timeout=3),
        )

    def action_renew_key(self) -> None:
        renew_agent_key(self.app, self.environment.name)
