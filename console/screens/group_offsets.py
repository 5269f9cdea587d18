"""A consumer group's offsets editor (`o` on its detail): per partition the stream's range and
the group's committed offset; an offset, `earliest`, `latest`, `+N`/`-N` or an ISO-8601 time
(resolved by the agent: the stream's offsets `at` that time), checked against each partition's
range before anything is sent; ctrl+s shows the diff and, once confirmed, sets every changed
partition in one commit request.

Kafka lets only an empty group's offsets be set (a member's own commits would overwrite them):
with members the editor refuses and says to stop its consumers first, before it opens, while it
is open (it reads the group again) and when the agent answers 1008. A K2K app's position group
is not edited here: its offsets are the app's, in the app's own editor."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual.screen import Screen
from textual.widgets import Static

from backend.k2k.models import PartitionPosition
from backend.streams.models import CommitOffset, GroupDetail, GroupSummary, StreamOffsets
from console.client import APIError, Unreachable
from console.client.event_api import EventAPIError
from console.format import plural
from console.screens.positions_grid import PositionsGrid

# The event API's CONFLICT (backend/streams/errors.py; not imported from there, which would bring
# FastAPI onto the console's first-frame path): for a commit, the group has members.
CONFLICT = 1008


def has_members(group: GroupSummary) -> str | None:
    """Why the group's offsets cannot be set now (None: they can)."""
    if group.members:
        return (f"{group.groupId} has {plural(group.members, 'member')}: stop its consumers first "
                "(Kafka sets only an empty group's offsets).")
    return None


def k2k_elsewhere(group: GroupSummary) -> str | None:
    if group.k2kApp:
        return (f"{group.groupId} holds K2K app {group.k2kApp}'s positions: set them in the app's offsets "
                "editor (k, then o).")
    return None


def open_group_offsets(screen: Screen, environment: str, group: GroupSummary) -> None:
    if refusal := k2k_elsewhere(group) or has_members(group):
        screen.notify(refusal, severity="warning", timeout=6)
        return
    screen.app.push_screen(GroupOffsets(environment, group.groupId))


def positions(detail: GroupDetail, ranges: list[StreamOffsets]) -> dict[str, list[PartitionPosition]]:
    """stream -> each partition's range and the group's committed offset there (None: no commit yet)."""
    committed = {(p.stream, p.partition): p.committedOffset for p in detail.partitions}
    return {r.stream: [PartitionPosition(partition=p.partition, committed=committed.get((r.stream, p.partition)),
                                         earliest=p.startOffset, latest=p.endOffset) for p in r.partitions]
            for r in ranges}


class GroupOffsets(PositionsGrid):
    COLUMNS = ("STREAM", "PARTITION", "EARLIEST", "LATEST", "COMMITTED", "NEW", "")
    NOUN = "offset"

    def __init__(self, environment: str, group: str, detail: GroupDetail | None = None,
                 ranges: list[StreamOffsets] | None = None) -> None:
        """`detail` and `ranges` (the streams' offsets), when the caller has them, save the first read."""
        super().__init__(name="group-offsets")
        self.environment = environment
        self.group = group
        self.preloaded = (detail, ranges) if detail is not None and ranges is not None else None
        self.refusal: str | None = None  # why applying is refused now (members, say)
        self.entries = {}

    @property
    def heading(self) -> str:
        """What the line over the grid says ("" before it is up)."""
        titles = self.query("#title")
        return str(titles.first(Static).render()) if titles else ""

    def start(self) -> None:
        self.title = f"Offsets of {self.group} on {self.environment}"
        if self.preloaded is not None:
            self._show(*self.preloaded)
        else:
            self.run_worker(self._load(), group="load")

    async def _read(self) -> tuple[GroupDetail, list[StreamOffsets]]:
        groups = self.app.client.groups
        detail = await groups.describe(self.environment, self.group)
        streams = sorted({p.stream for p in detail.partitions} | set(detail.streams))
        ranges = await asyncio.gather(*(groups.stream_offsets(self.environment, s) for s in streams))
        return detail, list(ranges)

    async def _load(self) -> None:
        title = self.query_one("#title", Static)
        title.update(Text("Reading the group's offsets…", style="dim"))
        try:
            detail, ranges = await self._read()
        except (APIError, Unreachable) as exc:
            title.update(Text(f"Cannot read the offsets: {exc}", style="red"))
            return
        self._show(detail, ranges)

    def _show(self, detail: GroupDetail, ranges: list[StreamOffsets]) -> None:
        self.refusal = k2k_elsewhere(detail) or has_members(detail)
        head = Text.assemble(("Committed offsets of ", ""), (self.group, "bold"),
                             (f" ({detail.state}): the next offset each partition reads\n", "dim"))
        if self.refusal:
            head.append(f"✗ {self.refusal}", style="bold red")
        else:
            head.append("Type an expression and enter to set the selected rows (space selects, a all) or the row "
                        "under the cursor; ctrl+s applies them in one commit.", style="dim")
        self.query_one("#title", Static).update(head)
        self.entries = {}
        for stream, partitions in positions(detail, ranges).items():
            self.take(stream, partitions)
        self.refresh_grid()

    async def offsets_at(self, expression: str, topics: set[str]) -> dict[str, dict[int, int]]:
        found: dict[str, dict[int, int]] = {}
        for stream in sorted(topics):
            try:
                answer = await self.app.client.groups.stream_offsets(self.environment, stream, at=expression)
            except (APIError, Unreachable) as exc:
                self.notify(f"Cannot resolve {expression} on {stream}: {exc}", severity="error", timeout=6)
                continue
            found[stream] = {p.partition: p.offsetAtTime for p in answer.partitions if p.offsetAtTime is not None}
        return found

    # applying

    def action_apply(self) -> None:
        if self.refusal:
            self.notify(self.refusal, severity="error", timeout=6)
            return
        super().action_apply()

    def apply_note(self) -> str:
        return "Set in one commit; the group's consumers start from them when they join again."

    async def apply(self) -> None:
        offsets = [CommitOffset(stream=stream, partition=partition, offset=offset)
                   for stream, changed in self.changes().items() for partition, offset in sorted(changed.items())]
        try:
            await self.app.client.groups.commit(self.environment, self.group, offsets)
        except EventAPIError as exc:
            if exc.code != CONFLICT:
                self.notify(f"Offsets not set: {exc}", severity="error", timeout=8)
                return
            self.refusal = f"{self.group} has members now: stop its consumers first. ({exc})"
            self.query_one("#title", Static).update(Text(f"✗ {self.refusal}", style="bold red"))
            self.notify(f"Offsets not set: {self.refusal}", severity="error", timeout=8)
            return
        except (APIError, Unreachable) as exc:
            self.notify(f"Offsets not set: {exc}", severity="error", timeout=8)
            return
        self.notify(f"{plural(len(offsets), 'offset')} of {self.group} set.", timeout=4)
        self.dismiss()
