"""One record of a tail in full: where it is (partition, offset, time, eventId), its key, its
headers and its value (JSON pretty and highlighted; text as it is), scrollable; `y` copies the
record as the event API answers it, through the terminal (OSC 52, so it works over SSH)."""

from __future__ import annotations

from rich.json import JSON
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from backend.streams.models import ConsumedEvent
from console.widgets.status_header import StatusHeader


class RecordScreen(Screen[None]):
    BINDINGS = [
        Binding("y", "copy", "Copy", id="record.copy"),
        Binding("escape", "app.pop_screen", "Back", id="record.back"),
    ]

    DEFAULT_CSS = """
    RecordScreen #record-where { padding: 0 1; text-style: bold; color: $text-accent; }
    RecordScreen #record-body { height: 1fr; padding: 0 1; }
    RecordScreen .record-section { color: $text-muted; text-style: bold; margin-top: 1; }
    """

    def __init__(self, stream: str, event: ConsumedEvent) -> None:
        super().__init__(name="record")
        self.stream = stream
        self.event = event

    @property
    def copied_text(self) -> str:
        """What `y` copies: the record as the event API answers it."""
        return self.event.model_dump_json(indent=2)

    def compose(self) -> ComposeResult:
        event = self.event
        yield StatusHeader()
        yield Static(f"{event.eventId} · partition {event.partition} · offset {event.offset} · {event.timestamp}",
                     id="record-where")
        with VerticalScroll(id="record-body"):
            yield Static(f"KEY ({event.keyEncoding})", classes="record-section")
            yield Static(Text(event.key) if event.key is not None else Text("null", style="dim italic"),
                         id="record-key")
            yield Static(f"HEADERS ({len(event.headers)})", classes="record-section")
            yield Static(self._headers(), id="record-headers")
            yield Static(f"VALUE ({event.valueEncoding})", classes="record-section")
            yield Static(self._value(), id="record-value")
        yield Footer()

    def _headers(self) -> Table | Text:
        if not self.event.headers:
            return Text("none", style="dim italic")
        table = Table.grid(padding=(0, 2))
        for name, value in self.event.headers.items():
            table.add_row(Text(name, style="bold"), Text(value))
        return table

    def _value(self) -> JSON | Text:
        if self.event.valueEncoding == "json":
            return JSON.from_data(self.event.value, indent=2)
        return Text(str(self.event.value))

    def on_mount(self) -> None:
        self.title = f"Record {self.event.eventId}"
        self.query_one("#record-body").focus()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.copied_text)
        self.notify(f"Copied the record {self.event.eventId}.", timeout=2)
