"""The connector editor: create a connector (pick its cluster and plugin, fill in the template
of the plugin's required keys) or edit one's configuration, as JSON or YAML.

The text is the connector's flat configuration, `name` included, as Connect's own files are.
ctrl+l asks the worker to validate it; ctrl+s validates and saves (a create, or, after the
diff against the running configuration is confirmed, a PUT of the config). Every refusal, the
text's own (a YAML slip, a repeated key) or the worker's (`fields[]`, validate's `errors`), is
written after the line of the key it names, in the text as sent, and the text stays as typed.
Values of the plugin's PASSWORD keys are drawn as dots; the API answers them as "***", and
"***" sent back keeps the stored value, so an edit never needs the secret again."""

from __future__ import annotations

from typing import get_args

from pydantic import ValidationError
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Label, Select, Static

from backend.connect.models import InitialState, NewConnector, PluginConfigField, ValidateConnector
from console.client import APIError, Unreachable
from console.config_problems import Problem, place, problems_of, refused_by_model
from console.connector_text import (
    ConfigTextError,
    Format,
    ParsedConfig,
    Position,
    diff,
    format_of,
    key_positions,
    parse,
    render,
    secret_keys,
    template,
    worker_message,
)
from console.screens.confirm import ConfirmDialog
from console.widgets.config_area import ConfigArea
from console.widgets.status_header import StatusHeader

INITIAL_STATES: tuple[str, ...] = get_args(InitialState)
CONNECTOR_TYPES = ("source", "sink")
DIFF_LINES_SHOWN = 14


def open_editor(app: App, environment: str, cluster: str | None = None, name: str | None = None) -> None:
    """A new connector (no `name`; `cluster` preselected if given), or the editor of `name` on `cluster`."""
    app.push_screen(ConnectorEditor(environment, cluster, name))


