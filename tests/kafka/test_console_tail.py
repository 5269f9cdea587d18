"""The tail screen on the sandbox's real Kafka, through a real HQ and its built-in agent, as a
user drives it: records from earliest, a filter typed live (and one that does not parse, its
error at its character), pause while records keep arriving, a record opened in full, the
start moved to an offset, and the agent's tail closed once the screen is left."""

from __future__ import annotations

import json
import uuid

import pytest
from confluent_kafka import Producer

from backend.deps import services_of
from backend.environments.models import EnvironmentCreate
from backend.streams.tail import tail_registry
from console.app import StreamHQApp
from console.client import HQClient
from console.config import ConsoleConfig
from console.screens.publish_editor import PublishEditor
from console.screens.record_view import RecordScreen
from console.screens.registry import TAIL, open_stream_screen
from console.screens.tail import FromPicker, TailScreen
from tests.console.helpers import until
from tests.kafka.conftest import TOKEN, create_topic, plaintext

pytestmark = pytest.mark.kafka

TRIES = 3000  # of 20 ms: a minute for a loaded machine's broker and agent


def produce(bootstrap: str, topic: str, first: int, count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for number in range(first, first + count):
        value = {"amount": number, "user": {"id": f"u{number % 3}"}}
        producer.produce(topic, key=f"order-{number}", value=json.dumps(value),
                         headers=[("source", b"web" if number % 2 else b"app")])
    assert producer.flush(30) == 0


async def test_tailing_filtering_pausing_and_opening_a_record(embedded_hq, tmp_path, source):
    topic = f"tail-console-{uuid.uuid4().hex[:8]}"
    create_topic(source["bootstrap"], topic, 1)
    produce(source["bootstrap"], topic, 0, 30)
    client = HQClient("test-hq", TOKEN, uds=str(embedded_hq.socket))
    app = StreamHQApp(client, ConsoleConfig(path=tmp_path / "config" / "config.yaml"))
    async with app.run_test(size=(120, 40)) as pilot:
        await client.create_environment(EnvironmentCreate(name="tailed"))
        await client.put_connection("tailed", "main", plaintext(source))
        screen = TailScreen("tailed", topic, "earliest")
        await app.push_screen(screen)
        await until(pilot, lambda: len(screen.records.rows) == 30, "the 30 records", tries=TRIES)
        assert screen.state == "live" and screen.ring.total_seen == 30
        assert screen.records.selected.event.key == "order-29"  # it follows the newest

        await pilot.press("slash", *"value.amount >= 27")
        await until(pilot, lambda: [r.event.key for r in screen.records.rows] == ["order-27", "order-28", "order-29"],
                    "the filtered records")
        await pilot.press(*" and")  # not a filter yet: the last one that was stays on
        await until(pilot, lambda: screen.filter_error is not None, "the filter's error")
        assert screen.filter_error.position == len("value.amount >= 27 and")
        assert len(screen.records.rows) == 3
        await pilot.press(*' headers.source == "web"')
        await until(pilot, lambda: [r.event.key for r in screen.records.rows] == ["order-27", "order-29"],
                    "the records of both conditions")
        assert screen.filter_error is None
        await pilot.press("enter")  # keeps the filter, back on the table

        await pilot.press("space")
        assert screen.paused
        produce(source["bootstrap"], topic, 30, 10)
        await until(pilot, lambda: screen.new_while_paused == 10, "the records that came while paused", tries=TRIES)
        assert [r.event.key for r in screen.records.rows] == ["order-27", "order-29"]  # held still
        await pilot.press("space")
        await until(pilot, lambda: [r.event.key for r in screen.records.rows][-1] == "order-39", "the new records")
        assert [r.event.key for r in screen.records.rows] == [f"order-{n}" for n in (27, 29, 31, 33, 35, 37, 39)]

        await pilot.press("up", "enter")
        await until(pilot, lambda: isinstance(app.screen, RecordScreen), "the record in full")
        assert app.screen.event.key == "order-37"
        assert json.loads(app.screen.copied_text)["value"] == {"amount": 37, "user": {"id": "u1"}}
        await pilot.press("escape")

        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, FromPicker), "the start picker")
        await pilot.press(*["backspace"] * len("earliest"), *"35", "enter")
        await until(pilot, lambda: screen.ring.total_seen == 5 and screen.from_ == "35", "the tail from 35",
                    tries=TRIES)
        assert [r.event.key for r in screen.records.rows] == ["order-35", "order-37", "order-39"]

        context = services_of(embedded_hq.server.server.config.app).agents.agent_context("tailed")
        registry = tail_registry(context.kafka_clients, context.resources().kafka)
        await until(pilot, lambda: registry.count == 1, "the tail from earliest gone with its restart",
                    tries=TRIES)
        await pilot.press("escape", "escape")  # the filter, then the screen
        await until(pilot, lambda: not isinstance(app.screen, TailScreen), "the screen left")
        await until(pilot, lambda: registry.count == 0, "the agent's tail closed", tries=TRIES)


async def test_the_tail_opens_by_name_from_any_screen(embedded_hq, tmp_path, source):
    client = HQClient("test-hq", TOKEN, uds=str(embedded_hq.socket))
    app = StreamHQApp(client, ConsoleConfig(path=tmp_path / "config" / "config.yaml"))
    async with app.run_test(size=(120, 40)) as pilot:
        await client.create_environment(EnvironmentCreate(name="named"))
        await client.put_connection("named", "main", plaintext(source))
        open_stream_screen(app, TAIL, "named", "no-such-topic-here")
        await until(pilot, lambda: isinstance(app.screen, TailScreen), "the tail screen")
        await until(pilot, lambda: app.screen.state == "ended", "the refusal", tries=TRIES)
        assert "has no stream (topic) 'no-such-topic-here'" in app.screen.problem


async def test_an_event_published_from_the_tail_arrives_in_it(embedded_hq, tmp_path, source):
    topic = f"tail-publish-{uuid.uuid4().hex[:8]}"
    create_topic(source["bootstrap"], topic, 1)
    produce(source["bootstrap"], topic, 0, 1)  # the topic's metadata is out by then
    client = HQClient("test-hq", TOKEN, uds=str(embedded_hq.socket))
    app = StreamHQApp(client, ConsoleConfig(path=tmp_path / "config" / "config.yaml"))
    async with app.run_test(size=(120, 40)) as pilot:
        await client.create_environment(EnvironmentCreate(name="published"))
        await client.put_connection("published", "main", plaintext(source))
        tail = TailScreen("published", topic)
        await app.push_screen(tail)
        await until(pilot, lambda: tail.state == "live", "the tail from latest", tries=TRIES)
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, PublishEditor), "the publish editor")
        editor: PublishEditor = app.screen
        editor.query_one("#publish-key").value = "from-the-editor"
        editor.query_one("#publish-headers").load_text("source: console")
        editor.query_one("#publish-value").load_text('{"amount": 42}')
        await pilot.press("ctrl+s")
        await until(pilot, lambda: editor.answer_text.startswith("✓ published"), "the publish's answer", tries=TRIES)
        assert "offset 1 · " in editor.answer_text and f"{topic}:0:1" in editor.answer_text
        await pilot.press("escape")
        await until(pilot, lambda: [r.event.key for r in tail.records.rows] == ["from-the-editor"],
                    "the event in the tail", tries=TRIES)
        event = tail.records.rows[0].event
        assert (event.value, event.headers, event.eventId) == ({"amount": 42}, {"source": "console"}, f"{topic}:0:1")
