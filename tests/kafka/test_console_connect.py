"""The connector editor and offsets grid on the sandbox's real Kafka Connect worker, through a
real HQ and its built-in agent, as a user drives them: a FileStream source created in the
editor runs, is stopped, has its offset set back in the grid, starts again and reads its file
once more; the worker's validation errors are marked at the lines of their keys; an update
shows its diff first. Snapshots of the editor with errors and of the offsets grid."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from textual.widgets import Input, Select

from backend.app import create_app
from backend.connect.models import ConnectorStateAction, ConnectStatus, NewConnector
from backend.environments.models import EnvironmentCreate, KafkaConnectionSpec
from backend.server import ServerThread, unix_socket
from backend.settings import Settings
from console.app import StreamHQApp
from console.client import APIError, HQClient
from console.config import ConsoleConfig
from console.screens.confirm import ConfirmDialog
from console.screens.connector_editor import ConnectorEditor, open_editor
from console.screens.connector_offsets import AddPartition, ConnectorOffsets, open_offsets
from console.screens.connectors import ConnectorsScreen
from console.widgets.config_area import ConfigArea
from tests.console.helpers import eventually, live, until
from tests.kafka.replication import new_topic, unique

pytestmark = pytest.mark.kafka

TOKEN = "console-connect-token"
ENVIRONMENT, CLUSTER = "e2e", "sandbox"
SOURCE_CLASS = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK_CLASS = "org.apache.kafka.connect.file.FileStreamSinkConnector"
HEARTBEAT_CLASS = "org.apache.kafka.connect.mirror.MirrorHeartbeatConnector"  # it has PASSWORD keys
LINES = [f"line {i}" for i in range(5)]
SIZE = (120, 40)
# The snapshots show a file's path and a connector's name: fixed, so every run draws the same.
SNAPSHOT_DIR = Path("/tmp/streamhq-console-connect")
SNAPSHOT_CONNECTOR = "snapshot-lines"


@dataclass
class Setup:
    """An HQ whose built-in agent serves the Connect routes, and the sandbox's worker it will name."""

    socket: Path
    connect_url: str
    source: dict
    created: list[str] = field(default_factory=list)

    def connector_name(self, prefix: str) -> str:
        """A new connector's name, deleted from the worker after the test whatever its outcome."""
        name = unique(prefix)
        self.created.append(name)
        return name


def lines_to_read(setup: Setup, folder: Path) -> tuple[str, str, Path]:
    """A new connector name, a new one-partition topic and a file of LINES in `folder` that the
    worker (another process) can read."""
    name, topic = setup.connector_name("files-in"), new_topic(setup.source, "lines", partitions=1)
    lines = folder / "lines.txt"
    lines.write_text("".join(f"{line}\n" for line in LINES))
    lines.chmod(0o644)
    folder.chmod(0o755)
    return name, topic, lines


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sandbox, source) -> Iterator[Setup]:
    monkeypatch.setenv("STREAMHQ_CONFIG_DIR", str(tmp_path / "config"))
    socket = tmp_path / "hq.sock"
    app = create_app(Settings(home=tmp_path / "hq", session_token=TOKEN, k2k_controller=False))
    server = ServerThread(app, unix_socket(socket)).start()
    made = Setup(socket, sandbox.status()["connect"]["url"], source)
    yield made
    server.stop()
    with httpx.Client(base_url=made.connect_url, timeout=30) as worker:  # the worker itself: HQ is gone
        for name in made.created:
            worker.delete(f"/connectors/{name}")


async def register(client: HQClient, connect_url: str, source: dict) -> None:
    await client.create_environment(EnvironmentCreate(name=ENVIRONMENT))
    await client.put_connection(ENVIRONMENT, "sandbox", KafkaConnectionSpec(override_broker_addresses=[
        source["bootstrap"]]))
    await client.request("PUT", f"/v1/environments/{ENVIRONMENT}/connect-clusters/{CLUSTER}",
                         json={"urls": [connect_url]})


def console_on(setup: Setup, tmp_path: Path) -> StreamHQApp:
    return StreamHQApp(HQClient("e2e", TOKEN, uds=str(setup.socket)), ConsoleConfig(path=tmp_path / "c.yaml"))