class ConnectorEditor(Screen[str | None]):
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="connector_editor.save"),
        Binding("ctrl+l", "check", "Check", id="connector_editor.check"),
        Binding("ctrl+n", "next_problem", "Next error", id="connector_editor.next_error"),
        Binding("ctrl+t", "switch_format", "JSON/YAML", id="connector_editor.format"),
        Binding("escape", "leave", "Back", id="connector_editor.back"),
    ]

    DEFAULT_CSS = """
    ConnectorEditor #choices { height: 1; padding: 0 1; background: $panel; }
    ConnectorEditor #choices Label { padding: 0 1 0 0; color: $text-muted; }
    ConnectorEditor #choices Select { margin-right: 2; }
    ConnectorEditor #cluster { width: 24; }
    ConnectorEditor #plugin { width: 40; }
    ConnectorEditor #initial-state { width: 14; }
    ConnectorEditor ConfigArea { height: 1fr; border: none; }
    ConnectorEditor #problems { height: auto; max-height: 10; padding: 0 1; display: none; border-top: solid $error; }
    ConnectorEditor #problems.-shown { display: block; }
    ConnectorEditor #problems.-fine { border-top: solid $success; }
    """

    MUTATING = frozenset({"save"})  # refused in read-only mode; checking changes nothing

    def __init__(self, environment: str, cluster: str | None = None, name: str | None = None) -> None:
        super().__init__(name="connector-editor")
        self.environment = environment
        self.cluster = cluster
        self.connector = name
        self.plugin: str | None = None
        self.fields: list[PluginConfigField] = []
        self.loaded = ""  # the text as loaded: leaving without a change asks nothing
        self.problems: list[Problem] = []
        self._positions: dict[str, Position] = {}

    @property
    def editing(self) -> bool:
        return self.connector is not None

    @property
    def area(self) -> ConfigArea:
        return self.query_one(ConfigArea)

    @property
    def config_text(self) -> str:
        """The text in the editor, "" before it is up."""
        areas = self.query(ConfigArea)
        return areas.first().text if areas else ""

    @property
    def problems_shown(self) -> str:
        """The text under the editor (what the user reads about the problems), "" before it is up."""
        panels = self.query("#problems")
        return str(panels.first(Static).render()) if panels else ""

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        with Horizontal(id="choices"):
            yield Label("cluster")
            yield Select([], prompt="cluster", id="cluster", compact=True, disabled=self.editing)
            yield Label("plugin")
            yield Select([], prompt="plugin", id="plugin", compact=True, disabled=self.editing)
            if not self.editing:
                yield Label("start")
                yield Select([(s, s) for s in INITIAL_STATES], value="RUNNING", allow_blank=False,
                             id="initial-state", compact=True)
        yield ConfigArea(id="config")
        yield Static(id="problems")
        yield Footer()

    def on_mount(self) -> None:
        where = f"{self.environment}/{self.cluster}" if self.cluster else self.environment
        self.title = f"Edit connector {self.connector} on {where}" if self.editing else f"New connector on {where}"
        # After the first refresh: the choices' Selects, composed inside their row, are mounted by then.
        self.call_after_refresh(lambda: self.run_worker(
            self._load_connector() if self.editing else self._load_clusters(), group="load"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MUTATING and self.app.read_only)

    # loading

    async def _load_connector(self) -> None:
        assert self.cluster and self.connector
        connect = self.app.client.connect
        try:
            details = await connect.details(self.environment, self.cluster, self.connector)
        except (APIError, Unreachable) as exc:
            self._show([Problem(f"Cannot read {self.connector}: {exc}")])
            return
        self._offer("#cluster", [self.cluster], self.cluster)
        if details.className:
            self.plugin = details.className
            self._offer("#plugin", [details.className], details.className)
            await self._read_fields(details.className)
        self._load_text(render(details.config, "yaml"))

    async def _load_clusters(self) -> None:
        try:
            clusters = [c.name for c in await self.app.client.list_connect_clusters(self.environment)]
        except (APIError, Unreachable) as exc:
            self._show([Problem(f"Cannot list the Connect clusters: {exc}")])
            return
        if not clusters:
            self._show([Problem(f"{self.environment} has no Connect cluster: register one in its detail first.")])
            return
        chosen = self.cluster if self.cluster in clusters else clusters[0]
        self._offer("#cluster", clusters, chosen)
        await self._choose_cluster(chosen)

    async def _choose_cluster(self, cluster: str) -> None:
        self.cluster = cluster
        self.title = f"New connector on {self.environment}/{cluster}"
        try:
            plugins = (await self.app.client.connect.plugins(self.environment, clusters=[cluster])).data
        except (APIError, Unreachable) as exc:
            self._show([Problem(f"Cannot list the plugins of {cluster}: {exc}")])
            return
        classes = sorted({p.class_ for p in plugins if p.type.lower() in CONNECTOR_TYPES})
        if not classes:
            self._show([Problem(f"{cluster} offers no connector plugin.")])
            return
        chosen = self.plugin if self.plugin in classes else classes[0]
        self._offer("#plugin", classes, chosen)
        await self._choose_plugin(chosen)

    async def _choose_plugin(self, class_name: str) -> None:
        self.plugin = class_name
        await self._read_fields(class_name)
        fresh = template(class_name, self.fields, format_of(self.area.text) if self.area.text.strip() else "yaml")
        if self.area.text == self.loaded:
            self._load_text(fresh)
            return

        def answered(replace: bool | None) -> None:
            if replace:
                self._load_text(fresh)

        short = class_name.rsplit(".", 1)[-1]
        self.app.push_screen(ConfirmDialog(f"Start again from the {short} template?",
                                           "What you typed is replaced by the plugin's template."), answered)

    async def _read_fields(self, class_name: str) -> None:
        assert self.cluster
        try:
            self.fields = await self.app.client.connect.plugin_config(self.environment, self.cluster, class_name)
        except (APIError, Unreachable) as exc:  # the text can still be written; only the template is missing
            self.fields = []
            self.notify(f"Cannot read the keys of {class_name}: {exc}", severity="warning", timeout=5)
        self.area.mask(secret_keys(self.fields))

    def _offer(self, selector: str, values: list[str], chosen: str) -> None:
        select = self.query_one(selector, Select)
        select.set_options([(v.rsplit(".", 1)[-1] if selector == "#plugin" else v, v) for v in values])
        select.value = chosen

    def _load_text(self, text: str) -> None:
        self.loaded = text
        self.area.load_text(text)
        self.area.focus()
        self._show([])

    def on_select_changed(self, event: Select.Changed) -> None:
        value = event.value if isinstance(event.value, str) else None
        if self.editing:  # both are fixed: a connector keeps its cluster and class
            return
        if event.select.id == "cluster" and value and value != self.cluster:
            self.run_worker(self._choose_cluster(value), exclusive=True, group="choose")
        elif event.select.id == "plugin" and value and value != self.plugin:
            self.run_worker(self._choose_plugin(value), exclusive=True, group="choose")

    # problems at their lines

    def on_text_area_changed(self) -> None:
        self._place()  # the marks follow their keys as lines come and go

    def _show(self, problems: list[Problem], fine: str = "") -> None:
        self.problems = problems
        self._place(fine)
        if first := sorted(self.area.marks):
            self.area.move_cursor((first[0], 0))
            self.area.focus()

    def _place(self, fine: str = "") -> None:
        self._positions = key_positions(self.area.text) or self._positions
        marks, listing = place(self.problems, self._positions)
        self.area.show_marks(marks)
        panel = self.query_one("#problems", Static)
        panel.update(listing if self.problems else Text(fine, style="green"))
        panel.set_class(bool(self.problems or fine), "-shown")
        panel.set_class(bool(fine) and not self.problems, "-fine")

    def action_next_problem(self) -> None:
        lines = sorted(self.area.marks)
        if not lines:
            return
        row = self.area.cursor_location[0]
        self.area.move_cursor((next((line for line in lines if line > row), lines[0]), 0))
        self.area.focus()

    # checking and saving

    def _document(self) -> ParsedConfig | None:
        """The configuration typed, or None with its problem shown."""
        if (parsed := self._parsed_quietly()) is None:
            return None
        name = parsed.config.get("name", "")
        if not name:
            where = None if "name" in parsed.keys else Position(1, 1)
            self._show([Problem("A connector needs a name.", "name", where)])
            return None
        if self.editing and name != self.connector:
            self._show([Problem(f"A connector cannot be renamed: this one is {self.connector}.", "name")])
            return None
        return parsed

    def action_check(self) -> None:
        self.run_worker(self._check(), exclusive=True, group="save")

    async def _check(self) -> None:
        if (parsed := self._document()) is None or not self.cluster:
            return
        try:
            body = ValidateConnector(name=parsed.config["name"], cluster=self.cluster, configuration=parsed.config)
            answer = await self.app.client.connect.validate(self.environment, body)
        except ValidationError as exc:
            self._show(refused_by_model(exc))
            return
        except APIError as exc:
            self._show(problems_of(exc, "Not checked"))
            return
        except Unreachable as exc:
            self._show([Problem(f"Not checked: {exc}")])
            return
        problems = [Problem("; ".join(worker_message(f.name, e) for e in f.errors), f.name)
                    for f in answer.configuration if f.errors]
        self._show(problems, fine="✓ The worker accepts this configuration.")

    def action_save(self) -> None:
        self.run_worker(self._save(), exclusive=True, group="save")

    async def _save(self) -> None:
        if (parsed := self._document()) is None or not self.cluster:
            return
        if self.editing:
            await self._confirm_update(parsed.config)
            return
        state = self.query_one("#initial-state", Select).value
        try:
            body = NewConnector(name=parsed.config["name"], cluster=self.cluster, configuration=parsed.config,
                                initialState=state if state != "RUNNING" else None)
        except ValidationError as exc:
            self._show(refused_by_model(exc))
            return
        await self._send(lambda: self.app.client.connect.create(self.environment, body), body.name, "created")

    async def _confirm_update(self, config: dict[str, str]) -> None:
        assert self.cluster and self.connector
        try:  # as it runs now, not as when the editor opened: someone else may have changed it since
            running = (await self.app.client.connect.details(self.environment, self.cluster, self.connector)).config
        except (APIError, Unreachable) as exc:
            self._show([Problem(f"Cannot read the running configuration: {exc}")])
            return
        changes = diff(running, config, secret_keys(self.fields))
        if not changes:
            self._show([], fine="Nothing to update: the configuration is the running one.")
            return
        shown = [str(change) for change in changes[:DIFF_LINES_SHOWN]]
        if len(changes) > DIFF_LINES_SHOWN:
            shown.append(f"… and {len(changes) - DIFF_LINES_SHOWN} more")

        async def answered(confirmed: bool | None) -> None:
            if confirmed:
                await self._send(lambda: self.app.client.connect.put_config(
                    self.environment, self.cluster, self.connector, config), self.connector, "updated")

        count = len(changes)
        self.app.push_screen(ConfirmDialog(f"Update {self.connector}: {count} change{'s' if count > 1 else ''}?",
                                           "\n".join(shown)), answered)

    async def _send(self, request, name: str | None, done: str) -> None:
        try:
            await request()
        except APIError as exc:
            self._show(problems_of(exc))
            return
        except Unreachable as exc:
            self._show([Problem(f"Not saved: {exc}. Your text is kept; ctrl+s again once HQ answers.")])
            return
        self.notify(f"Connector {name!r} {done} on {self.cluster}.", timeout=3)
        self.dismiss(name)

    # the text's format, leaving

    def action_switch_format(self) -> None:
        if (parsed := self._parsed_quietly()) is None:
            return
        other: Format = "yaml" if format_of(self.area.text) == "json" else "json"
        unchanged = self.area.text == self.loaded
        self.area.load_text(render(parsed.config, other))
        if unchanged:
            self.loaded = self.area.text
        self.notify(f"Now {other.upper()} (comments are not carried over).", timeout=3)

    def _parsed_quietly(self) -> ParsedConfig | None:
        try:
            return parse(self.area.text)
        except ConfigTextError as exc:
            self._show([Problem(exc.message, exc.key, exc.position)])
            return None

    def action_leave(self) -> None:
        if self.area.text == self.loaded:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog("Discard your changes?", "What you typed here is not saved."), answered)
