"""The K2K apps screen: every replication app, live from the K2K feed, with its throughput,
lag and state; create/edit in the YAML editor, pause/resume, delete, offsets, detail."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from backend.k2k.models import K2KApp, K2KMetrics
from console.client import APIError, Unreachable
from console.client.http import K2K_FEED
from console.format import MISSING, count
from console.messages import LiveChange
from console.screens.base import ResourceScreen
from console.screens.confirm import ConfirmDialog, confirm_then
from console.widgets.resource_table import Column, ResourceTable
from console.widgets.status_header import StatusHeader

STATE_STYLES = {"running": "green", "deploying": "cyan", "paused": "yellow", "failed": "bold red",
                "deleting": "magenta", "unknown": "dim",
                # a Kubernetes app's Deployments (backend.k2k.kubernetes)
                "available": "green", "not reporting": "dim", "scaled to 0": "yellow"}


def state_text(state: str) -> Text:
    return Text(f"● {state}", style=STATE_STYLES.get(state, ""))


def environment_of(lrn: str) -> str:
    """environments:kafka-connection/{env}/{conn} -> env (the LRN itself if it is not one)."""
    parts = lrn.split("/")
    return parts[1] if len(parts) == 3 else lrn


def per_second(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:,.0f}/s" if value >= 10 or value == 0 else f"{value:.1f}/s"


def generation(value: tuple[int, int]) -> Text:
    spec, observed = value
    return Text(f"{spec}/{observed}", style="" if spec == observed else "yellow")


COLUMNS = [
    Column("name", "NAME"),
    Column("route", "SOURCE → TARGET"),
    Column("topics", "TOPICS"),
    Column("state", "STATE", state_text),
    Column("in", "IN", per_second),
    Column("out", "OUT", per_second),
    Column("lag", "LAG", count),
    Column("generation", "GEN", generation),
]


def row(app: K2KApp, metrics: K2KMetrics | None) -> tuple[Any, ...]:
    """From the live metrics once they arrive; until then from the list's metrics summary."""
    spec = app.spec
    if metrics is not None:
        rate_in: float | None = sum(t.throughput.records_per_second for t in metrics.source_topics)
        rate_out: float | None = sum(t.throughput.records_per_second for t in metrics.destination_topics)
        lag: int | None = sum(p.lag for t in metrics.destination_topics for p in t.offsets.partitions)
    elif (summary := app.metrics_summary) is not None:
        rate_in, rate_out = summary.total_records_per_second_read, summary.total_records_per_second_written
        lag = summary.total_lag
    else:
        rate_in = rate_out = lag = None
    return (
        app.metadata.name,
        f"{environment_of(spec.sourceKafkaLRN)} → {environment_of(spec.targetKafkaLRN)}",
        ", ".join(spec.topics),
        app.status.state.value,
        rate_in,
        rate_out,
        lag,
        (app.metadata.generation, app.status.observedGeneration),
    )


