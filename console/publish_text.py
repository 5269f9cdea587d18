"""What the publish editor reads from what the user typed, pure: headers as `name: value` lines,
a JSON value, and a batch file of JSON lines (each a PublishEvent, or a bare value). Every
refusal says the line (and for JSON the column) it is about, so the editor puts it there."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import JsonValue

from backend.streams.models import MAX_BATCH_EVENTS, MAX_HEADERS, PublishEvent

MAX_BATCH_FILE_BYTES = 64 * 1024 * 1024
MAX_BATCH_LINES = 100 * MAX_BATCH_EVENTS  # a hundred requests of the largest batch
EVENT_FIELDS = frozenset(PublishEvent.model_fields)


@dataclass(frozen=True)
class TextError(Exception):
    """`line` and `column` are 1-based (column 0: the whole line)."""

    message: str
    line: int
    column: int = 0


def parse_headers(text: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise TextError("a header is `name: value`", number)
        if name.strip() in headers:
            raise TextError(f"header {name.strip()!r} is given twice", number)
        headers[name.strip()] = value.strip()
    if len(headers) > MAX_HEADERS:
        raise TextError(f"at most {MAX_HEADERS} headers", 1)
    return headers


def parse_value(text: str) -> JsonValue:
    if not text.strip():
        raise TextError("the value is JSON: an object, a list, a string in quotes, a number, true, false or null", 1)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TextError(exc.msg, exc.lineno, exc.colno) from exc
    except RecursionError as exc:
        raise TextError("the value nests too deep", 1) from exc


@dataclass(frozen=True)
class BatchFile:
    """The events of a batch file by line number, and the lines that are no event."""

    events: list[tuple[int, dict[str, Any]]]
    failures: list[TextError]


def event_of_line(value: Any) -> dict[str, Any]:
    """A line's JSON as an event: an object with `value` and only PublishEvent's fields is one,
    anything else is the value of one."""
    if isinstance(value, dict) and "value" in value and set(value) <= EVENT_FIELDS:
        return value
    return {"value": value}


def read_batch_file(path: Path) -> BatchFile:
    """Raises TextError (line 0) when the file cannot be read or is too large."""
    try:
        size = path.stat().st_size
        if size > MAX_BATCH_FILE_BYTES:
            raise TextError(f"{path} is {size:,} bytes: at most {MAX_BATCH_FILE_BYTES:,}", 0)
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise TextError(f"cannot read {path}: {exc}", 0) from exc
    if len(lines) > MAX_BATCH_LINES:
        raise TextError(f"{path} has {len(lines):,} lines: at most {MAX_BATCH_LINES:,}", 0)
    events, failures = [], []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            events.append((number, event_of_line(json.loads(line))))
        except json.JSONDecodeError as exc:
            failures.append(TextError(exc.msg, number, exc.colno))
        except RecursionError:
            failures.append(TextError("nests too deep", number))
    return BatchFile(events, failures)
