"""The tail screen's memory (console/tail_ring.py): bounded, with rows a view can follow by
sequence number, their cells made once, and the rate records arrive at."""

from __future__ import annotations

from backend.streams.models import ConsumedEvent
from console.tail_ring import VALUE_CHARS, RateMeter, RecordRing, TailRow


def event(offset: int, **changes) -> ConsumedEvent:
    fields = {"eventId": f"s:0:{offset}", "partition": 0, "offset": offset, "timestamp": "2026-12-01T14:05:06.789Z",
              "key": f"k{offset}", "value": {"n": offset}, "headers": {}}
    return ConsumedEvent.model_validate(fields | changes)


def test_the_ring_keeps_the_last_records_and_counts_all():
    ring = RecordRing(size=3)
    ring.add(event(i) for i in range(5))
    assert [row.event.offset for row in ring] == [2, 3, 4]
    assert (len(ring), ring.total_seen, ring.oldest_seq) == (3, 5, 2)
    assert [row.seq for row in ring.since(3)] == [3, 4]
    assert [row.seq for row in ring.since(0)] == [2, 3, 4]  # what the ring let go is gone
    assert list(ring.since(5)) == []
    assert RecordRing().oldest_seq == 0


def test_a_row_has_its_cells_on_one_line():
    row = TailRow.of(0, event(7, key="a\nb", headers={"source": "web"}, value={"text": "x" * 1000}))
    assert (row.time, row.key, row.headers) == ("14:05:06.789", "a⏎b", "source=web")
    assert row.value.startswith('{"text":"xxx') and len(row.value) == VALUE_CHARS
    assert row.fields["value"] == {"text": "x" * 1000} and row.fields["partition"] == 0
    many = TailRow.of(1, event(8, headers={f"h{i}": "some value" for i in range(5)}))
    assert many.headers == "5 hdr"
    text = TailRow.of(2, event(9, value="plain\ttext", valueEncoding="string"))
    assert text.value == "plain text"
    assert TailRow.of(3, event(10, key=None)).key == ""


def test_the_rate_is_over_the_last_two_seconds():
    now = [100.0]
    meter = RateMeter(clock=lambda: now[0])
    meter.add(1000)
    now[0] += 1.0
    meter.add(1000)
    assert meter.per_second() == 1000.0
    now[0] += 1.5
    assert meter.per_second() == 500.0  # the first second fell out of the window
    now[0] += 5
    assert meter.per_second() == 0.0