class K2KAppsScreen(ResourceScreen):
    MUTATING = frozenset({"new", "edit", "delete", "pause", "offsets"})

    BINDINGS = [
        Binding("enter", "open", "Open", id="k2k.open"),
        Binding("n", "new", "New", id="k2k.new"),
        Binding("e", "edit", "Edit", id="k2k.edit"),
        Binding("p", "pause", "Pause/resume", id="k2k.pause"),
        Binding("o", "offsets", "Offsets", id="k2k.offsets"),
        Binding("d", "delete", "Delete", id="k2k.delete"),
        Binding("escape", "app.pop_screen", "Back", id="k2k.back"),
    ]

    DEFAULT_CSS = """
    K2KAppsScreen #empty { padding: 1 2; color: $text-muted; display: none; }
    K2KAppsScreen #empty.-shown { display: block; }
    """

    def __init__(self) -> None:
        super().__init__(name="k2k")
        self.apps: dict[str, K2KApp] = {}
        self.metrics: dict[str, K2KMetrics] = {}

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static("Loading K2K apps…", id="empty", classes="-shown")
        yield ResourceTable(COLUMNS, id="k2k-apps")
        yield from self.compose_filter()
        yield Footer()

    def on_mount(self) -> None:
        self.title = "K2K apps"
        self.run_worker(self.load(), exclusive=True, group="load")

    async def load(self) -> None:
        try:
            items, last_event_id = await self.app.client.list_k2k()
        except (APIError, Unreachable) as exc:
            self._show_message(f"Cannot load K2K apps: {exc}")
            self.app.follow(K2K_FEED, None)
            return
        self.apps = {a.metadata.name: a for a in items}
        self.table.replace_all((name, row(a, self.metrics.get(name))) for name, a in self.apps.items())
        self._show_empty_hint()
        self.app.follow(K2K_FEED, last_event_id)

    def _show_message(self, text: str) -> None:
        empty = self.query_one("#empty", Static)
        empty.update(text)
        empty.set_class(bool(text), "-shown")

    def _show_empty_hint(self) -> None:
        if self.apps:
            self._show_message("")
        else:
            self._show_message("No K2K apps yet." + ("" if self.app.read_only else " Press n to create one."))

    def on_live_change(self, message: LiveChange) -> None:
        kind, _, verb = message.event.partition(".")
        if message.event == "resync":
            self.run_worker(self.load(), exclusive=True, group="load")
            return
        if kind != "k2k":
            return
        name = message.data.get("name") or message.data.get("metadata", {}).get("name")
        if verb == "deleted":
            self.apps.pop(name, None)
            self.metrics.pop(name, None)
            self.table.remove(name)
        elif verb == "metrics":
            self.metrics[name] = K2KMetrics.model_validate(message.data["metrics"])
        else:
            self.apps[name] = K2KApp.model_validate(message.data)
        if name in self.apps:
            self.table.upsert(name, row(self.apps[name], self.metrics.get(name)))
        self._show_empty_hint()

    def _selected(self) -> K2KApp | None:
        selected = self.apps.get(self.table.selected_key or "")
        if selected is None:
            self.notify("No K2K app selected.", severity="warning", timeout=2)
        return selected

    # actions

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        from console.screens.k2k_detail import K2KDetailScreen

        if selected := self._selected():
            self.app.push_screen(K2KDetailScreen(selected, self.metrics.get(selected.metadata.name)))

    def action_new(self) -> None:
        from console.screens.k2k_editor import K2KEditor

        self.app.push_screen(K2KEditor())

    def action_edit(self) -> None:
        from console.screens.k2k_editor import K2KEditor

        if selected := self._selected():
            self.app.push_screen(K2KEditor(selected))

    def action_pause(self) -> None:
        if selected := self._selected():
            toggle_pause(self, selected)

    def action_offsets(self) -> None:
        from console.screens.offsets import open_offsets_editor

        if selected := self._selected():
            open_offsets_editor(self, selected, self.metrics.get(selected.metadata.name))

    def action_delete(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        name = selected.metadata.name
        confirm_then(
            self.app,
            ConfirmDialog(f"Delete K2K app {name}?",
                          f"Its workers stop; copied topics stay on the target, and so do its positions "
                          f"(consumer group {selected.status.kafka.consumerGroup if selected.status.kafka else ''})."),
            lambda: self.app.client.delete_k2k(name),
            failed="Delete failed",
            done=lambda _: self.notify(f"K2K app {name!r} deleted.", timeout=3),
        )


def toggle_pause(screen: Any, app: K2KApp) -> None:
    """p: pause a running app, resume a paused one (a merge patch of spec.paused)."""
    name, paused = app.metadata.name, app.spec.paused

    async def flip() -> None:
        try:
            await screen.app.client.patch_k2k(name, {"spec": {"paused": not paused}})
        except (APIError, Unreachable) as exc:
            screen.notify(f"{'Resume' if paused else 'Pause'} failed: {exc}", severity="error", timeout=6)
            return
        screen.notify(f"{name}: {'resuming' if paused else 'pausing'}…", timeout=3)

    screen.run_worker(flip(), group="pause")
