"""The event API from the keyboard, end to end on the sandbox's real Kafka through a real HQ and
its built-in agent, as the issue's "done when" has a user do it: a topic created in the Topics
screen's form, tailed from latest, an event published from the publish editor arriving in the
tail with its key, headers and value; then a consumer of the topic reads it, commits and stops,
and on `:groups` the offsets editor rewinds the stopped group to earliest, which Kafka itself then
holds as the group's committed offset."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from textual.widgets import Input

from backend.environments.models import EnvironmentCreate
from console.app import StreamHQApp
from console.client import APIError, HQClient
from console.config import ConsoleConfig
from console.screens.confirm import ConfirmDialog
from console.screens.group_detail import GroupDetailScreen
from console.screens.group_offsets import GroupOffsets
from console.screens.groups import GroupsScreen
from console.screens.publish_editor import PublishEditor
from console.screens.tail import TailScreen
from console.screens.topic_form import TopicForm
from console.screens.topics import TopicsScreen
from console.widgets.config_area import ConfigArea
from tests.console.helpers import eventually, live, settle, table_keys, until
from tests.kafka.conftest import TOKEN, consume_and_commit, plaintext
from tests.kafka.replication import unique

pytestmark = pytest.mark.kafka

ENVIRONMENT = "e2e-events"
SIZE = (120, 40)
STATES = 3000  # tries of 20 ms: a minute for the agent's reading of the cluster on a loaded machine
VALUE = '{"order": 17, "amount": 9.5}'


def committed(bootstrap: str, topic: str, group: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        (position,) = consumer.committed([TopicPartition(topic, 0)], timeout=30)
        return position.offset
    finally:
        consumer.close()


async def test_create_publish_tail_and_rewind_a_group_from_the_keyboard(embedded_hq, target, tmp_path):
    # The target cluster: the one with fewer topics, so the agent's list of it is read in a moment.
    bootstrap = target["bootstrap"]
    topic, group = unique("e2e-orders"), unique("e2e-billing")
    console = StreamHQApp(HQClient("e2e", TOKEN, uds=str(embedded_hq.socket)),
                          ConsoleConfig(path=tmp_path / "c.yaml"))
    try:
        async with console.run_test(size=SIZE) as pilot:
            await pilot.app.client.create_environment(EnvironmentCreate(name=ENVIRONMENT))
            await pilot.app.client.put_connection(ENVIRONMENT, "main", plaintext(target))
            await live(pilot)

            # the topic, from the Topics screen's form
            await pilot.press("colon", *f"topics {ENVIRONMENT}", "enter")
            await until(pilot, lambda: isinstance(pilot.app.screen, TopicsScreen), "the topics screen")
            topics = pilot.app.screen
            await until(pilot, lambda: topics.items, "the agent's topic list", tries=STATES)
            await pilot.press("n")
            await until(pilot, lambda: isinstance(pilot.app.screen, TopicForm), "the form")
            pilot.app.screen.query_one("#name", Input).value = topic
            pilot.app.screen.query_one("#partitions", Input).value = "1"  # where the event goes is known
            await pilot.press("ctrl+s")
            await until(pilot, lambda: pilot.app.screen is topics, "the form closed on create", tries=STATES)
            await until(pilot, lambda: topic in topics.items, "the new topic listed", tries=STATES)
            await pilot.press("slash", *topic, "enter")
            await until(pilot, lambda: table_keys(pilot) == [topic], "the new topic alone")

            # tailed from latest, then an event from the publish editor arrives in it
            await pilot.press("t")
            await until(pilot, lambda: isinstance(pilot.app.screen, TailScreen), "the tail")
            tail = pilot.app.screen
            await until(pilot, lambda: tail.state == "live", "the tail reading", tries=STATES)
            await pilot.press("P")
            await until(pilot, lambda: isinstance(pilot.app.screen, PublishEditor), "the publish editor")
            editor = pilot.app.screen
            await pilot.press(*"order-17")  # the key field has the focus
            editor.query_one("#publish-headers", ConfigArea).load_text("source: console")
            editor.query_one("#publish-value", ConfigArea).load_text(VALUE)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: editor.answer_text.startswith(("✓ published", "Not published")),
                        "the publish answer", tries=STATES)
            assert editor.answer_text.startswith("✓ published"), editor.answer_text
            assert "partition 0 · offset 0" in editor.answer_text
            assert f"{topic}:0:0" in editor.answer_text
            await pilot.press("escape")
            await until(pilot, lambda: pilot.app.screen is tail, "back on the tail")
            await until(pilot, lambda: len(tail.records.rows) == 1, "the event in the tail", tries=STATES)
            event = tail.records.rows[0].event
            assert (event.key, event.headers, event.value) == ("order-17", {"source": "console"},
                                                               {"order": 17, "amount": 9.5})
            assert event.eventId == f"{topic}:0:0"

            # a consumer reads it, commits and stops; :groups rewinds the stopped group
            consume_and_commit(bootstrap, topic, group, 1)
            assert committed(bootstrap, topic, group) == 1

            async def agent_lists_the_group() -> bool:
                try:
                    groups = (await pilot.app.client.groups.list(ENVIRONMENT)).items
                except APIError:
                    return False
                return any(g.groupId == group and not g.members for g in groups)

            await eventually(pilot, agent_lists_the_group, "the agent listing the stopped group")
            await pilot.press("escape")
            await until(pilot, lambda: pilot.app.screen is topics, "back on the topics")
            await pilot.press("colon", *f"groups {ENVIRONMENT}", "enter")
            await until(pilot, lambda: isinstance(pilot.app.screen, GroupsScreen), "the groups screen")
            groups = pilot.app.screen
            await until(pilot, lambda: group in groups.items, "the group listed", tries=STATES)
            await pilot.press("slash", *group, "enter")
            await settle(pilot)
            assert table_keys(pilot) == [group]
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(pilot.app.screen, GroupDetailScreen)
                        and pilot.app.screen.detail is not None, "the group's detail", tries=STATES)
            assert [(p.committedOffset, p.logEndOffset, p.lag) for p in pilot.app.screen.detail.partitions] == \
                [(1, 1, 0)]
            await pilot.press("o")
            await until(pilot, lambda: isinstance(pilot.app.screen, GroupOffsets)
                        and len(pilot.app.screen.entries) == 1, "the offsets editor", tries=STATES)
            offsets = pilot.app.screen
            await until(pilot, lambda: pilot.app.focused is not None, "focus")
            await pilot.press("a", *"earliest", "enter", "ctrl+s")
            await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the diff to confirm")
            await pilot.press("y")
            await until(pilot, lambda: offsets not in pilot.app.screen_stack, "the editor done", tries=STATES)
        assert committed(bootstrap, topic, group) == 0
    finally:
        AdminClient({"bootstrap.servers": bootstrap}).delete_topics([topic])
