"""The consumer group screens end to end on the sandbox, as a user drives them: a group consumes
and commits, its consumer stops, more records arrive; `:groups` shows it lagging (and the lag
growing, live), its detail the lag per partition; the offsets editor resolves a time through the
agent and rewinds the group to earliest in one commit, and Kafka itself then holds the group's
committed offsets at the start of each partition."""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from console.app import StreamHQApp
from console.client import APIError, HQClient
from console.config import ConsoleConfig
from console.screens.confirm import ConfirmDialog
from console.screens.group_detail import GroupDetailScreen
from console.screens.group_offsets import GroupOffsets
from console.screens.groups import GroupsScreen
from tests.console.helpers import eventually, live, settle, table_keys, until
from tests.kafka.conftest import consume_and_commit, create_topic, plaintext
from tests.kafka.replication import unique
from tests.kafka.test_console_connectors import TOKEN, EmbeddedHQ

pytestmark = pytest.mark.kafka

PARTITIONS = 2
CONSUMED, LATER = 30, 12  # records per partition before the consumer stops, and after
STATES = 3000  # tries of 20 ms: a minute for the agent's first reading of the cluster


@pytest.fixture
def embedded_hq(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STREAMHQ_CONFIG_DIR", str(tmp_path / "config"))
    hq = EmbeddedHQ(tmp_path)
    yield hq
    hq.stop()


def produce(bootstrap: str, topic: str, per_partition: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})
    for partition in range(PARTITIONS):
        for n in range(per_partition):
            producer.produce(topic, value=f"{n}".encode(), partition=partition)
    producer.flush(30)


def committed(bootstrap: str, topic: str, group: str) -> list[int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        answer = consumer.committed([TopicPartition(topic, p) for p in range(PARTITIONS)], timeout=30)
        return [tp.offset for tp in answer]
    finally:
        consumer.close()


async def test_a_stopped_groups_lag_shows_and_the_editor_rewinds_it_to_earliest(embedded_hq, source, tmp_path):
    from backend.environments.models import EnvironmentCreate

    bootstrap = source["bootstrap"]
    topic, group = unique("console-groups"), unique("console-billing")
    create_topic(bootstrap, topic, PARTITIONS)
    produce(bootstrap, topic, CONSUMED)
    consume_and_commit(bootstrap, topic, group, CONSUMED * PARTITIONS)
    produce(bootstrap, topic, LATER)  # arriving after its consumer stopped: the group lags
    assert committed(bootstrap, topic, group) == [CONSUMED] * PARTITIONS

    client = HQClient("e2e", TOKEN, uds=str(embedded_hq.socket))
    console = StreamHQApp(client, ConsoleConfig(path=tmp_path / "c.yaml"))
    async with console.run_test(size=(120, 40)) as pilot:
        await pilot.app.client.create_environment(EnvironmentCreate(name="sbx"))
        await pilot.app.client.put_connection("sbx", "plaintext", plaintext(source))
        await live(pilot)
        await until(pilot, lambda: table_keys(pilot) == ["sbx"], "the environment")

        async def agent_answers() -> bool:
            try:
                return any(g.groupId == group for g in (await pilot.app.client.groups.list("sbx")).items)
            except APIError:
                return False  # the agent not connected yet

        await eventually(pilot, agent_answers, "the agent listing the group")
        await pilot.press("colon", *"groups", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, GroupsScreen), "the groups screen")
        screen = pilot.app.screen
        await until(pilot, lambda: group in screen.items, "the group listed", tries=STATES)
        assert screen.items[group].totalLag == LATER * PARTITIONS
        await pilot.press("slash", *group, "enter")
        await settle(pilot)
        assert table_keys(pilot) == [group]
        assert screen.table.get_cell(group, "lag").plain.split()[-1] == f"{LATER * PARTITIONS}"
        produce(bootstrap, topic, LATER)  # the row follows the streams feed, with no list read again
        await until(pilot, lambda: screen.table.get_cell(group, "lag").plain.split()[-1] == f"{2 * LATER * PARTITIONS}",
                    "the lag grown on the live row", tries=STATES)

        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, GroupDetailScreen)
                    and pilot.app.screen.detail is not None, "the group's detail")
        detail = pilot.app.screen.detail
        assert [(p.committedOffset, p.logEndOffset, p.lag) for p in detail.partitions] == \
            [(CONSUMED, CONSUMED + 2 * LATER, 2 * LATER)] * PARTITIONS

        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, GroupOffsets)
                    and len(pilot.app.screen.entries) == PARTITIONS, "the offsets editor", tries=STATES)
        editor = pilot.app.screen
        await until(pilot, lambda: pilot.app.focused is not None, "focus")
        await pilot.press("a", *"2099-01-01T00:00:00Z", "enter")  # no record that late: the log ends
        assert [e.new for e in editor.entries.values()] == [CONSUMED + 2 * LATER] * PARTITIONS
        await pilot.press("a", *"earliest", "enter", "ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the diff to confirm")
        await pilot.press("y")
        await until(pilot, lambda: editor not in pilot.app.screen_stack, "the editor done", tries=STATES)
        assert "2 offsets of" in "\n".join(pilot.app.notices)
    assert committed(bootstrap, topic, group) == [0] * PARTITIONS
