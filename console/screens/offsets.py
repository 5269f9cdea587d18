"""The offsets editor (`o`): a K2K app's positions per partition, edited from the keyboard.

Each row shows a partition's valid range (the source's earliest and latest offsets) and the
app's committed position. Type an expression and press enter to set the selected rows
(space selects, `a` selects all; with nothing selected, the row under the cursor):
an offset, `earliest`, `latest`, `+N`/`-N` from the committed position, or an ISO-8601
time (resolved to offsets on the source by HQ). Entries outside the range are marked and
block the apply. ctrl+s shows the old → new diff; once confirmed, the app is paused if it
runs, each topic gets one PATCH, and the app is resumed if it was paused for this."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from backend.k2k.models import K2KApp, K2KMetrics, TopicOffsets
from console.client import APIError, Unreachable
from console.screens.offsets_grid import wait_until
from console.screens.positions_grid import PositionsGrid


def open_offsets_editor(screen, app: K2KApp, metrics: K2KMetrics | None, topic: str | None = None) -> None:
    topics = [topic] if topic else [t.name for t in metrics.source_topics] if metrics else []
    if not topics:
        topics = [t for t in app.spec.topics if not t.startswith("regex:")]
    if not topics:
        screen.notify("No topics known yet: wait for the app's first metrics.", severity="warning", timeout=4)
        return
    screen.app.push_screen(OffsetsEditor(app, topics))


class OffsetsEditor(PositionsGrid):
    def __init__(self, app_: K2KApp, topics: list[str], positions: list[TopicOffsets] | None = None) -> None:
        """`positions`, when the caller has them already, saves the first read."""
        super().__init__(name="offsets")
        self.k2k = app_
        self.topics = topics
        self.preloaded = positions
        self.entries = {}

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
            self.take(answer.topic_name, answer.partitions)
        self.refresh_grid()

    async def offsets_at(self, expression: str, topics: set[str]) -> dict[str, dict[int, int]]:
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
            by_topic = self.changes()
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
