"""The Topics screens on the sandbox's real Kafka, through a real HQ and its built-in agent, as a
user drives them: `:topics` shows a topic that a producer keeps writing to with its messages
growing and its records/s, live from the agent's stream feed, and `t` tails it; a topic created
through the form appears and is deleted again; a create the agent refuses (a name in use) is
shown at the name field (a snapshot)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient
from textual.screen import Screen
from textual.widgets import Input

from backend.app import create_app
from backend.environments.models import EnvironmentCreate, KafkaConnectionSpec
from backend.server import ServerThread, unix_socket
from backend.settings import Settings
from console.app import StreamHQApp
from console.client import HQClient
from console.config import ConsoleConfig
from console.screens.confirm import ConfirmDialog
from console.screens.tail import TailScreen
from console.screens.topic_form import TopicForm
from console.screens.topics import TopicsScreen
from tests.console.helpers import live, settle, table_keys, until
from tests.kafka.conftest import create_topic
from tests.kafka.replication import new_topic, unique

pytestmark = pytest.mark.kafka

TOKEN = "console-topics-token"
ENVIRONMENT = "e2e-topics"
SIZE = (120, 40)
STATES = 3000  # tries of 20 ms: a minute for the agent's reading of the cluster
SNAPSHOT_TOPIC = "snapshot-orders"  # fixed: the refusal names it


@dataclass
class Setup:
    socket: Path
    cluster: dict


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target) -> Iterator[Setup]:
    """An HQ whose built-in agent serves the event API on the sandbox's target Kafka (the
    cluster with fewer topics: its list is read in a moment)."""
    monkeypatch.setenv("STREAMHQ_CONFIG_DIR", str(tmp_path / "config"))
    socket = tmp_path / "hq.sock"
    app = create_app(Settings(home=tmp_path / "hq", session_token=TOKEN, k2k_controller=False,
                              agent_interval_seconds=1.0))
    server = ServerThread(app, unix_socket(socket)).start()
    yield Setup(socket, target)
    server.stop()


def console_on(setup: Setup, tmp_path: Path) -> StreamHQApp:
    return StreamHQApp(HQClient("e2e", TOKEN, uds=str(setup.socket)), ConsoleConfig(path=tmp_path / "c.yaml"))


async def register(client: HQClient, cluster: dict) -> None:
    await client.create_environment(EnvironmentCreate(name=ENVIRONMENT))
    await client.put_connection(ENVIRONMENT, "main", KafkaConnectionSpec(override_broker_addresses=[
        cluster["bootstrap"]]))


@pytest.fixture
def moving_topic(setup: Setup) -> Iterator[str]:
    """A topic a producer writes to for as long as the test runs, as the demo's does."""
    topic = new_topic(setup.cluster, "moving", partitions=2)
    stop = threading.Event()

    def produce() -> None:
        producer = Producer({"bootstrap.servers": setup.cluster["bootstrap"], "linger.ms": 5})
        sequence = 0
        while not stop.wait(0.05):  # the producer's pace (a demo's), not a wait of the test's
            producer.produce(topic, key=str(sequence % 7), value=b'{"n": %d}' % sequence)
            producer.poll(0)
            sequence += 1
        producer.flush(10)

    thread = threading.Thread(target=produce, daemon=True)
    thread.start()
    yield topic
    stop.set()
    thread.join(30)
    admin = AdminClient({"bootstrap.servers": setup.cluster["bootstrap"]})  # held: a dropped client cancels
    admin.delete_topics([topic])[topic].result(30)


def topics_of(cluster: dict) -> set[str]:
    return set(AdminClient({"bootstrap.servers": cluster["bootstrap"]}).list_topics(timeout=30).topics)


