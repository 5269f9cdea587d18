"""The tail screen and the publish editor on a real HQ (the console's everything else), their
event API calls answered by real tiny servers with frozen answers: the tail's are a real tail's
frames (tests/console/fixtures/tail_orders.sse: 42 records of `orders.frozen` on the sandbox,
read once, from earliest), the publish refusal is the one the agent app renders for a key past
its bound (backend/streams/errors.validation_error on PublishEvent's own refusal)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from backend.streams.errors import validation_error
from backend.streams.models import MAX_KEY, PublishEvent
from console.client import HQClient
from console.client.records import RecordsClient
from console.screens.publish_editor import PublishEditor
from console.screens.record_view import RecordScreen
from console.screens.tail import TailScreen
from tests.console.conftest import SIZE, TOKEN
from tests.console.helpers import live, until
from tests.http_servers import event_stream_server, tiny_server

WIDE = (160, 45)
FROZEN = Path(__file__).parent / "fixtures" / "tail_orders.sse"
STREAM = "orders.frozen"
FILTER = 'value.amount > 100 and headers.source == "web"'


@pytest.fixture
def frozen_tail():
    with event_stream_server(FROZEN.read_bytes()) as url:
        yield url


def answered_by(app, url: str) -> None:
    """The app's event API records calls go to `url` (a real server the test started)."""
    app.client.records = RecordsClient(HQClient(url, TOKEN))


async def tailing(pilot, url: str) -> TailScreen:
    await live(pilot)
    answered_by(pilot.app, url)
    screen = TailScreen("staging", STREAM, "earliest")
    await pilot.app.push_screen(screen)
    await until(pilot, lambda: len(screen.records.rows) == 42 and screen.state == "live", "the frozen records")
    await pilot.pause()
    return screen


async def quiet(pilot, screen: TailScreen) -> None:
    """Once the records' rate has fallen to 0 (a few seconds after the frozen ones came): a
    snapshot then shows the same rate whenever it is taken."""
    await until(pilot, lambda: screen.status_text.startswith("● live · 0 rec/s"), "the rate at 0", tries=500)


def keys(screen: TailScreen) -> list[str | None]:
    return [row.event.key for row in screen.records.rows]


async def test_the_filter_narrows_the_tail_live_and_names_its_error(hq, console, frozen_tail):
    async with console().run_test(size=SIZE) as pilot:
        screen = await tailing(pilot, frozen_tail)
        assert screen.records.selected.event.eventId == "orders.frozen:2:12"  # the newest: it follows
        await pilot.press("slash", *FILTER)
        await until(pilot, lambda: screen.filter_text == FILTER, "the filter on")
        wanted = [r.event.key for r in screen.ring if isinstance(r.event.value, dict)
                  and r.event.value["amount"] > 100 and r.event.headers.get("source") == "web"]
        assert keys(screen) == wanted and 0 < len(wanted) < 42
        await pilot.press("backspace")  # `"web` : an unclosed string
        await until(pilot, lambda: screen.filter_error is not None, "the error")
        assert screen.filter_error.position == FILTER.index('"web')
        assert keys(screen) == wanted  # the last filter that parsed stays on
        await pilot.press("escape")  # clears the filter
        await until(pilot, lambda: len(screen.records.rows) == 42, "every record again")
        assert screen.filter_error is None or screen.filter_text == ""


async def test_pause_holds_the_table_and_enter_opens_the_record(hq, console, frozen_tail):
    async with console().run_test(size=SIZE) as pilot:
        screen = await tailing(pilot, frozen_tail)
        await pilot.press("p")
        assert screen.paused
        frozen_rows = list(screen.records.rows)
        screen.take([next(iter(screen.ring)).event])  # a record arriving while paused
        await until(pilot, lambda: screen.new_while_paused == 1 and screen.ring.total_seen == 43, "the new record")
        assert list(screen.records.rows) == frozen_rows
        await pilot.press("p")
        await until(pilot, lambda: len(screen.records.rows) == 43, "the table moving again")
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, RecordScreen), "the record")
        record: RecordScreen = pilot.app.screen
        assert json.loads(record.copied_text)["eventId"] == "orders.frozen:0:0"


@pytest.mark.parametrize("size", [SIZE, WIDE], ids=["120x40", "160x45"])
def test_tail_snapshot(hq, console, frozen_tail, snap_compare, size):
    async def run_before(pilot):
        await quiet(pilot, await tailing(pilot, frozen_tail))

    assert snap_compare(console(), terminal_size=size, run_before=run_before)


def test_tail_with_a_filter_snapshot(hq, console, frozen_tail, snap_compare):
    async def run_before(pilot):
        screen = await tailing(pilot, frozen_tail)
        await pilot.press("slash", *FILTER)
        await until(pilot, lambda: screen.filter_text == FILTER, "the filter on")
        await pilot.press("enter")
        await quiet(pilot, screen)

    assert snap_compare(console(), terminal_size=SIZE, run_before=run_before)


def test_record_view_snapshot(hq, console, frozen_tail, snap_compare):
    async def run_before(pilot):
        await tailing(pilot, frozen_tail)
        await pilot.press("home", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, RecordScreen), "the record")
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=run_before)


# The publish editor ---------------------------------------------------------------------------

