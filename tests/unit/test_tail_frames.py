"""The console's reading of a tail's events (console/client/records.py), on the frames of a real
tail (tests/console/fixtures/tail_orders.sse, read once from the sandbox)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backend.streams.models import TailReady, TailRecords
from console.client.event_api import EventAPIError
from console.client.records import read_tail_frame

FROZEN = Path(__file__).parent.parent / "console" / "fixtures" / "tail_orders.sse"


def frozen_events() -> list[tuple[str, str]]:
    events = []
    for block in FROZEN.read_text().strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], fields["data"]))
    return events


def test_a_real_tail_reads_as_ready_then_records():
    (ready_event, ready_data), (records_event, records_data) = frozen_events()
    ready = read_tail_frame(ready_event, ready_data)
    assert isinstance(ready, TailReady)
    assert ready.stream == "orders.frozen" and [p.offset for p in ready.partitions] == [0, 0, 0]
    records = read_tail_frame(records_event, records_data)
    assert isinstance(records, TailRecords) and len(records.events) == 42
    first = records.events[0]
    assert (first.eventId, first.key, first.headers) == ("orders.frozen:0:0", "order-1000",
                                                         {"source": "app", "trace-id": "t-0000"})
    encodings = {event.key: event.valueEncoding for event in records.events}
    assert (encodings["note-1"], encodings[None]) == ("string", "base64")


def test_an_error_event_ends_the_tail_with_the_agents_refusal():
    body = {"code": 1001, "message": "STREAM_NOT_FOUND", "description": "The stream went.", "field": "streamName"}
    with pytest.raises(EventAPIError) as ended:
        read_tail_frame("error", json.dumps(body))
    assert (ended.value.code, ended.value.title) == (1001, "The stream went.")


def test_an_event_this_console_does_not_know_is_passed_over():
    assert read_tail_frame("progress", "{}") is None
    assert read_tail_frame("error", "not json") is None
