"""The backend's one clock: UTC, and the timestamp format every record and API field uses
(ISO-8601 to the millisecond with a `Z`, e.g. 2026-11-23T07:00:00.123Z)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def utc_now_iso() -> str:
    return utc_now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
