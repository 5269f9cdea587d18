"""One Kafka Connect cluster of an environment: what it runs (version, commit, the Kafka cluster
it stores its state on), the plugins its workers have, and its loggers, whose levels can be
changed here (KIP-495; `/` filters them, a worker has hundreds). `[` and `]` go to the
environment's other Connect clusters."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, OptionList, Static
from textual.widgets.option_list import Option

from backend.connect.models import ConnectInfo, LoggerLevel, LoggerLevelChange, PluginItem
from console.client import APIError, Unreachable
from console.format import MISSING
from console.screens.base import ResourceScreen
from console.widgets.resource_table import Column, ResourceTable
from console.widgets.status_header import StatusHeader
from console.widgets.table_title import TableTitle

LEVELS: tuple[str, ...] = LoggerLevelChange.model_fields["level"].annotation.__args__  # type: ignore[union-attr]
LEVEL_STYLES = {"ERROR": "red", "FATAL": "bold red", "WARN": "yellow", "DEBUG": "cyan", "TRACE": "magenta"}


def info_line(cluster: str, info: ConnectInfo | None, problem: str = "") -> Text:
    line = Text(cluster, style="bold")
    if info is not None:
        line.append(f"  Kafka Connect {info.version}  commit {info.commit or MISSING}"
                    f"  Kafka cluster {info.kafkaClusterId or MISSING}")
    if problem:
        line.append(f"  {problem}", style="red")
    return line


LOGGER_COLUMNS = [
    Column("name", "LOGGER"),
    Column("level", "LEVEL", lambda level: Text(level, style=LEVEL_STYLES.get(level, ""))),
    Column("modified", "LAST MODIFIED", lambda milliseconds: modified(milliseconds)),
]


def modified(milliseconds: int | None) -> str:
    if milliseconds is None:
        return MISSING
    return datetime.fromtimestamp(milliseconds / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class LevelDialog(ModalScreen[str | None]):
    """Picks a logger's new level; the current one is under the cursor."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="level.cancel")]
    DEFAULT_CSS = """
    LevelDialog { align: center middle; }
    LevelDialog > OptionList { width: 40; height: auto; border: thick $accent; }
    """

    def __init__(self, logger: str, level: str) -> None:
        super().__init__()
        self.logger = logger
        self.level = level

    def compose(self) -> ComposeResult:
        options = OptionList(*(Option(level, id=level) for level in LEVELS))
        options.border_title = self.logger
        yield options

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.level in LEVELS:
            options.highlighted = LEVELS.index(self.level)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConnectClusterScreen(ResourceScreen):
    MUTATING = frozenset({"set_level"})
    BINDINGS = [
        Binding("l", "set_level", "Set level", id="connect_cluster.set_level"),
        Binding("left_square_bracket", "other(-1)", "Previous cluster", id="connect_cluster.previous"),
        Binding("right_square_bracket", "other(1)", "Next cluster", id="connect_cluster.next"),
        Binding("escape", "app.pop_screen", "Back", id="connect_cluster.back"),
    ]

    DEFAULT_CSS = """
    ConnectClusterScreen #info { height: auto; padding: 1 2; background: $surface; }
    ConnectClusterScreen .section { height: auto; padding: 1 1 0 1; text-style: bold; color: $text-accent; }
    ConnectClusterScreen #plugins { height: auto; max-height: 12; }
    ConnectClusterScreen #loggers { height: 1fr; }
    """

    def __init__(self, environment: str, cluster: str | None = None) -> None:
        """`cluster`: the one to show first (None: the environment's first)."""
        super().__init__(name=f"connect-cluster:{environment}")
        self.environment = environment
        self.cluster = cluster
        self.clusters: list[str] = [cluster] if cluster else []
        self.loggers: dict[str, LoggerLevel] = {}

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(id="info")
        yield Label("Plugins", classes="section")
        yield DataTable(id="plugins", cursor_type="row")
        yield TableTitle("Loggers", table="loggers", ruled=False, classes="section")
        yield ResourceTable(LOGGER_COLUMNS, id="loggers")
        yield from self.compose_filter()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#plugins", DataTable).add_columns("CLASS", "TYPE", "VERSION")
        self.table.focus()
        self.run_worker(self.load(), exclusive=True, group="load")

    async def load(self) -> None:
        client = self.app.client
        try:
            self.clusters = sorted(c.name for c in await client.list_connect_clusters(self.environment))
        except (APIError, Unreachable) as exc:
            self.notify(f"Cannot list the Connect clusters of {self.environment}: {exc}", severity="error")
        if self.cluster is None:
            self.cluster = self.clusters[0] if self.clusters else None
        if self.cluster is None:
            self.query_one("#info", Static).update(f"{self.environment} has no Kafka Connect cluster.")
            return
        self.title = f"Connect cluster {self.environment} · {self.cluster}"
        await self._read_cluster(self.cluster)

    async def _read_cluster(self, cluster: str) -> None:
        connect = self.app.client.connect
        problems: list[str] = []
        info: ConnectInfo | None = None
        plugins: list[PluginItem] = []
        try:
            info = await connect.info(self.environment, cluster)
            plugins = (await connect.plugins(self.environment, clusters=[cluster])).data
        except (APIError, Unreachable) as exc:
            problems.append(str(exc))
        try:
            self.loggers = {logger.name: logger for logger in await connect.loggers(self.environment, cluster)}
        except (APIError, Unreachable) as exc:
            problems.append(f"loggers: {exc}")
            self.loggers = {}
        self.query_one("#info", Static).update(info_line(cluster, info, "; ".join(problems)))
        table = self.query_one("#plugins", DataTable)
        table.clear()
        for plugin in sorted(plugins, key=lambda p: p.class_):
            table.add_row(plugin.class_, plugin.type, plugin.version, key=plugin.class_)
        self._show_loggers()

    def _show_loggers(self) -> None:
        self.table.replace_all((name, (name, logger.level, logger.lastModified))
                               for name, logger in self.loggers.items())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is self.table:
            self.action_set_level()

    def selected_logger(self) -> LoggerLevel | None:
        return self.loggers.get(self.table.selected_key or "")

    def action_set_level(self) -> None:
        logger, cluster = self.selected_logger(), self.cluster
        if logger is None or cluster is None:
            self.notify("No logger selected.", severity="warning", timeout=2)
            return

        async def chosen(level: str | None) -> None:
            if level is None or level == logger.level:
                return
            try:
                await self.app.client.connect.set_logger(self.environment, cluster, logger.name, level)
                self.loggers = {x.name: x for x in await self.app.client.connect.loggers(self.environment, cluster)}
            except (APIError, Unreachable) as exc:
                self.notify(f"Setting {logger.name} to {level} failed: {exc}", severity="error")
                return
            self._show_loggers()
            self.notify(f"{logger.name} logs at {level} now.", timeout=3)

        self.app.push_screen(LevelDialog(logger.name, logger.level), chosen)

    def action_other(self, step: int) -> None:
        if len(self.clusters) < 2 or self.cluster not in self.clusters:
            self.notify("No other Connect cluster in this environment.", timeout=2)
            return
        self.cluster = self.clusters[(self.clusters.index(self.cluster) + step) % len(self.clusters)]
        self.title = f"Connect cluster {self.environment} · {self.cluster}"
        self.run_worker(self._read_cluster(self.cluster), exclusive=True, group="load")
