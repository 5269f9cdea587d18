"""The K2K YAML editor: `n` writes a new app, `e` edits one, in the seed's YAML shape.

A new app starts from a template that offers the user's own Kafka connections for the LRNs.
ctrl+s sends the text as it is (POST, or PUT with If-Match on the generation that was
opened, so two people editing one app cannot overwrite each other). A server error is shown
under the editor with the line of each field it names, and the cursor goes to the first;
the text stays as typed."""

from __future__ import annotations

import re

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static, TextArea

from backend.k2k.models import K2KApp
from console.client import APIError, Unreachable
from console.screens.confirm import ConfirmDialog
from console.widgets.status_header import StatusHeader

_YAML_LINE = re.compile(r"at line (\d+)")


def template(connections: list[str]) -> str:
    source = connections[0] if connections else "environments:kafka-connection/<environment>/<connection>"
    target = connections[1] if len(connections) > 1 else source
    offered = "\n".join(f"#   {lrn}" for lrn in connections) or "#   (none yet: add Kafka connections to environments)"
    return f"""# A new K2K app. ctrl+s creates it; esc leaves (asking first if you changed anything).
# Your Kafka connections:
{offered}
apiVersion: v1
kind: K2KApp
metadata:
  name: my-replication
  displayName: My replication
  description: ""
spec:
  sourceKafkaLRN: {source}
  targetKafkaLRN: {target}
  topics: [orders]      # names, or regex:orders-.*
  replicator:
    exactlyOnce: false
    autoCreateTopics: true
    autoCreateControlTopics: true
    keepRecordCreationTimestamp: true
  paused: false
  configOverrides: {{}}  # consumer.*, producer.*, workers
"""


def line_of(text: str, field: str) -> int | None:
    """The 0-based line of a dotted field path (`spec.topics.1`) in YAML text, found by walking
    the keys in order; list indexes count `- ` items. None when it is not there."""
    lines = text.splitlines()
    position, found = 0, None
    for segment in field.split("."):
        if segment.isdigit():
            items = [i for i in range(position, len(lines)) if lines[i].lstrip().startswith("- ")]
            if int(segment) >= len(items):
                return found
            position = found = items[int(segment)]
            continue
        key = re.compile(rf"^\s*(- )?{re.escape(segment)}\s*:")
        match = next((i for i in range(position, len(lines)) if key.match(lines[i])), None)
        if match is None:
            return found
        position = found = match
    return found


class K2KEditor(Screen):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="k2k_editor.save"),
        Binding("escape", "leave", "Back", id="k2k_editor.back"),
    ]

    DEFAULT_CSS = """
    K2KEditor TextArea { height: 1fr; border: none; }
    K2KEditor #errors { height: auto; max-height: 10; color: $error; padding: 0 1; display: none;
                        border-top: solid $error; }
    K2KEditor #errors.-shown { display: block; }
    """

    def __init__(self, app_: K2KApp | None = None, text: str | None = None) -> None:
        super().__init__(name="k2k-editor")
        self.editing = app_
        self.initial = text
        self.loaded = text or ""

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield TextArea.code_editor(self.initial or "", language="yaml", id="yaml", soft_wrap=False)
        yield Static(id="errors")
        yield Footer()

    def on_mount(self) -> None:
        name = self.editing.metadata.name if self.editing else None
        self.title = f"Edit K2K app {name}" if name else "New K2K app"
        if self.initial is None:
            self.run_worker(self._load(), group="load")

    async def _load(self) -> None:
        editor = self.query_one(TextArea)
        try:
            if self.editing:
                text = await self.app.client.get_k2k_yaml(self.editing.metadata.name)
            else:
                text = template(await self._connections())
        except (APIError, Unreachable) as exc:
            self._show_errors(f"Cannot load: {exc}")
            return
        self.loaded = text
        editor.load_text(text)
        editor.focus()

    async def _connections(self) -> list[str]:
        environments, _ = await self.app.client.list_environments()
        lrns = []
        for environment in environments:
            for connection in await self.app.client.list_connections(environment.name):
                lrns.append(f"environments:kafka-connection/{environment.name}/{connection.name}")
        return lrns

    def _show_errors(self, text: str) -> None:
        errors = self.query_one("#errors", Static)
        errors.update(text)
        errors.set_class(bool(text), "-shown")

    def action_save(self) -> None:
        self.run_worker(self._save(), exclusive=True, group="save")

    async def _save(self) -> None:
        text = self.query_one(TextArea).text
        editing = self.editing
        try:
            saved = await self.app.client.save_k2k_yaml(
                text, name=editing.metadata.name if editing else None,
                generation=editing.metadata.generation if editing else None)
        except APIError as exc:
            self._report(text, exc)
            return
        except Unreachable as exc:
            self._show_errors(f"Not saved: {exc}. Your text is kept; ctrl+s again once HQ answers.")
            return
        self.notify(f"K2K app {saved.metadata.name!r} {'saved' if editing else 'created'} "
                    f"(generation {saved.metadata.generation}).", timeout=3)
        self.dismiss()

    def _report(self, text: str, error: APIError) -> None:
        lines = []
        first: int | None = None
        for field in error.invalid_fields or []:
            line = line_of(text, field.name) if field.name != "body" else None
            if line is None and (found := _YAML_LINE.search(field.title)):
                line = int(found.group(1)) - 1
            first = line if first is None else first
            where = f"line {line + 1}: " if line is not None else ""
            lines.append(f"{where}{field.name}: {field.title}")
        self._show_errors("\n".join(lines) or f"Not saved: {error}")
        if first is not None:
            editor = self.query_one(TextArea)
            editor.select_line(first)
            editor.focus()

    def action_leave(self) -> None:
        if self.query_one(TextArea).text == self.loaded:
            self.dismiss()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss()

        self.app.push_screen(ConfirmDialog("Discard your changes?", "What you typed here is not saved."), answered)
