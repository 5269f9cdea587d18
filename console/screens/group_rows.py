"""How consumer groups read on screen, shared by the groups list, its detail and the offsets
editor (none imports another): lag as a bar coloured by its size, and what a K2K app's
position group is.

A K2K app keeps its positions in a consumer group on the *target* cluster (`streamhq-k2k-{app}`,
`k2kApp` in the answer) but they are offsets of the *source* topics stored under the target's
topic names: measured against the target's log ends they would be nonsense. Such a group reads
as the app's, its lag the app's own (source log end - position, from the app's metrics), and
`k` goes to the app."""

from __future__ import annotations

from rich.text import Text
from textual.screen import Screen

from backend.k2k.models import K2KMetrics
from console.client import APIError, Unreachable
from console.client.events import Kind
from console.format import MISSING, count
from console.screens.registry import open_detail

# A group's events come on its environment's streams feed (the agent's, one per environment).
GROUP_FEED_KINDS = frozenset({Kind.consumer_group})

BAR_CELLS = 8
BAR = "█"
LARGE_LAG = 100_000  # from here a lag reads as far behind (red), below it as behind (yellow)


class SourceLag(int):
    """A lag measured on a K2K app's source (it sorts with the others, and says so when drawn)."""


def lag_style(lag: int) -> str:
    if lag == 0:
        return "green"
    return "yellow" if lag < LARGE_LAG else "bold red"


def lag_bar(lag: int) -> str:
    """One cell per order of magnitude (1, 10, 100, …): lags from 1 to 10⁷ all read at a glance,
    and a row's bar does not change when another row's lag does."""
    return BAR * min(BAR_CELLS, len(str(lag))) if lag > 0 else ""


def lag_text(lag: int | None) -> Text:
    if lag is None:
        return Text(MISSING, style="dim")
    text = Text.assemble((f"{lag_bar(lag):<{BAR_CELLS}} ", lag_style(lag)), count(lag))
    if isinstance(lag, SourceLag):
        text.append(" on source", style="dim")
    return text


def k2k_label(app: str) -> str:
    return f"K2K {app}"


def k2k_partition_lags(metrics: K2KMetrics | None) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the app's lag there against the source."""
    if metrics is None:
        return {}
    return {(t.name, p.partition): p.lag for t in metrics.destination_topics for p in t.offsets.partitions}


def k2k_source_ends(metrics: K2KMetrics | None) -> dict[tuple[str, int], int]:
    """(topic, partition) -> the source's log end offset, as the app last read it."""
    if metrics is None:
        return {}
    return {(t.name, p.partition): p.log_end_offset for t in metrics.source_topics for p in t.offsets.partitions}


def k2k_lag(metrics: K2KMetrics | None) -> SourceLag | None:
    lags = k2k_partition_lags(metrics)
    return SourceLag(sum(lags.values())) if lags else None


async def open_k2k_app(screen: Screen, name: str) -> None:
    """The K2K app's detail (`k` on its position group)."""
    try:
        app = await screen.app.client.get_k2k(name)
    except (APIError, Unreachable) as exc:
        screen.notify(f"Cannot open K2K app {name}: {exc}", severity="error", timeout=5)
        return
    open_detail(screen.app, Kind.k2k, app, app.metrics)
