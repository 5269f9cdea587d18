"""The offsets editor (`o`): a K2K app's positions per partition, edited from the keyboard.

Each row shows a partition's valid range (the source's earliest and latest offsets) and the
app's committed position. Type an expression and press enter to set the selected rows
(space selects, `a` selects all; with nothing selected, the row under the cursor):
an offset, `earliest`, `latest`, `+N`/`-N` from the committed position, or an ISO-8601
time (resolved to offsets on the source by HQ). Entries outside the range are marked and
block the apply. ctrl+s shows the old → new diff; once confirmed, the app is paused if it
runs, each topic gets one PATCH, and the app is resumed if it was paused for this."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from backend.k2k.models import K2KApp, K2KMetrics, PartitionPosition, TopicOffsets
from console.client import APIError, Unreachable
from console.format import MISSING, count
from console.screens.offsets_grid import OffsetsGrid, wait_until

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
    """(offset, None) or (None, why not): `at` is the offset HQ found for a timestamp expression."""
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


def open_offsets_editor(screen, app: K2KApp, metrics: K2KMetrics | None, topic: str | None = None) -> None:
    topics = [topic] if topic else [t.name for t in metrics.source_topics] if metrics else []
    if not topics:
        topics = [t for t in app.spec.topics if not t.startswith("regex:")]
    if not topics:
        screen.notify("No topics known yet: wait for the app's first metrics.", severity="warning", timeout=4)
        return
    screen.app.push_screen(OffsetsEditor(app, topics))


class OffsetsEditor(OffsetsGrid):
    COLUMNS = ("TOPIC", "PARTITION", "EARLIEST", "LATEST", "COMMITTED", "NEW", "")
    PLACEHOLDER = "offset, earliest, latest, +N, -N or 2026-11-23T07:00:00Z"

    def __init__(self, app_: K2KApp, topics: list[str], positions: list[TopicOffsets] | None = None) -> None:
        """`positions`, when the caller has them already, saves the first read."""
        super().__init__(name="offsets")
        self.k2k = app_
        self.topics = topics
        self.preloaded = positions
        self.entries: dict[str, Entry] = {}

    def start(self) -> None:
        self.title = f"Offsets of {self.k2k.metadata.name}"
        if self.preloaded is not None:
            self._show(self.preloaded)
        else:
            self.run_worker(self._load(), group="load")

    async def _load(self) -> None:
        self.query_one("#title", Static).update(Text("Reading the positions from Kafka…", style="dim"))
        try:
            answers = [await self.app.client.k2k_offsets(self.k2k.metadata.name, t) for t in self.topics]
        except (APIError, Unreachable) as exc:
            self.query_one("#title", Static).update(Text(f"Cannot read the positions: {exc}", style="red"))
            return
        self._show(answers)

    def _show(self, answers: list[TopicOffsets]) -> None:
        name = self.k2k.metadata.name
        self.query_one("#title", Static).update(Text.assemble(
            ("Positions of ", ""), (name, "bold"), (f" ({self.k2k.status.state.value}): the next source offset "
                                                    "each partition copies\n", "dim"),
            ("Type an expression and enter to set the selected rows (space selects, a all) or the row under the "
             "cursor; ctrl+s applies.", "dim")))
        for answer in answers:
            for position in answer.partitions:
                entry = Entry(answer.topic_name, position)
                self.entries[entry.key] = entry
        self.refresh_grid()

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
            found = await self._offsets_at(expression, {e.topic for e in entries})
        for entry in entries:
            entry.expression = expression
            entry.new, entry.error = resolve(expression, entry.position,
                                             found.get(entry.topic, {}).get(entry.position.partition))

    async def _offsets_at(self, expression: str, topics: set[str]) -> dict[str, dict[int, int]]:
        found: dict[str, dict[int, int]] = {}
        for topic in topics:
            try:
                answer = await self.app.client.k2k_offsets(self.k2k.metadata.name, topic, at=expression)
            except (APIError, Unreachable) as exc:
                self.notify(f"Cannot resolve {expression} on {topic}: {exc}", severity="error", timeout=6)
                continue
            found[topic] = {p.partition: p.at for p in answer.partitions if p.at is not None}
        return found

    # applying

    def diff(self) -> list[str]:
        def old(entry: Entry) -> str:
            return count(entry.position.committed) if entry.position.committed is not None else MISSING

        return [f"{e.topic}[{e.position.partition}]  {old(e)} → {count(e.new)}"
                for e in self.entries.values() if e.changed]

    def apply_note(self) -> str:
        if self.k2k.spec.paused:
            return ""
        return "The app is running: it will be paused, the positions set, then resumed."

    async def apply(self) -> None:
        client, name = self.app.client, self.k2k.metadata.name
        try:
            # As it is now, not as when the editor opened: only an app paused here is resumed here.
            pause_first = not (await client.get_k2k(name)).spec.paused
            if pause_first:
                await client.patch_k2k(name, {"spec": {"paused": True}})
            await self._wait_paused()
            by_topic: dict[str, dict[int, int]] = {}
            for entry in self.entries.values():
                if entry.changed:
                    by_topic.setdefault(entry.topic, {})[entry.position.partition] = entry.new
            for topic, offsets in by_topic.items():
                await client.set_k2k_offsets(name, topic, offsets)
            if pause_first:
                await client.patch_k2k(name, {"spec": {"paused": False}})
        except (APIError, Unreachable, TimeoutError) as exc:
            self.notify(f"Offsets not (all) applied: {exc}", severity="error", timeout=8)
            return
        count_changed = sum(len(o) for o in by_topic.values())
        self.notify(f"{count_changed} position{'s' if count_changed > 1 else ''} set"
                    f"{'; the app resumes from them' if pause_first else ''}.", timeout=4)
        self.dismiss()

    async def _wait_paused(self) -> None:
        async def paused() -> bool:
            return (await self.app.client.get_k2k(self.k2k.metadata.name)).status.state.value == "paused"

        await wait_until(paused, "the app did not stop")
