"""Who reads from which cluster: records/s out of each cluster, from consumer groups' committed
positions advancing between two readings.

A group commits on the cluster it reads from, except a K2K app's: it reads the source and
commits on the target (next to what it writes, so a copy and its position commit together).
HQ knows its own apps, so their groups' progress, read on the target, counts against the source
and not the target. Consumers that never commit, and other HQs' K2K groups, are not seen as such:
the first are missing, the second count against the cluster they commit on."""

from __future__ import annotations

from dataclasses import dataclass

from backend.agent.kafka import ClusterSnapshot


@dataclass(frozen=True)
class K2KRead:
    """One K2K app as the agent sees it: its group, and the watch keys of its two clusters."""

    group: str
    source: str
    target: str


def group_rates(now: ClusterSnapshot, before: ClusterSnapshot | None) -> dict[str, float] | None:
    """Records/s each consumer group advanced between two readings; None without an earlier one.
    A group seen only once is left out (its first commit is a position, not progress), and a
    group whose positions went back (reset, topic deleted) counts as reading nothing."""
    if before is None or now.at <= before.at:
        return None
    seconds = now.at - before.at
    return {group: max(0, total - before.committed[group]) / seconds
            for group, total in now.committed.items() if group in before.committed}


def records_out(rates: dict[str, dict[str, float] | None], apps: list[K2KRead]) -> dict[str, float | None]:
    """Per cluster (watch key): records/s read from it. `rates` holds each cluster's group_rates;
    a cluster without rates yet has no figure."""
    moved = {(app.target, app.group) for app in apps}
    out: dict[str, float | None] = {
        key: None if groups is None else sum(r for g, r in groups.items() if (key, g) not in moved)
        for key, groups in rates.items()}
    for app in apps:
        read = (rates.get(app.target) or {}).get(app.group)
        if read is not None and out.get(app.source) is not None:
            out[app.source] += read
    return out