# What a probe may hear while it waits: a create not yet in the worker's status (404), a worker
# busy with a rebalance or with another session's connectors on the shared sandbox (502/504).
NOT_YET = (404, 502, 504)


async def state_of(pilot, name: str) -> ConnectStatus | None:
    try:
        return (await pilot.app.client.connect.status(ENVIRONMENT, CLUSTER, name)).state
    except APIError as exc:
        if exc.status in NOT_YET:
            return None
        raise


async def position_of(pilot, name: str) -> int | None:
    try:
        offsets = (await pilot.app.client.connect.offsets(ENVIRONMENT, CLUSTER, name)).offsets
    except APIError as exc:
        if exc.status in NOT_YET:
            return None
        raise
    return offsets[0].offset.get("position") if offsets and offsets[0].offset else None


async def new_editor(pilot, *, plugin: str = SOURCE_CLASS) -> ConnectorEditor:
    open_editor(pilot.app, ENVIRONMENT)
    await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorEditor)
                and "name: my-connector" in pilot.app.screen.config_text, "the template", tries=1500)
    editor = pilot.app.screen
    editor.query_one("#plugin", Select).value = plugin
    await until(pilot, lambda: f"connector.class: {plugin}" in editor.config_text,
                "the plugin's template", tries=1500)
    return editor


async def delete_quietly(client: HQClient, name: str) -> None:
    try:
        await client.connect.delete(ENVIRONMENT, CLUSTER, name)
    except APIError as exc:
        if exc.status != 404:
            raise


async def test_create_run_stop_set_the_offset_back_and_start_from_the_console(setup, tmp_path):
    connect_url, source = setup.connect_url, setup.source
    name, topic, lines = lines_to_read(setup, tmp_path)
    async with console_on(setup, tmp_path).run_test(size=SIZE) as pilot:
        await register(pilot.app.client, connect_url, source)
        editor = await new_editor(pilot)
        area = editor.query_one(ConfigArea)
        assert re.search(r"^topic: \"\"", area.text, re.M)  # the plugin's required key, to fill in
        area.load_text(area.text.replace("name: my-connector", f"name: {name}")
                       .replace('topic: ""', f"topic: {topic}") + f"file: {lines}\n")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: pilot.app.screen is not editor, "the editor closed on create", tries=1500)
        await eventually(pilot, lambda: _equals(state_of(pilot, name), ConnectStatus.RUNNING), "the connector running")
        size = len(lines.read_bytes())
        await eventually(pilot, lambda: _equals(position_of(pilot, name), size), "the file read to its end")

        await pilot.app.client.connect.action(ENVIRONMENT, CLUSTER, name, ConnectorStateAction.stop)
        await eventually(pilot, lambda: _equals(state_of(pilot, name), ConnectStatus.STOPPED), "stopped")
        open_offsets(pilot.app, ENVIRONMENT, CLUSTER, name)
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorOffsets)
                    and len(pilot.app.screen.entries) == 1, "the offsets grid", tries=1500)
        grid = pilot.app.screen
        await until(pilot, lambda: pilot.app.focused is not None, "focus")
        await pilot.press("0", "enter")  # FileStream's offset is one number: its position
        (entry,) = grid.entries.values()
        assert entry.partition == {"filename": str(lines)} and entry.new == {"position": 0}
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the diff to confirm")
        assert f"{{\"position\": {size}}} → {{\"position\": 0}}" in _shown(pilot.app.screen)
        await pilot.press("y")
        await until(pilot, lambda: pilot.app.screen is not grid, "the grid closed", tries=1500)
        assert await position_of(pilot, name) == 0

        await pilot.app.client.connect.action(ENVIRONMENT, CLUSTER, name, ConnectorStateAction.start)
        await eventually(pilot, lambda: _records_reach(source, topic, 2 * len(LINES)),
                         "the file read again from its start")


