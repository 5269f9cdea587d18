"""PositionsGrid: the offsets grid over Kafka positions, shared by a K2K app's editor and a
consumer group's. Each row is a topic-partition with its valid range (earliest and latest
offsets) and the committed position; an expression is an offset, `earliest`, `latest`, `+N`/`-N`
from the committed position, or an ISO-8601 time (resolved to offsets by the server, through
the editor's `offsets_at`). An entry outside the range is marked and blocks the apply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from backend.k2k.models import PartitionPosition
from console.format import MISSING, count
from console.screens.offsets_grid import OffsetsGrid

_RELATIVE = re.compile(r"[+-]\d+")


@dataclass
class Entry:
    """A partition's current position and what the user asked for."""

    topic: str
    position: PartitionPosition
    expression: str = ""
    new: int | None = None
    error: str | None = None
    selected: bool = False

    @property
    def key(self) -> str:
        return f"{self.topic}/{self.position.partition}"

    @property
    def changed(self) -> bool:
        return self.new is not None and self.new != self.position.committed


def is_timestamp(expression: str) -> bool:
    try:
        datetime.fromisoformat(expression)
    except ValueError:
        return False
    return True


def resolve(expression: str, position: PartitionPosition, at: int | None = None) -> tuple[int | None, str | None]:
    """(offset, None) or (None, why not): `at` is the offset the server found for a timestamp expression."""
    text = expression.strip().lower()
    base = position.committed if position.committed is not None else position.earliest
    if text == "earliest":
        offset = position.earliest
    elif text == "latest":
        offset = position.latest
    elif text.isdigit():
        offset = int(text)
    elif _RELATIVE.fullmatch(text):
        offset = base + int(text)
    elif is_timestamp(expression.strip()):
        if at is None:
            return None, "time not resolved"
        offset = at
    else:
        return None, "not an offset, earliest, latest, +N, -N or ISO-8601 time"
    if not position.earliest <= offset <= position.latest:
        return None, f"outside {count(position.earliest)} to {count(position.latest)}"
    return offset, None


class PositionsGrid(OffsetsGrid):
    COLUMNS = ("TOPIC", "PARTITION", "EARLIEST", "LATEST", "COMMITTED", "NEW", "")
    PLACEHOLDER = "offset, earliest, latest, +N, -N or 2026-11-23T07:00:00Z"

    entries: dict[str, Entry]

    async def offsets_at(self, expression: str, topics: set[str]) -> dict[str, dict[int, int]]:
        """topic -> partition -> the first offset at or after the time `expression` names."""
        raise NotImplementedError

    def take(self, topic: str, positions: list[PartitionPosition]) -> None:
        for position in positions:
            entry = Entry(topic, position)
            self.entries[entry.key] = entry

    def row(self, entry: Entry) -> tuple[object, ...]:
        p = entry.position
        if entry.error:
            new, note = Text(entry.expression, style="red"), Text(f"✗ {entry.error}", style="red")
        elif entry.changed:
            new, note = Text(count(entry.new), style="bold yellow"), Text(f"← {entry.expression}", style="dim")
        else:
            new, note = Text(""), Text("")
        return (entry.topic, str(p.partition), count(p.earliest), count(p.latest),
                count(p.committed) if p.committed is not None else MISSING, new, note)

    async def assign(self, entries: list[Entry], expression: str) -> None:
        found: dict[str, dict[int, int]] = {}
        if is_timestamp(expression):
            found = await self.offsets_at(expression, {e.topic for e in entries})
        for entry in entries:
            entry.expression = expression
            entry.new, entry.error = resolve(expression, entry.position,
                                             found.get(entry.topic, {}).get(entry.position.partition))

    def changes(self) -> dict[str, dict[int, int]]:
        """topic -> partition -> the new position, of the entries changed."""
        by_topic: dict[str, dict[int, int]] = {}
        for entry in self.entries.values():
            if entry.changed and entry.new is not None:
                by_topic.setdefault(entry.topic, {})[entry.position.partition] = entry.new
        return by_topic

    def diff(self) -> list[str]:
        def old(entry: Entry) -> str:
            return count(entry.position.committed) if entry.position.committed is not None else MISSING

        return [f"{e.topic}[{e.position.partition}]  {old(e)} → {count(e.new)}"
                for e in self.entries.values() if e.changed]
