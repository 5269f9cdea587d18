"""A connector's offsets (KIP-875) in the offsets grid: a source connector's as its own JSON
partition and offset, a sink's per topic-partition.

Type an expression and enter to set the selected rows (or the row under the cursor): for a sink
an offset or `+N`/`-N`; for a source the offset's JSON (`{"position": 0}`), `null` to forget the
partition, or, when its offset holds one number (FileStream's `position`), that number or
`+N`/`-N`. `r` resets every offset. Connect changes offsets only of a STOPPED connector: when it
is not, the confirmation says so, and on yes the connector is stopped, the offsets set, and
it is started again (to PAUSED if it was paused)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.widgets import Input, Static

from backend.connect.models import ConnectorStateAction, ConnectStatus, OffsetEntry
from console.client import APIError, Unreachable
from console.format import MISSING, count
from console.screens.confirm import ConfirmDialog
from console.screens.form import FormDialog
from console.screens.offsets_grid import OffsetsGrid, wait_until

UNSET: Any = object()  # no new value asked for (None is a value: forget the partition)
_RELATIVE = re.compile(r"[+-]\d+")
SINK_TOPIC, SINK_PARTITION, SINK_OFFSET = "kafka_topic", "kafka_partition", "kafka_offset"


def is_sink_partition(partition: Any) -> bool:
    return isinstance(partition, dict) and SINK_TOPIC in partition and SINK_PARTITION in partition


def compact(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), sort_keys=True)


def lone_number(offset: Any) -> str | None:
    """The one numeric field of an offset object (FileStream's `position`), if it has only one."""
    if not isinstance(offset, dict):
        return None
    numbers = [k for k, v in offset.items() if isinstance(v, int) and not isinstance(v, bool)]
    return numbers[0] if len(numbers) == 1 else None


def resolve(expression: str, partition: Any, offset: Any) -> tuple[Any, str | None]:
    """(new offset, None) or (UNSET, why not)."""
    text = expression.strip()
    if is_sink_partition(partition):
        field = SINK_OFFSET
    else:
        field = lone_number(offset)
        if not (text.isdigit() or _RELATIVE.fullmatch(text)) or field is None:
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                return UNSET, "not JSON: an offset object like {\"position\": 0}, or null"
            if value is not None and not isinstance(value, dict):
                return UNSET, "a source offset is a JSON object (or null)"
            return value, None
    current = offset.get(field) if isinstance(offset, dict) else None
    if text.isdigit():
        number = int(text)
    elif _RELATIVE.fullmatch(text):
        if not isinstance(current, int):
            return UNSET, "no offset yet to count from"
        number = current + int(text)
    else:
        return UNSET, "not an offset, +N or -N"
    if number < 0:
        return UNSET, "below 0"
    return {**(offset if isinstance(offset, dict) else {}), field: number}, None


@dataclass
class Entry:
    partition: Any
    offset: Any
    expression: str = ""
    new: Any = UNSET
    error: str | None = None
    selected: bool = False

    @property
    def key(self) -> str:
        return compact(self.partition)

    @property
    def changed(self) -> bool:
        return self.new is not UNSET and self.new != self.offset

    @property
    def where(self) -> str:
        p = self.partition
        return f"{p[SINK_TOPIC]}[{p[SINK_PARTITION]}]" if is_sink_partition(p) else compact(p)


def shown(entry: Entry, value: Any) -> str:
    if value is None:
        return MISSING
    if is_sink_partition(entry.partition) and isinstance(value, dict):
        return count(value.get(SINK_OFFSET))
    return compact(value)


class AddPartition(FormDialog[tuple[Any, Any]]):
    """A partition the connector has no offset for yet (one created STOPPED, say), and its offset."""

    TITLE_TEXT = "Add a partition's offset"

    def __init__(self, sink: bool, known: set[str]) -> None:
        super().__init__()
        self.sink = sink
        self.known = known

    def compose_fields(self):
        example = '{"kafka_topic": "orders", "kafka_partition": 0}' if self.sink else '{"filename": "/data/in.txt"}'
        yield from self.field("partition", "Partition, as JSON", Input(placeholder=example, id="partition"))
        offset = "N" if self.sink else '{"position": 0}'
        yield from self.field("offset", "Offset", Input(placeholder=offset, id="offset"))

    def _typed(self) -> tuple[Any, Any, dict[str, str]]:
        partition, offset, errors = None, UNSET, {}
        try:
            partition = json.loads(self.query_one("#partition", Input).value)
        except json.JSONDecodeError:
            errors["partition"] = "Not JSON."
        if "partition" not in errors and not isinstance(partition, dict):
            errors["partition"] = "A partition is a JSON object."
        elif "partition" not in errors and compact(partition) in self.known:
            errors["partition"] = "Already in the grid: set it there."
        if not errors:
            offset, problem = resolve(self.query_one("#offset", Input).value, partition, None)
            if problem:
                errors["offset"] = f"{problem[0].upper()}{problem[1:]}."
        return partition, offset, errors

    def check(self) -> dict[str, str]:
        return self._typed()[2]

    async def save(self) -> tuple[Any, Any]:
        partition, offset, _ = self._typed()
        return partition, offset


def open_offsets(app: App, environment: str, cluster: str, name: str) -> None:
    app.push_screen(ConnectorOffsets(environment, cluster, name))


class ConnectorOffsets(OffsetsGrid):
    BINDINGS = [
        Binding("n", "add", "Add partition", id="connector_offsets.add"),
        Binding("r", "reset", "Reset all", id="connector_offsets.reset"),
    ]
    MUTATING = frozenset({"apply", "reset", "add"})
    COLUMNS = ("PARTITION", "OFFSET", "NEW", "")
    PLACEHOLDER = 'a source\'s offset as JSON ({"position": 0}) or null; a sink\'s as N, +N or -N'
    SINK_PLACEHOLDER = "the next offset the sink reads: N, +N or -N"
    SOURCE_PLACEHOLDER = 'the offset as JSON ({"position": 0}), null to forget it, or N, +N, -N for a one-number offset'
    NOUN = "offset"
    GRID_KEYS = " anr"

    def __init__(self, environment: str, cluster: str, name: str) -> None:
        super().__init__(name="connector-offsets")
        self.environment = environment
        self.cluster = cluster
        self.connector = name
        self.state: ConnectStatus | None = None
        self.sink = False
        self.entries: dict[str, Entry] = {}

    @property
    def heading(self) -> str:
        """What the title line says (its state and partitions), "" before it is up."""
        titles = self.query("#title")
        return str(titles.first(Static).render()) if titles else ""

    def start(self) -> None:
        self.title = f"Offsets of {self.connector} on {self.environment}/{self.cluster}"
        self.run_worker(self._load(), group="load")

    async def _load(self) -> None:
        title = self.query_one("#title", Static)
        title.update(Text("Reading the offsets from the worker…", style="dim"))
        connect = self.app.client.connect
        try:
            status = await connect.status(self.environment, self.cluster, self.connector)
            answer = await connect.offsets(self.environment, self.cluster, self.connector)
        except (APIError, Unreachable) as exc:
            title.update(Text(f"Cannot read the offsets: {exc}", style="red"))
            return
        self.state = status.state
        kind = status.type or "connector"
        stopped = self.state is ConnectStatus.STOPPED
        title.update(Text.assemble(
            (f"{kind.capitalize()} ", ""), (self.connector, "bold"),
            (f" ({self.state.value if self.state else 'state unknown'})", "green" if stopped else "yellow"),
            (f": {len(answer.offsets)} partition{'s' if len(answer.offsets) != 1 else ''}"
             f"{'' if stopped else ' · to change them it is stopped, then started again'}\n", "dim"),
            ("Type an expression and enter to set the selected rows (space selects, a all) or the row under the "
             "cursor; n adds a partition; ctrl+s applies; r resets all.", "dim")))
        self.sink = status.type == "sink" or any(is_sink_partition(o.partition) for o in answer.offsets)
        placeholder = self.SINK_PLACEHOLDER if self.sink else self.SOURCE_PLACEHOLDER
        self.query_one("#expression", Input).placeholder = placeholder
        self.entries = {}
        for offset in answer.offsets:
            entry = Entry(offset.partition, offset.offset)
            self.entries[entry.key] = entry
        self.refresh_grid()

    def row(self, entry: Entry) -> tuple[object, ...]:
        if entry.error:
            new, note = Text(entry.expression, style="red"), Text(f"✗ {entry.error}", style="red")
        elif entry.changed:
            new, note = Text(shown(entry, entry.new), style="bold yellow"), Text(f"← {entry.expression}", style="dim")
        else:
            new, note = Text(""), Text("")
        return entry.where, shown(entry, entry.offset), new, note

    async def assign(self, entries: list[Entry], expression: str) -> None:
        for entry in entries:
            entry.expression = expression
            entry.new, entry.error = resolve(expression, entry.partition, entry.offset)

    def diff(self) -> list[str]:
        return [f"{e.where}  {shown(e, e.offset)} → {shown(e, e.new)}" for e in self.entries.values() if e.changed]

    def apply_note(self) -> str:
        if self.state is ConnectStatus.STOPPED:
            return ""
        state = self.state.value if self.state else "not STOPPED"
        return f"{self.connector} is {state}: it will be stopped, the offsets set, then started again."

    async def apply(self) -> None:
        changed = [OffsetEntry(partition=e.partition, offset=e.new) for e in self.entries.values() if e.changed]
        connect = self.app.client.connect
        await self._while_stopped(lambda: connect.alter_offsets(self.environment, self.cluster, self.connector,
                                                                changed), f"{len(changed)} offset(s) set")

    def action_add(self) -> None:
        def added(answer: tuple[Any, Any] | None) -> None:
            if answer is not None:
                partition, offset = answer
                entry = Entry(partition, None, expression="added", new=offset)
                self.entries[entry.key] = entry
                self.refresh_grid()

        self.app.push_screen(AddPartition(self.sink, set(self.entries)), added)

    def action_reset(self) -> None:
        connect = self.app.client.connect

        async def answered(confirmed: bool | None) -> None:
            if confirmed:
                await self._while_stopped(lambda: connect.reset_offsets(self.environment, self.cluster,
                                                                        self.connector), "offsets reset")

        note = self.apply_note()
        self.app.push_screen(ConfirmDialog(
            f"Reset every offset of {self.connector}?",
            "It starts over: a source reads from the beginning, a sink from its consumer's reset policy."
            + (f"\n\n{note}" if note else "")), answered)

    async def _while_stopped(self, change: Callable[[], Awaitable[object]], done: str) -> None:
        connect = self.app.client.connect
        try:
            # As it is now, not as when the screen opened: only a connector stopped here is started here.
            before = (await connect.status(self.environment, self.cluster, self.connector)).state
            stop_first = before is not ConnectStatus.STOPPED
            if stop_first:
                await connect.action(self.environment, self.cluster, self.connector, ConnectorStateAction.stop)
                await self._wait_stopped()
            try:
                await change()
            finally:  # refused or not, a connector stopped here is started again here
                if stop_first:
                    again = ConnectorStateAction.pause if before is ConnectStatus.PAUSED else ConnectorStateAction.start
                    await connect.action(self.environment, self.cluster, self.connector, again)
        except (APIError, Unreachable, TimeoutError) as exc:
            self.notify(f"Offsets not changed: {exc}", severity="error", timeout=8)
            return
        self.notify(f"{self.connector}: {done}{'; started again' if stop_first else ''}.", timeout=4)
        self.dismiss()

    async def _wait_stopped(self) -> None:
        async def stopped() -> bool:
            status = await self.app.client.connect.status(self.environment, self.cluster, self.connector)
            return status.state is ConnectStatus.STOPPED

        await wait_until(stopped, f"{self.connector} did not stop")