async def test_the_offsets_of_a_running_connector_are_set_by_stopping_it_and_starting_it_again(setup, tmp_path):
    connect_url, source = setup.connect_url, setup.source
    name, topic, lines = lines_to_read(setup, tmp_path)
    async with console_on(setup, tmp_path).run_test(size=SIZE) as pilot:
        await register(pilot.app.client, connect_url, source)
        await pilot.app.client.connect.create(ENVIRONMENT, NewConnector(name=name, cluster=CLUSTER, configuration={
            "connector.class": SOURCE_CLASS, "topic": topic, "file": str(lines)}))
        size = len(lines.read_bytes())
        await eventually(pilot, lambda: _equals(position_of(pilot, name), size), "the file read to its end")
        open_offsets(pilot.app, ENVIRONMENT, CLUSTER, name)
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorOffsets)
                    and len(pilot.app.screen.entries) == 1, "the offsets grid", tries=1500)
        await until(pilot, lambda: pilot.app.focused is not None, "focus")
        await pilot.press(*"-7", "enter", "ctrl+s")  # back over the last line
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the diff to confirm")
        assert "it will be stopped, the offsets set, then started again" in _shown(pilot.app.screen)
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(pilot.app.screen, (ConfirmDialog, ConnectorOffsets)),
                    "applied", tries=3000)
        await eventually(pilot, lambda: _equals(state_of(pilot, name), ConnectStatus.RUNNING), "running again")
        await eventually(pilot, lambda: _records_reach(source, topic, len(LINES) + 1), "the last line once more")


async def test_a_source_created_stopped_gets_its_first_offset_in_the_grid_before_it_runs(setup, tmp_path):
    connect_url, source = setup.connect_url, setup.source
    name, topic, lines = lines_to_read(setup, tmp_path)
    async with console_on(setup, tmp_path).run_test(size=SIZE) as pilot:
        await register(pilot.app.client, connect_url, source)
        await pilot.app.client.connect.create(ENVIRONMENT, NewConnector(
            name=name, cluster=CLUSTER, initialState="STOPPED",
            configuration={"connector.class": SOURCE_CLASS, "topic": topic, "file": str(lines)}))
        await eventually(pilot, lambda: _equals(state_of(pilot, name), ConnectStatus.STOPPED), "created STOPPED")
        open_offsets(pilot.app, ENVIRONMENT, CLUSTER, name)
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorOffsets)
                    and "0 partitions" in pilot.app.screen.heading, "the empty grid", tries=1500)
        grid = pilot.app.screen
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, AddPartition)
                    and pilot.app.screen.query("#offset"), "the partition dialog")
        dialog, first_line = pilot.app.screen, len(f"{LINES[0]}\n")
        dialog.query_one("#partition", Input).value = json.dumps({"filename": str(lines)})
        dialog.query_one("#offset", Input).value = json.dumps({"position": first_line})
        dialog.query_one("#offset", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: pilot.app.screen is grid and len(grid.entries) == 1, "the partition added")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the diff", tries=1500)
        assert f'— → {{"position": {first_line}}}' in _shown(pilot.app.screen)
        await pilot.press("y")
        await until(pilot, lambda: pilot.app.screen is not grid and not isinstance(pilot.app.screen, ConfirmDialog),
                    "applied", tries=1500)
        await pilot.app.client.connect.action(ENVIRONMENT, CLUSTER, name, ConnectorStateAction.start)
        await eventually(pilot, lambda: _equals(position_of(pilot, name), len(lines.read_bytes())), "the file read")
        assert await _records_reach(source, topic, len(LINES) - 1)  # from the second line on
        assert not await _records_reach(source, topic, len(LINES))


async def test_a_sinks_offsets_are_per_topic_partition_and_set_back_it_writes_again(setup, tmp_path):
    connect_url, source = setup.connect_url, setup.source
    name, topic = setup.connector_name("files-out"), new_topic(source, "records", partitions=2)
    producer = Producer({"bootstrap.servers": source["bootstrap"]})
    for i in range(6):
        producer.produce(topic, f"record {i}".encode(), partition=i % 2)
    producer.flush(30)
    out = tmp_path / "out.txt"
    tmp_path.chmod(0o777)  # the worker, another process, writes the file here
    async with console_on(setup, tmp_path).run_test(size=SIZE) as pilot:
        await register(pilot.app.client, connect_url, source)
        await pilot.app.client.connect.create(ENVIRONMENT, NewConnector(name=name, cluster=CLUSTER, configuration={
            "connector.class": SINK_CLASS, "topics": topic, "file": str(out),
            "value.converter": "org.apache.kafka.connect.storage.StringConverter"}))
        await eventually(pilot, lambda: _sink_committed(pilot, name, 6), "the sink's offsets committed")
        open_offsets(pilot.app, ENVIRONMENT, CLUSTER, name)
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorOffsets)
                    and len(pilot.app.screen.entries) == 2, "the offsets grid", tries=1500)
        grid = pilot.app.screen
        assert sorted(e.where for e in grid.entries.values()) == [f"{topic}[0]", f"{topic}[1]"]
        await until(pilot, lambda: pilot.app.focused is not None, "focus")
        await pilot.press("a", "0", "enter", "ctrl+s")  # both partitions back to their start
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the diff", tries=1500)
        assert f"{topic}[0]  3 → 0" in _shown(pilot.app.screen)
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(pilot.app.screen, (ConfirmDialog, ConnectorOffsets)),
                    "applied", tries=3000)
        await eventually(pilot, lambda: _lines_in(out, 12), "every record written once more")


