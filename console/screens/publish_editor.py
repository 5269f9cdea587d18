"""The publish editor (`P` on the Topics screen and in a tail): a key, headers (`name: value`
lines) and a JSON value; ctrl+s publishes and says where the record went (partition, offset),
and the editor stays open for the next one. A batch comes from a file of JSON lines (ctrl+b with
its path typed): each line an event (`{"key", "value", "headers"}`) or a bare value, sent in
batches of the API's largest, with the counts and the first failures by line.

What the text gets wrong is caught here, at its line (invalid JSON, a header without a colon);
what the agent refuses (EventAPIError, its `field`) is shown at the field it names."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static

from backend.streams.models import MAX_BATCH_EVENTS, BatchPublish, PublishEvent
from console.client import APIError, Unreachable
from console.publish_text import TextError, parse_headers, parse_value, read_batch_file
from console.screens.registry import PUBLISH, stream_screen
from console.widgets.config_area import ConfigArea
from console.widgets.status_header import StatusHeader

FAILURES_SHOWN = 5
VALUE_TEMPLATE = "{\n  \n}\n"


@stream_screen(PUBLISH)
class PublishEditor(Screen[None]):
    BINDINGS = [
        Binding("ctrl+s", "publish", "Publish", id="publish.send"),
        Binding("ctrl+b", "publish_file", "Publish file", id="publish.file"),
        Binding("escape", "app.pop_screen", "Back", id="publish.back"),
    ]
    MUTATING = frozenset({"publish", "publish_file"})

    DEFAULT_CSS = """
    PublishEditor #publish-title { height: 1; padding: 0 1; color: $text-accent; text-style: bold; }
    PublishEditor .publish-row { height: 1; padding: 0 1; }
    PublishEditor .publish-row Label { width: 12; color: $text-muted; }
    PublishEditor .publish-row Input { width: 1fr; }
    PublishEditor .publish-label { padding: 0 1; color: $text-muted; }
    PublishEditor #publish-headers { height: 5; border: none; }
    PublishEditor #publish-value { height: 1fr; border: none; }
    PublishEditor .field-error { padding: 0 1; color: $error; display: none; }
    PublishEditor .field-error.-shown { display: block; }
    PublishEditor #publish-answer { padding: 0 1; height: auto; max-height: 8; border-top: solid $panel; }
    PublishEditor #publish-answer.-failed { color: $error; }
    """

    def __init__(self, environment: str, stream: str) -> None:
        super().__init__(name="publish")
        self.environment = environment
        self.stream = stream

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(f"Publish to {self.stream} · {self.environment}", id="publish-title")
        with Horizontal(classes="publish-row"):
            yield Label("key")
            yield Input(placeholder="none (the partitioner picks)", id="publish-key", compact=True)
        yield Static(id="key-error", classes="field-error")
        yield Label("headers · name: value, one a line", classes="publish-label")
        yield ConfigArea(id="publish-headers")
        yield Static(id="headers-error", classes="field-error")
        yield Label("value · JSON", classes="publish-label")
        yield ConfigArea(VALUE_TEMPLATE, id="publish-value")
        yield Static(id="value-error", classes="field-error")
        with Horizontal(classes="publish-row"):
            yield Label("batch file")
            yield Input(placeholder="a file of JSON lines (ctrl+b publishes it)", id="publish-file", compact=True)
        yield Static("ctrl+s publishes the event · the editor stays open for the next", id="publish-answer")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"Publish to {self.stream}"
        # The value keeps ConfigArea's YAML highlighting (JSON is YAML): this tree-sitter's JSON grammar crashes.
        self.query_one("#publish-headers", ConfigArea).tab_behavior = "focus"  # nothing to indent in headers
        self.query_one("#publish-key", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MUTATING and self.app.read_only)

    # what the user reads

    @property
    def answer_text(self) -> str:
        return str(self.query_one("#publish-answer", Static).render())

    def field_error(self, field: str) -> str:
        """The message shown at `field` (key, headers, value), "" when none is."""
        line = self.query_one(f"#{field}-error", Static)
        return str(line.render()) if line.has_class("-shown") else ""

    def _answer(self, text: str | Text, *, failed: bool = False) -> None:
        answer = self.query_one("#publish-answer", Static)
        answer.update(text)
        answer.set_class(failed, "-failed")

    def _clear_errors(self) -> None:
        for field in ("key", "headers", "value"):
            self.query_one(f"#{field}-error", Static).remove_class("-shown")
        for area in self.query(ConfigArea):
            area.show_marks({})

    def _error_at(self, field: str, message: str, line: int | None = None) -> None:
        """`message` under `field`, and at `line` (1-based) of its text when it has one."""
        shown = self.query_one(f"#{field}-error", Static)
        shown.update(f"✗ {message}")
        shown.add_class("-shown")
        if line and field in ("headers", "value"):
            area = self.query_one(f"#publish-{field}", ConfigArea)
            area.show_marks({line - 1: message})
            area.move_cursor((line - 1, 0))
            area.focus()

    # one event

    def _event(self) -> PublishEvent | None:
        self._clear_errors()
        try:
            headers = parse_headers(self.query_one("#publish-headers", ConfigArea).text)
        except TextError as exc:
            self._error_at("headers", f"line {exc.line}: {exc.message}", exc.line)
            return None
        try:
            value = parse_value(self.query_one("#publish-value", ConfigArea).text)
        except TextError as exc:
            where = f"line {exc.line}, column {exc.column}" if exc.column else f"line {exc.line}"
            self._error_at("value", f"{where}: {exc.message}", exc.line)
            return None
        key = self.query_one("#publish-key", Input).value
        try:
            return PublishEvent(key=key or None, value=value, headers=headers)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else "value"
            self._error_at(field if field in ("key", "headers") else "value", first["msg"])
            return None

    def action_publish(self) -> None:
        if (event := self._event()) is not None:
            self.run_worker(self._publish(event), exclusive=True, group="publish")

    async def _publish(self, event: PublishEvent) -> None:
        self._answer("publishing…")
        try:
            published = await self.app.client.records.publish(self.environment, self.stream, event)
        except APIError as exc:
            self._refused(exc)
            return
        except Unreachable as exc:
            self._answer(f"Not published: {exc}", failed=True)
            return
        self._answer(Text.assemble(("✓ published", "bold green"),
                                   f" · partition {published.partition} · offset {published.offset}"
                                   f" · {published.timestamp} · {published.eventId}"))

    def _refused(self, error: APIError) -> None:
        for field, message in error.field_errors().items():
            root = field.split(".", 1)[0].split("[", 1)[0]
            if root in ("key", "headers", "value"):
                self._error_at(root, message)
        self._answer(f"Not published: {error}", failed=True)

    # a batch from a file

    def action_publish_file(self) -> None:
        text = self.query_one("#publish-file", Input).value.strip()
        if not text:
            self._answer("Type the path of a file of JSON lines first.", failed=True)
            self.query_one("#publish-file", Input).focus()
            return
        self.run_worker(self._publish_file(Path(text).expanduser()), exclusive=True, group="publish")

    async def _publish_file(self, path: Path) -> None:
        try:
            batch = read_batch_file(path)
        except TextError as exc:
            self._answer(exc.message, failed=True)
            return
        failures = [(f.line, f.message) for f in batch.failures]  # by line, shown in line order
        published = 0
        for start in range(0, len(batch.events), MAX_BATCH_EVENTS):
            chunk = batch.events[start:start + MAX_BATCH_EVENTS]
            self._answer(f"publishing {path.name}: {published:,} of {len(batch.events):,}…")
            try:
                answer = await self.app.client.records.publish_batch(
                    self.environment, self.stream, BatchPublish(events=[event for _, event in chunk]))
            except (APIError, Unreachable) as exc:
                failures.extend((line, str(exc)) for line, _ in chunk)
                continue
            published += answer.successCount
            failures.extend((chunk[r.index][0], r.error.description if r.error else r.status)
                            for r in answer.results if r.status == "failed")
        failures.sort()
        summary = Text.assemble((f"{path.name}: {published:,} published", "bold green" if published else ""),
                                (f" · {len(failures):,} failed", "bold red" if failures else ""))
        for line, message in failures[:FAILURES_SHOWN]:
            summary.append(f"\n  line {line}: {message}")
        if len(failures) > FAILURES_SHOWN:
            summary.append(f"\n  … and {len(failures) - FAILURES_SHOWN:,} more")
        self._answer(summary, failed=bool(failures) and not published)
