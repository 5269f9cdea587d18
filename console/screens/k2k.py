"""The K2K apps screen: every replication app, live from the K2K feed, with its throughput,
lag and state; create/edit in the YAML editor, pause/resume, delete, offsets, detail."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.binding import Binding

from backend.k2k.models import K2KApp, K2KMetrics
from console.client.events import FeedEvent, Kind
from console.format import count
from console.screens.confirm import ConfirmDialog, confirm_then
from console.screens.k2k_actions import toggle_pause
from console.screens.live_list import LiveListScreen
from console.screens.rows import environment_of, per_second, state_text
from console.widgets.resource_table import Column


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


class K2KAppsScreen(LiveListScreen[K2KApp]):
    NOUN, ITEM = "K2K apps", "K2K app"
    COLUMNS, TABLE_ID = COLUMNS, "k2k-apps"
    MODEL, FEED_KINDS = K2KApp, frozenset({Kind.k2k, Kind.k2k_metrics})
    DETAIL = Kind.k2k
    EMPTY_HINT = "No K2K apps yet. Press n to create one."
    EMPTY_HINT_READ_ONLY = "No K2K apps yet."
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

    def __init__(self) -> None:
        super().__init__(name="k2k")
        self.metrics: dict[str, K2KMetrics] = {}

    async def fetch(self) -> tuple[list[K2KApp], int | None]:
        return await self.app.client.list_k2k()

    def key(self, item: K2KApp) -> str:
        return item.metadata.name

    def row(self, item: K2KApp) -> tuple[Any, ...]:
        return row(item, self.metrics.get(item.metadata.name))

    def detail_arguments(self, item: K2KApp) -> tuple[Any, ...]:
        return (item, self.metrics.get(item.metadata.name))

    def apply(self, change: FeedEvent) -> str | None:
        if change.kind is Kind.k2k_metrics:
            self.metrics[change.name] = change.payload  # type: ignore[assignment]
            return change.name
        if change.deleted:
            self.metrics.pop(change.name, None)
        return super().apply(change)

    # actions

    def action_new(self) -> None:
        from console.screens.k2k_editor import K2KEditor

        self.app.push_screen(K2KEditor())

    def action_edit(self) -> None:
        from console.screens.k2k_editor import K2KEditor

        if selected := self.selected():
            self.app.push_screen(K2KEditor(selected))

    def action_pause(self) -> None:
        if selected := self.selected():
            toggle_pause(self, selected)

    def action_offsets(self) -> None:
        from console.screens.offsets import open_offsets_editor

        if selected := self.selected():
            open_offsets_editor(self, selected, self.metrics.get(selected.metadata.name))

    def action_delete(self) -> None:
        selected = self.selected()
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
