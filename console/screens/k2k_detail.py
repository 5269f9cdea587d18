"""One K2K app: its spec, state, workers and errors, and per topic and partition the source
log end, target log end, committed position and lag; records/s in and out over the last
minutes as sparklines. All live."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Sparkline, Static

from backend.k2k.models import K2KApp, K2KMetrics
from console.client import APIError, Unreachable
from console.client.events import Kind
from console.format import MISSING, count
from console.messages import LiveChange, Refetch
from console.screens.k2k_actions import toggle_pause
from console.screens.registry import detail_of
from console.screens.rows import per_second, state_text
from console.widgets.status_header import StatusHeader

HISTORY = 60  # samples: three minutes at one metrics event every 3 s


def summary(app: K2KApp) -> Text:
    spec, status, meta = app.spec, app.status, app.metadata
    mode = "exactly-once" if spec.replicator.exactlyOnce else "at-least-once"
    options = [name for name, on in (("auto-create topics", spec.replicator.autoCreateTopics),
                                     ("keep timestamps", spec.replicator.keepRecordCreationTimestamp)) if on]
    lines = Text()
    lines.append(meta.displayName or meta.name, style="bold")
    if meta.description:
        lines.append(f"  {meta.description}", style="dim")
    lines.append("\n")
    lines.append_text(state_text(status.state.value))
    lines.append(f"  {status.statusMessage or ''}")
    if status.statusLastTransitionAt:
        lines.append(f"  (since {status.statusLastTransitionAt})", style="dim")
    lines.append(f"\n{spec.sourceKafkaLRN}\n  → {spec.targetKafkaLRN}\n")
    lines.append(f"topics {', '.join(spec.topics)} · {mode}" + "".join(f" · {o}" for o in options))
    lines.append(f"\ngeneration {meta.generation}, observed {status.observedGeneration}")
    if status.kafka:
        lines.append(f" · group {status.kafka.consumerGroup}", style="dim")
    return lines


@detail_of(Kind.k2k)
class K2KDetailScreen(Screen):
    FEED_KINDS = frozenset({Kind.k2k, Kind.k2k_metrics})
    BINDINGS = [
        Binding("o", "offsets", "Offsets", id="k2k_detail.offsets"),
        Binding("p", "pause", "Pause/resume", id="k2k_detail.pause"),
        Binding("e", "edit", "Edit", id="k2k_detail.edit"),
        Binding("escape", "app.pop_screen", "Back", id="k2k_detail.back"),
    ]
    MUTATING = frozenset({"offsets", "pause", "edit"})

    DEFAULT_CSS = """
    K2KDetailScreen #top { height: auto; }
    K2KDetailScreen #summary { width: 1fr; height: auto; padding: 0 1; }
    K2KDetailScreen #rates { width: 44; height: auto; padding: 0 1; }
    K2KDetailScreen #rates Sparkline { height: 2; margin-bottom: 1; }
    K2KDetailScreen .caption { color: $text-muted; }
    K2KDetailScreen #pods, K2KDetailScreen #resources { height: auto; max-height: 6; }
    K2KDetailScreen #errors { color: $warning; height: auto; padding: 0 1; }
    K2KDetailScreen #partitions { height: 1fr; }
    """

    def __init__(self, app_: K2KApp, metrics: K2KMetrics | None) -> None:
        super().__init__(name="k2k-detail")
        self.k2k = app_
        self.metrics = metrics
        self.rates_in: deque[float] = deque(maxlen=HISTORY)
        self.rates_out: deque[float] = deque(maxlen=HISTORY)

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with Horizontal(id="top"):
            yield Static(id="summary")
            with Vertical(id="rates"):
                yield Static("records/s in", id="in-caption", classes="caption")
                yield Sparkline([], id="in")
                yield Static("records/s out", id="out-caption", classes="caption")
                yield Sparkline([], id="out")
        yield DataTable(id="pods", cursor_type="none", zebra_stripes=False)
        yield DataTable(id="resources", cursor_type="none", zebra_stripes=False)  # Kubernetes apps
        yield Static(id="errors")
        yield DataTable(id="partitions", cursor_type="row")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MUTATING and self.app.read_only)

    def on_mount(self) -> None:
        self.title = f"K2K app {self.k2k.metadata.name}"
        pods = self.query_one("#pods", DataTable)
        pods.add_columns("WORKER", "STATE", "REASON", "LAST TERMINATION")
        self.query_one("#resources", DataTable).add_columns("RESOURCE", "NAMESPACE", "STATUS", "REASON")
        partitions = self.query_one("#partitions", DataTable)
        partitions.add_columns("TOPIC", "PARTITION", "SOURCE END", "TARGET END", "COMMITTED", "LAG")
        self._show_app()
        self._show_metrics(sample=True)
        partitions.focus()
        self.app.feeds.follow(self.FEED_KINDS)
        if self.metrics is None:  # the list had only a summary: the full figures come with the app
            self.run_worker(self._load(), group="load")

    async def _load(self) -> None:
        try:
            app = await self.app.client.get_k2k(self.k2k.metadata.name)
        except (APIError, Unreachable) as exc:
            self.notify(f"Cannot load {self.k2k.metadata.name}: {exc}", severity="error", timeout=5)
            return
        self.k2k = app
        self._show_app()
        if app.metrics is not None and self.metrics is None:
            self.metrics = app.metrics
            self._show_metrics(sample=True)

    def _show_app(self) -> None:
        self.query_one("#summary", Static).update(summary(self.k2k))
        deployment = self.k2k.status.deployment
        self._fill("#pods", [(pod.name, state_text(pod.state), pod.reason or "",
                              f"{pod.lastTermination.time} {pod.lastTermination.message}"
                              if pod.lastTermination else "") for pod in deployment.pods])
        self._fill("#resources", [(f"{r.kind}/{r.name}", r.namespace, state_text(r.status), r.reason or "")
                                  for r in deployment.managedResources])

    def _fill(self, selector: str, rows: list[tuple[object, ...]]) -> None:
        """Replaces a small table's rows; a table with none is not shown."""
        table = self.query_one(selector, DataTable)
        table.clear()
        table.add_rows(rows)
        table.display = bool(rows)

    def _show_metrics(self, *, sample: bool) -> None:
        metrics = self.metrics
        errors = self.query_one("#errors", Static)
        problems = ([metrics.error_message] if metrics and metrics.error_message else []) + (
            metrics.errors[-3:] if metrics else [])
        errors.update("\n".join(f"⚠ {p}" for p in problems))
        errors.display = bool(problems)
        if metrics is None:
            return
        rate_in = sum(t.throughput.records_per_second for t in metrics.source_topics)
        rate_out = sum(t.throughput.records_per_second for t in metrics.destination_topics)
        if sample:
            self.rates_in.append(rate_in)
            self.rates_out.append(rate_out)
        # All zeros would draw as full bars: an idle app shows no bars instead.
        # Anchored at zero (a sparkline scales min..max, which would make noise look like swings).
        self.query_one("#in", Sparkline).data = [0.0, *self.rates_in] if any(self.rates_in) else []
        self.query_one("#out", Sparkline).data = [0.0, *self.rates_out] if any(self.rates_out) else []
        self.query_one("#in-caption", Static).update(f"records/s in  {per_second(rate_in)}")
        self.query_one("#out-caption", Static).update(f"records/s out {per_second(rate_out)}")
        table = self.query_one("#partitions", DataTable)
        cursor = table.cursor_row
        table.clear()
        sources = {t.name: {p.partition: p.log_end_offset for p in t.offsets.partitions} for t in metrics.source_topics}
        for topic in metrics.destination_topics:
            for p in topic.offsets.partitions:
                source_end = sources.get(topic.name, {}).get(p.partition)
                committed = source_end - p.lag if source_end is not None else None
                lag = Text(count(p.lag), style="yellow" if p.lag else "green")
                table.add_row(topic.name, str(p.partition), count(source_end), count(p.log_end_offset),
                              count(committed) if committed is not None else MISSING, lag,
                              key=f"{topic.name}/{p.partition}")
        if table.row_count:
            table.move_cursor(row=min(cursor, table.row_count - 1))

    def on_refetch(self, _: Refetch) -> None:
        self.run_worker(self._load(), group="load")

    def on_live_change(self, message: LiveChange) -> None:
        change = message.change
        name = change.name
        if name != self.k2k.metadata.name:
            return
        if change.deleted:
            self.notify(f"K2K app {name!r} was deleted.", severity="warning", timeout=4)
            self.app.pop_screen()
        elif change.kind is Kind.k2k_metrics:
            self.metrics = change.payload  # type: ignore[assignment]
            self._show_metrics(sample=True)
        else:
            self.k2k = change.payload  # type: ignore[assignment]
            self._show_app()

    def _selected_topic(self) -> str | None:
        table = self.query_one("#partitions", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value or ""
        return key.rpartition("/")[0] or None

    def action_offsets(self) -> None:
        from console.screens.offsets import open_offsets_editor

        open_offsets_editor(self, self.k2k, self.metrics, topic=self._selected_topic())

    def action_pause(self) -> None:
        toggle_pause(self, self.k2k)

    def action_edit(self) -> None:
        from console.screens.k2k_editor import K2KEditor

        self.app.push_screen(K2KEditor(self.k2k))
