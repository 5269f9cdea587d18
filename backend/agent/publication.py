"""Which agent rounds are worth publishing: an environment's status is written (and so sent to
every console) when a figure in it changed, and otherwise once per heartbeat, so that its
`updated_at` says the agent is still there. Every round rewriting every environment was 40
events/s at 200 environments, re-rendering every console for nothing.

What is not a change: the timestamps (`updated_at` at every level), a round trip's jitter (a
move under ROUNDTRIP_MIN_CHANGE_MS or under half the last published value), and rates that
differ only past RATE_DIGITS significant digits (float noise from readings a few ms apart; no
screen shows more). A rate that moves more than that is news, and is published each round."""

from __future__ import annotations

from dataclasses import dataclass
from math import floor, log10
from typing import Any

HEARTBEAT_SECONDS = 15.0
ROUNDTRIP_MIN_CHANGE_MS = 25.0
RATE_DIGITS = 3


def _figures(value: Any) -> Any:
    """The status without what changes every round by itself: timestamps and the round trip."""
    if isinstance(value, dict):
        return {k: _figures(v) for k, v in value.items() if k not in ("updated_at", "roundtrip_duration")}
    if isinstance(value, list):
        return [_figures(v) for v in value]
    if isinstance(value, float) and value:
        return round(value, RATE_DIGITS - 1 - floor(log10(abs(value))))
    return value


def _roundtrip(status: dict[str, Any]) -> float | None:
    return (status.get("agent") or {}).get("roundtrip_duration")


def _roundtrip_moved(before: float | None, now: float | None) -> bool:
    if before is None or now is None:
        return before != now
    return abs(now - before) >= max(ROUNDTRIP_MIN_CHANGE_MS, before / 2)


@dataclass(frozen=True)
class _Published:
    figures: Any
    roundtrip: float | None
    at: float


class StatusPublication:
    """Remembers, per environment, the last status published and when (`at`: time.monotonic())."""

    def __init__(self, heartbeat: float = HEARTBEAT_SECONDS) -> None:
        self.heartbeat = heartbeat
        self._published: dict[str, _Published] = {}

    def wanted(self, environment: str, status: dict[str, Any], at: float) -> bool:
        """Whether to publish `status` now; when so, it becomes the one later rounds compare with."""
        last = self._published.get(environment)
        figures, roundtrip = _figures(status), _roundtrip(status)
        if last is not None and last.figures == figures and not _roundtrip_moved(last.roundtrip, roundtrip) \
                and at - last.at < self.heartbeat:
            return False
        self._published[environment] = _Published(figures, roundtrip, at)
        return True

    def keep_only(self, environments: set[str]) -> None:
        """Forgets environments gone or no longer watched (one created again publishes at once)."""
        for name in set(self._published) - environments:
            del self._published[name]