async def test_the_workers_validation_errors_are_marked_at_their_lines_until_fixed(setup, tmp_path):
    connect_url, source = setup.connect_url, setup.source
    async with console_on(setup, tmp_path).run_test(size=SIZE) as pilot:
        await register(pilot.app.client, connect_url, source)
        editor = await new_editor(pilot)
        area = editor.query_one(ConfigArea)
        area.load_text(BAD_CONFIG)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: len(area.marks) == 3, "three keys marked", tries=1500)
        assert "Not a number of type INT" in area.marks[3]  # tasks.max, on the 4th line
        assert "String must be non-empty" in area.marks[4]  # topic
        assert "Not a number of type INT" in area.marks[6]  # batch.size
        assert area.text == BAD_CONFIG

        await pilot.press("ctrl+s")  # the create is refused with the same keys: still at their lines
        await until(pilot, lambda: editor.problems_shown.count("line ") == 4, "the create's refusal", tries=1500)
        assert "line 4: tasks.max: Not a number of type INT" in editor.problems_shown  # one line per message
        assert sorted(area.marks) == [3, 4, 6]
        assert pilot.app.screen is editor and area.text == BAD_CONFIG

        name = setup.connector_name("files-in")  # the text fixed; created STOPPED (KIP-980), no file is read
        area.load_text(BAD_CONFIG.replace("files-in", name).replace("many", "1").replace('""', "lines")
                       .replace("lots", "10"))
        editor.query_one("#initial-state", Select).value = "STOPPED"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: pilot.app.screen is not editor, "created", tries=1500)
        await eventually(pilot, lambda: _equals(state_of(pilot, name), ConnectStatus.STOPPED), "created STOPPED")


async def test_an_update_shows_its_diff_against_the_running_config_first(setup, tmp_path):
    connect_url, source = setup.connect_url, setup.source
    name = setup.connector_name("files-in")
    async with console_on(setup, tmp_path).run_test(size=SIZE) as pilot:
        await register(pilot.app.client, connect_url, source)
        await pilot.app.client.connect.create(ENVIRONMENT, NewConnector(
            name=name, cluster=CLUSTER, initialState="STOPPED",
            configuration={"connector.class": SOURCE_CLASS, "topic": "before", "file": "/dev/null"}))
        open_editor(pilot.app, ENVIRONMENT, CLUSTER, name)
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorEditor)
                    and "topic: before" in pilot.app.screen.config_text, "the config", tries=1500)
        editor = pilot.app.screen
        area = editor.query_one(ConfigArea)
        area.load_text(area.text.replace("topic: before", "topic: after") + "batch.size: 10\n")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the diff", tries=1500)
        shown = _shown(pilot.app.screen)
        assert "~ topic: before → after" in shown and "+ batch.size: 10" in shown
        assert (await pilot.app.client.connect.details(ENVIRONMENT, CLUSTER, name)).config["topic"] == "before"
        await pilot.press("y")
        await until(pilot, lambda: pilot.app.screen is not editor and not isinstance(pilot.app.screen, ConfirmDialog),
                    "saved", tries=1500)
        config = (await pilot.app.client.connect.details(ENVIRONMENT, CLUSTER, name)).config
        assert config["topic"] == "after" and config["batch.size"] == "10"


