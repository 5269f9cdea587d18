"""The home screen: every environment with its agent and cluster figures, live."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from backend.environments.models import Environment, EnvironmentWithKey
from console.client import APIError, Unreachable
from console.client.http import K2K_FEED
from console.format import MISSING, count, human_rate, tier
from console.messages import LiveChange
from console.screens.agent_key import AgentKeyDialog, renew_agent_key
from console.screens.base import ResourceScreen
from console.screens.confirm import ConfirmDialog, confirm_then
from console.screens.environment_form import EnvironmentForm
from console.widgets.resource_table import Column, ResourceTable
from console.widgets.status_header import StatusHeader

ENVIRONMENTS_FEED = "/v1/environments/live/sse"


def agent_state(environment: Environment) -> Text:
    status = environment.status
    if status.agent is None:
        return Text("○ no agent", style="dim")
    if not status.agent_connected:
        return Text("○ disconnected", style="red")
    issues = len(status.agent.issues)
    return Text.assemble(("● connected", "green"), (f" ⚠{issues}", "yellow") if issues else "")


COLUMNS = [
    Column("name", "NAME"),
    Column("display_name", "DISPLAY NAME"),
    Column("tier", "TIER", tier),
    Column("agent", "AGENT", lambda value: value),
    Column("kafka", "KAFKA", lambda value: value or MISSING),
    Column("brokers", "BROKERS", count),
    Column("topics", "TOPICS", count),
    Column("in", "IN", human_rate),
    Column("out", "OUT", human_rate),
    Column("connectors", "CONNECTORS", count),
]


def row(environment: Environment) -> tuple[Any, ...]:
    agent = environment.status.agent
    metrics = agent.metrics if agent else None
    return (
        environment.name,
        environment.display_name,
        environment.tier.value,
        agent_state(environment),
        metrics.kafka.version if metrics else None,
        metrics.kafka.num_brokers if metrics else None,
        metrics.data.num_topics if metrics else None,
        metrics.data.data_in_bytes_per_sec if metrics else None,
        metrics.data.data_out_bytes_per_sec if metrics else None,
        metrics.connect.num_connectors if metrics else None,
    )


class EnvironmentsScreen(ResourceScreen):
    MUTATING = frozenset({"new", "edit", "delete", "renew_key"})

    BINDINGS = [
        Binding("enter", "open", "Open", id="environments.open"),
        Binding("n", "new", "New", id="environments.new"),
        Binding("e", "edit", "Edit", id="environments.edit"),
        Binding("d", "delete", "Delete", id="environments.delete"),
        Binding("r", "renew_key", "Renew key", id="environments.renew_key"),
        Binding("k", "k2k", "K2K apps", id="environments.k2k"),
    ]

    DEFAULT_CSS = """
    EnvironmentsScreen #empty { padding: 1 2; color: $text-muted; display: none; }
    EnvironmentsScreen #empty.-shown { display: block; }
    """

    def __init__(self) -> None:
        super().__init__(name="environments")
        self.environments: dict[str, Environment] = {}
        self._message = "Loading environments…"

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(self._message, id="empty", classes="-shown")
        yield ResourceTable(COLUMNS, id="environments")
        yield from self.compose_filter()
        yield Footer()

    def on_mount(self) -> None:
        self.title = "Environments"
        self.run_worker(self.load(), exclusive=True, group="load")

    def on_screen_resume(self) -> None:
        self._focus_selected()

    async def load(self) -> None:
        try:
            items, last_event_id = await self.app.client.list_environments()
        except (APIError, Unreachable) as exc:
            self._show_message(f"Cannot load environments: {exc}\nThe list appears when HQ answers again.")
            self.app.follow(ENVIRONMENTS_FEED, None)
            return
        self.environments = {e.name: e for e in items}
        self.table.replace_all((e.name, row(e)) for e in items)
        self._show_empty_hint()
        self.app.follow(ENVIRONMENTS_FEED, last_event_id)
        self.app.follow(K2K_FEED, None)  # environment details list the apps that touch them

    def _show_message(self, text: str) -> None:
        if text == self._message:
            return  # an update re-lays out the screen: not on every live event
        self._message = text
        empty = self.query_one("#empty", Static)
        empty.update(text)
        empty.set_class(bool(text), "-shown")

    def _show_empty_hint(self) -> None:
        hint = "" if self.environments else "No environments yet. Press n to create one."
        if self.app.read_only and not self.environments:
            hint = "No environments yet (read-only mode)."
        self._show_message(hint)

    def on_live_change(self, message: LiveChange) -> None:
        kind, _, verb = message.event.partition(".")
        if message.event == "resync":
            self.run_worker(self.load(), exclusive=True, group="load")
        elif kind == "environment" and verb == "deleted":
            self.environments.pop(message.data["name"], None)
            self.table.remove(message.data["name"])
            self._show_empty_hint()
        elif kind == "environment":
            environment = Environment.model_validate(message.data)
            self.environments[environment.name] = environment
            self.table.upsert(environment.name, row(environment))
            self._show_empty_hint()
            if environment.name == self.table.selected_key:
                self._focus_selected()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._focus_selected()

    def _focus_selected(self) -> None:
        selected = self.environments.get(self.table.selected_key or "")
        self.app.focus_environment = selected.name if selected else ""
        self.app.focus_tier = selected.tier.value if selected else ""

    def _selected(self) -> Environment | None:
        selected = self.environments.get(self.table.selected_key or "")
        if selected is None:
            self.notify("No environment selected.", severity="warning", timeout=2)
        return selected

    # actions

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        from console.screens.environment_detail import EnvironmentDetailScreen

        if selected := self._selected():
            self.app.push_screen(EnvironmentDetailScreen(selected))

    def action_new(self) -> None:
        def created(result: Environment | EnvironmentWithKey | None) -> None:
            if isinstance(result, EnvironmentWithKey):
                self.notify(f"Environment {result.name!r} created.", timeout=3)
                self.app.push_screen(AgentKeyDialog(result.name, result.agent_key))

        self.app.push_screen(EnvironmentForm(), created)

    def action_edit(self) -> None:
        if selected := self._selected():
            self.app.push_screen(EnvironmentForm(selected),
                                 lambda result: result and self.notify(f"Environment {selected.name!r} saved.",
                                                                       timeout=3))

    def action_delete(self) -> None:
        selected = self._selected()
        if selected is None:
            return

        production = selected.tier.value == "production"
        confirm_then(
            self.app,
            ConfirmDialog(
                f"Delete environment {selected.name}?",
                f"This deletes {selected.name!r} ({selected.tier.value}) and its Kafka connections. "
                "Its agent's key stops working.",
                type_to_confirm=selected.name if production else None,
            ),
            lambda: self.app.client.delete_environment(selected.name),
            failed="Delete failed",
            done=lambda _: self.notify(f"Environment {selected.name!r} deleted.", timeout=3),
        )

    def action_k2k(self) -> None:
        self.app.show_k2k()

    def action_renew_key(self) -> None:
        if selected := self._selected():
            renew_agent_key(self.app, selected.name)
