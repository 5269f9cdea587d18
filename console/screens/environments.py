"""The home screen: every environment with its agent and cluster figures, live."""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.widgets import DataTable

from backend.environments.models import Environment, EnvironmentWithKey
from console.client.events import FeedEvent, Kind
from console.format import MISSING, count, human_rate, tier
from console.screens.agent_key import AgentKeyDialog, renew_agent_key
from console.screens.confirm import ConfirmDialog, confirm_then
from console.screens.environment_form import EnvironmentForm
from console.screens.live_list import LiveListScreen
from console.screens.rows import agent_state
from console.widgets.resource_table import Column

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


class EnvironmentsScreen(LiveListScreen[Environment]):
    NOUN, ITEM = "environments", "environment"
    COLUMNS, TABLE_ID = COLUMNS, "environments"
    MODEL, FEED_KINDS = Environment, frozenset({Kind.environment})
    DETAIL = Kind.environment
    EMPTY_HINT = "No environments yet. Press n to create one."
    EMPTY_HINT_READ_ONLY = "No environments yet (read-only mode)."
    MUTATING = frozenset({"new", "edit", "delete", "renew_key"})

    BINDINGS = [
        Binding("enter", "open", "Open", id="environments.open"),
        Binding("n", "new", "New", id="environments.new"),
        Binding("e", "edit", "Edit", id="environments.edit"),
        Binding("d", "delete", "Delete", id="environments.delete"),
        # Rare (a leaked key): in `?` help, so the footer keeps room for the screens it leads to.
        Binding("r", "renew_key", "Renew key", id="environments.renew_key", show=False),
        Binding("k", "k2k", "K2K apps", id="environments.k2k"),
        Binding("c", "connectors", "Connectors", id="environments.connectors"),
        Binding("t", "topics", "Topics", id="environments.topics"),
        Binding("g", "groups", "Groups", id="environments.groups"),
    ]

    def __init__(self) -> None:
        super().__init__(name="environments")

    async def fetch(self) -> tuple[list[Environment], int | None]:
        return await self.app.client.list_environments()

    def key(self, item: Environment) -> str:
        return item.name

    def row(self, item: Environment) -> tuple[Any, ...]:
        return row(item)

    def apply(self, change: FeedEvent) -> str | None:  # the header shows the environment in focus
        key = super().apply(change)
        if key is not None and key == self.table.selected_key:
            self._focus_selected()
        return key

    # the environment in focus colours the header

    def on_screen_resume(self) -> None:
        self._focus_selected()

    def on_data_table_row_highlighted(self, _: DataTable.RowHighlighted) -> None:
        self._focus_selected()

    def _focus_selected(self) -> None:
        selected = self.items.get(self.table.selected_key or "")
        self.app.focus_environment = selected.name if selected else ""
        self.app.focus_tier = selected.tier.value if selected else ""

    # actions

    def action_new(self) -> None:
        def created(result: Environment | EnvironmentWithKey | None) -> None:
            if isinstance(result, EnvironmentWithKey):
                self.notify(f"Environment {result.name!r} created.", timeout=3)
                self.app.push_screen(AgentKeyDialog(result.name, result.agent_key))

        self.app.push_screen(EnvironmentForm(), created)

    def action_edit(self) -> None:
        if selected := self.selected():
            self.app.push_screen(EnvironmentForm(selected),
                                 lambda result: result and self.notify(f"Environment {selected.name!r} saved.",
                                                                       timeout=3))

    def action_delete(self) -> None:
        selected = self.selected()
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

    def action_connectors(self) -> None:
        self.app.show_connectors()

    def action_groups(self) -> None:
        if selected := self.selected():
            self.app.show_groups(selected.name)

    def action_topics(self) -> None:
        if selected := self.selected():
            self.app.show_topics(selected.name)

    def action_renew_key(self) -> None:
        if selected := self.selected():
            renew_agent_key(self.app, selected.name)