async def test_a_password_is_dots_in_the_editor_and_kept_when_sent_back_masked(setup, tmp_path):
    connect_url, source = setup.connect_url, setup.source
    name, secret = setup.connector_name("heartbeat"), "s3cret-truststore-pw"
    async with console_on(setup, tmp_path).run_test(size=SIZE) as pilot:
        await register(pilot.app.client, connect_url, source)
        await pilot.app.client.connect.create(ENVIRONMENT, NewConnector(
            name=name, cluster=CLUSTER, initialState="STOPPED", configuration={
                "connector.class": HEARTBEAT_CLASS, "source.cluster.alias": "a", "ssl.truststore.password": secret}))
        open_editor(pilot.app, ENVIRONMENT, CLUSTER, name)
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorEditor)
                    and "source.cluster.alias: a" in pilot.app.screen.config_text, "the config", tries=1500)
        editor = pilot.app.screen
        area = editor.query_one(ConfigArea)
        password_line = next(i for i, line in enumerate(area.text.splitlines()) if "ssl.truststore.password" in line)
        await until(pilot, lambda: password_line in area.masked_lines(), "the PASSWORD key masked", tries=1500)
        assert secret not in area.text  # the API answers "***"
        area.load_text(area.text.replace("source.cluster.alias: a", "source.cluster.alias: b"))
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the diff", tries=1500)
        shown = _shown(pilot.app.screen)
        assert "~ source.cluster.alias: a → b" in shown and "password" not in shown  # "***" sent back: no change
        await pilot.press("y")
        await until(pilot, lambda: pilot.app.screen is not editor and not isinstance(pilot.app.screen, ConfirmDialog),
                    "saved", tries=1500)
        async with httpx.AsyncClient(base_url=connect_url) as worker:  # the worker itself, not through HQ
            stored = (await worker.get(f"/connectors/{name}/config")).json()
        assert stored["source.cluster.alias"] == "b" and stored["ssl.truststore.password"] == secret


# what they look like

BAD_CONFIG = f"""\
# FileStreamSource with three mistakes
name: files-in
connector.class: {SOURCE_CLASS}
tasks.max: many
topic: ""
file: /tmp/in.txt
batch.size: lots
"""


def test_editor_with_validation_errors_snapshot(setup, tmp_path, snap_compare):
    connect_url, source = setup.connect_url, setup.source

    async def steps(pilot) -> None:
        await register(pilot.app.client, connect_url, source)
        await live(pilot)
        editor = await new_editor(pilot)
        area = editor.query_one(ConfigArea)
        area.load_text(BAD_CONFIG)
        await pilot.press("ctrl+l")
        await until(pilot, lambda: len(area.marks) == 3, "the marks", tries=1500)
        await pilot.pause()

    assert snap_compare(console_on(setup, tmp_path), terminal_size=SIZE, run_before=steps)


def test_connector_offsets_grid_snapshot(setup, tmp_path, snap_compare):
    connect_url, source = setup.connect_url, setup.source
    SNAPSHOT_DIR.mkdir(mode=0o755, exist_ok=True)
    lines = SNAPSHOT_DIR / "lines.txt"
    lines.write_text("".join(f"{line}\n" for line in LINES))
    topic = new_topic(source, "lines", partitions=1)
    setup.created.append(SNAPSHOT_CONNECTOR)

    async def steps(pilot) -> None:
        client = pilot.app.client
        await register(client, connect_url, source)
        await live(pilot)
        await delete_quietly(client, SNAPSHOT_CONNECTOR)
        await client.connect.create(ENVIRONMENT, NewConnector(
            name=SNAPSHOT_CONNECTOR, cluster=CLUSTER, initialState="STOPPED",
            configuration={"connector.class": SOURCE_CLASS, "topic": topic, "file": str(lines)}))
        await eventually(pilot, lambda: _equals(state_of(pilot, SNAPSHOT_CONNECTOR), ConnectStatus.STOPPED), "stopped")
        await client.connect.reset_offsets(ENVIRONMENT, CLUSTER, SNAPSHOT_CONNECTOR)  # a run before left its own
        await client.connect.action(ENVIRONMENT, CLUSTER, SNAPSHOT_CONNECTOR, ConnectorStateAction.start)
        size = len(lines.read_bytes())
        await eventually(pilot, lambda: _equals(position_of(pilot, SNAPSHOT_CONNECTOR), size), "the file read")
        await client.connect.action(ENVIRONMENT, CLUSTER, SNAPSHOT_CONNECTOR, ConnectorStateAction.stop)
        await eventually(pilot, lambda: _equals(state_of(pilot, SNAPSHOT_CONNECTOR), ConnectStatus.STOPPED), "stopped")
        open_offsets(pilot.app, ENVIRONMENT, CLUSTER, SNAPSHOT_CONNECTOR)
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorOffsets)
                    and len(pilot.app.screen.entries) == 1, "the grid", tries=1500)
        await until(pilot, lambda: pilot.app.focused is not None, "focus")
        await pilot.press(*"-7", "enter")
        await pilot.pause()

    assert snap_compare(console_on(setup, tmp_path), terminal_size=SIZE, run_before=steps)