def key_refusal() -> dict:
    """What the agent answers for a key past MAX_KEY: PublishEvent's refusal, as the family renders it."""
    try:
        PublishEvent(key="k" * (MAX_KEY + 1), value=1)
    except ValidationError as exc:
        return validation_error(list(exc.errors())).body().model_dump(exclude_none=True)
    raise AssertionError("the key was taken")


@pytest.fixture
def refusing_publish():
    refusal = key_refusal()
    with tiny_server(lambda method, path, headers: (400, refusal)) as (url, seen):
        yield url, seen


async def editing(pilot, url: str) -> PublishEditor:
    await live(pilot)
    answered_by(pilot.app, url)
    editor = PublishEditor("staging", STREAM)
    await pilot.app.push_screen(editor)
    await pilot.pause()
    return editor


async def type_value(pilot, editor: PublishEditor, text: str) -> None:
    area = editor.query_one("#publish-value")
    area.load_text(text)
    await pilot.pause()


async def test_invalid_json_is_caught_at_its_line_before_anything_is_sent(hq, console, refusing_publish):
    url, seen = refusing_publish
    async with console().run_test(size=SIZE) as pilot:
        editor = await editing(pilot, url)
        await type_value(pilot, editor, '{\n  "amount": 10,\n  "user": \n}')
        await pilot.press("ctrl+s")
        await until(pilot, lambda: editor.field_error("value"), "the JSON error")
        assert editor.field_error("value").startswith("✗ line 4, column 1: Expecting value")
        assert editor.query_one("#publish-value").marks == {3: "line 4, column 1: Expecting value"}
        assert seen.requests == []


async def test_the_agents_refusal_is_shown_at_its_field(hq, console, refusing_publish):
    url, seen = refusing_publish
    async with console().run_test(size=SIZE) as pilot:
        editor = await editing(pilot, url)
        editor.query_one("#publish-key").value = "k"
        await type_value(pilot, editor, '{"amount": 10}')
        await pilot.press("ctrl+s")
        await until(pilot, lambda: editor.field_error("key"), "the refusal at the key")
        assert "at most 65536 characters" in editor.field_error("key")
        assert editor.answer_text.startswith("Not published: Invalid request: key:")
        method, path, _ = seen.requests[0]
        assert (method, path) == ("POST", f"/api/v1/environments/staging/proxy/api/v1/streams/{STREAM}/events")


def test_publish_editor_with_a_server_error_snapshot(hq, console, refusing_publish, snap_compare):
    url, _ = refusing_publish

    async def run_before(pilot):
        editor = await editing(pilot, url)
        editor.query_one("#publish-key").value = "k"
        editor.query_one("#publish-headers").load_text("source: web\ntrace-id: t-1")
        await type_value(pilot, editor, '{\n  "amount": 10,\n  "user": {"id": "u1"}\n}')
        await pilot.press("ctrl+s")
        await until(pilot, lambda: editor.field_error("key"), "the refusal at the key")
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=run_before)


async def test_a_batch_file_counts_what_was_published_and_names_the_first_failures(hq, console, tmp_path):
    answer = {"batchId": "b-1", "totalEvents": 3, "successCount": 2, "failureCount": 1, "results": [
        {"index": 0, "status": "published", "eventId": f"{STREAM}:0:7", "partition": 0, "offset": 7,
         "timestamp": "2026-12-01T10:00:00.000Z"},
        {"index": 1, "status": "failed", "error": {"code": 1004, "message": "SERIALIZATION_ERROR",
                                                    "description": "value: not JSON", "field": "value"}},
        {"index": 2, "status": "published", "eventId": f"{STREAM}:1:3", "partition": 1, "offset": 3,
         "timestamp": "2026-12-01T10:00:00.000Z"}]}
    events = tmp_path / "events.jsonl"
    events.write_text('{"key": "a", "value": 1}\n{"amount": 2}\n{oops\n"three"\n')
    with tiny_server(lambda method, path, headers: (200, answer)) as (url, seen):
        async with console().run_test(size=SIZE) as pilot:
            editor = await editing(pilot, url)
            editor.query_one("#publish-file").value = str(events)
            await pilot.press("ctrl+b")
            await until(pilot, lambda: "published" in editor.answer_text and "failed" in editor.answer_text,
                        "the batch's counts")
            assert editor.answer_text.splitlines() == [
                "events.jsonl: 2 published · 2 failed", "  line 2: value: not JSON",
                "  line 3: Expecting property name enclosed in double quotes"]
    assert [path for _, path, _ in seen.requests] == [
        f"/api/v1/environments/staging/proxy/api/v1/streams/{STREAM}/events/batch"]


async def test_records_are_redrawn_together_and_the_ring_keeps_the_last_5000(hq, console, frozen_tail):
    async with console().run_test(size=SIZE) as pilot:
        screen = await tailing(pilot, frozen_tail)
        template = screen.records.rows[-1].event
        redraws = screen.redraws
        for batch in range(60):  # 6,000 records arriving within one turn of the loop
            screen.take([template.model_copy(update={"offset": 1000 + batch * 100 + n, "key": f"k{batch}-{n}"})
                         for n in range(100)])
        await until(pilot, lambda: screen.records.rows[-1].event.key == "k59-99", "the last record on screen")
        assert screen.redraws == redraws + 1  # one redraw for them all, not one per batch
        assert (len(screen.ring), screen.ring.total_seen, len(screen.records.rows)) == (5000, 6042, 5000)
        assert screen.records.rows[0].event.key == "k10-0"  # the oldest the ring kept: the 1,043rd