async def open_topics(pilot) -> TopicsScreen:
    await live(pilot)
    await pilot.press("colon", *f"topics {ENVIRONMENT}", "enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, TopicsScreen), "the topics screen")
    screen = pilot.app.screen
    await until(pilot, lambda: screen.items, "the agent's list", tries=STATES)
    return screen


async def test_a_moving_topic_grows_and_a_topic_is_created_and_deleted_from_the_console(setup, moving_topic,
                                                                                      tmp_path):
    made = unique("made-in-form")
    async with console_on(setup, tmp_path).run_test(size=SIZE) as pilot:
        await register(pilot.app.client, setup.cluster)
        screen = await open_topics(pilot)
        await until(pilot, lambda: moving_topic in screen.items, "the moving topic", tries=STATES)
        first = screen.items[moving_topic].totalMessages
        await pilot.press("slash", *moving_topic, "enter")
        await until(pilot, lambda: table_keys(pilot) == [moving_topic], "the filter on it")
        await until(pilot, lambda: screen.items[moving_topic].totalMessages > first, "its messages growing",
                    tries=STATES)
        await until(pilot, lambda: (screen.items[moving_topic].messagesPerSecond or 0) > 0, "its records/s in",
                    tries=STATES)
        await settle(pilot)
        cells = [cell.plain for cell in screen.table.get_row(moving_topic)]
        assert cells[3] == f"{screen.items[moving_topic].totalMessages:,}" and cells[5].endswith("/s")
        assert table_keys(pilot) == [moving_topic]  # the filter kept across readings

        await pilot.press("t")  # its tail, from the latest record: the producer's next ones arrive
        await until(pilot, lambda: isinstance(pilot.app.screen, TailScreen), "the tail")
        tail = pilot.app.screen
        await until(pilot, lambda: tail.ring.total_seen > 0, "records in the tail", tries=STATES)
        assert tail.stream == moving_topic
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is screen, "back on the topics")

        await pilot.press("escape", "n")
        await until(pilot, lambda: isinstance(pilot.app.screen, TopicForm), "the form")
        form = pilot.app.screen
        form.query_one("#name", Input).value = made
        form.query_one("#partitions", Input).value = "2"
        form.query_one("#retention", Input).value = "1h"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: pilot.app.screen is screen, "the form closed on create", tries=STATES)
        assert any(n == f"Topic {made!r} created." for n in pilot.app.notices)
        await until(pilot, lambda: made in screen.items, "the new topic listed", tries=STATES)
        assert screen.items[made].partitions == 2 and made in topics_of(setup.cluster)
        description = await pilot.app.client.streams.describe(ENVIRONMENT, made)
        assert description.config.get("retentionMs") == 3_600_000

        await pilot.press("slash", *made, "enter")
        await until(pilot, lambda: table_keys(pilot) == [made], "the new topic alone")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        assert pilot.app.screen.type_to_confirm is None  # a development environment
        await pilot.press("y")
        await until(pilot, lambda: made not in screen.items, "the topic gone from the list", tries=STATES)
        assert made not in topics_of(setup.cluster)


def test_a_create_refused_by_the_agent_is_shown_at_its_field_snapshot(setup, tmp_path, snap_compare):
    try:
        create_topic(setup.cluster["bootstrap"], SNAPSHOT_TOPIC, 1)
    except KafkaException as exc:  # left by a run before: what the snapshot needs anyway
        assert "already exists" in str(exc)

    async def steps(pilot) -> None:
        await register(pilot.app.client, setup.cluster)
        await live(pilot)
        # The form over an empty screen: the cluster's topics behind it change with every run.
        await pilot.app.push_screen(Screen())
        form = TopicForm(ENVIRONMENT)
        await pilot.app.push_screen(form)
        for field in form.query(Input):
            field.cursor_blink = False  # a blinking cursor is drawn on or off by the clock
        form.query_one("#name", Input).value = SNAPSHOT_TOPIC
        await pilot.press("ctrl+s")
        await until(pilot, lambda: form.query_one("#error-name").display, "the refusal at the name", tries=STATES)
        await pilot.pause()

    assert snap_compare(console_on(setup, tmp_path), terminal_size=SIZE, run_before=steps)