async def _records_reach(cluster: dict, topic: str, count: int) -> bool:
    """Whether the topic's one partition holds `count` records (its end offset: nothing else writes it)."""
    consumer = Consumer({"bootstrap.servers": cluster["bootstrap"], "group.id": unique("watermarks")})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1] >= count
    finally:
        consumer.close()


async def _sink_committed(pilot, name: str, records: int) -> bool:
    offsets = (await pilot.app.client.connect.offsets(ENVIRONMENT, CLUSTER, name)).offsets
    return sum(o.offset["kafka_offset"] for o in offsets if o.offset) == records


async def _lines_in(path: Path, count: int) -> bool:
    return path.exists() and len(path.read_text().splitlines()) >= count


async def _equals(answer: Awaitable[object], expected: object) -> bool:
    return await answer == expected


def _shown(screen) -> str:
    return " ".join(str(widget.render()) for widget in screen.query("Static"))


async def test_from_the_home_screen_create_watch_it_run_stop_set_its_offset_and_start_it_again(setup, tmp_path):
    """The issue's "done when", from the keyboard: c on the environment, n, the editor, and the
    Connectors list's keys; the row follows the agent's connector feed."""
    connect_url, source = setup.connect_url, setup.source
    name, topic, lines = lines_to_read(setup, tmp_path)
    async with console_on(setup, tmp_path).run_test(size=SIZE) as pilot:
        await register(pilot.app.client, connect_url, source)
        await live(pilot)
        home = pilot.app.screen
        await until(pilot, lambda: ENVIRONMENT in home.table.visible_keys, "the environment")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorsScreen), "the Connectors screen")
        connectors = pilot.app.screen
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorEditor)
                    and "name: my-connector" in pilot.app.screen.config_text, "the editor", tries=1500)
        editor = pilot.app.screen
        editor.query_one("#plugin", Select).value = SOURCE_CLASS
        await until(pilot, lambda: f"connector.class: {SOURCE_CLASS}" in editor.config_text, "its template")
        area = editor.query_one(ConfigArea)
        area.load_text(area.text.replace("name: my-connector", f"name: {name}")
                       .replace('topic: ""', f"topic: {topic}") + f"file: {lines}\n")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: pilot.app.screen is connectors, "back on the list", tries=1500)
        key = f"kafka-connect:connector/{ENVIRONMENT}/{CLUSTER}/{name}"

        def state() -> ConnectStatus | None:
            item = connectors.items.get(key)
            return item.state if item else None

        await until(pilot, lambda: state() is ConnectStatus.RUNNING, "the row RUNNING", tries=3000)
        await eventually(pilot, lambda: _equals(position_of(pilot, name), len(lines.read_bytes())), "the file read")
        connectors.table.move_cursor(row=connectors.table.visible_keys.index(key))
        await pilot.press("x")
        await until(pilot, lambda: state() is ConnectStatus.STOPPED, "the row STOPPED", tries=3000)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorOffsets)
                    and len(pilot.app.screen.entries) == 1, "the offsets grid", tries=1500)
        await until(pilot, lambda: pilot.app.focused is not None, "focus")
        await pilot.press("0", "enter", "ctrl+s")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the diff", tries=1500)
        await pilot.press("y")
        await until(pilot, lambda: pilot.app.screen is connectors, "back on the list", tries=1500)
        assert await position_of(pilot, name) == 0 and state() is ConnectStatus.STOPPED  # as the grid found it
        await pilot.press("g")
        await until(pilot, lambda: state() is ConnectStatus.RUNNING, "the row RUNNING again", tries=3000)
        await eventually(pilot, lambda: _records_reach(source, topic, 2 * len(LINES)), "the file read once more")
