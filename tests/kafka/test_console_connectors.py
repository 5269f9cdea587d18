"""The Connectors screens on the sandbox's real Kafka Connect worker, through a real HQ and its
built-in agent, as a user drives them: the list shows a connector whose task FAILED, the
not-running filter keeps it, pause and resume change the worker's state and the row follows
the live feed, the detail's trace is the worker's, and marked rows are deleted together."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from backend.connect.models import ConnectStatus, NewConnector
from console.app import StreamHQApp
from console.client import HQClient
from console.config import ConsoleConfig
from console.screens.confirm import ConfirmDialog
from console.screens.connect_cluster_views import ConnectClusterScreen, LevelDialog
from console.screens.connector_detail import ConnectorDetailScreen
from console.screens.connectors import ConnectorsScreen
from console.screens.trace_view import TraceScreen
from tests.console.helpers import live, table_keys, until
from tests.kafka.conftest import TOKEN, EmbeddedHQ, plaintext
from tests.kafka.replication import unique

pytestmark = pytest.mark.kafka

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
STATES = 3000  # tries of 20 ms: a minute for the worker and the agent's poll


@pytest.fixture
def hq_socket(embedded_hq: EmbeddedHQ) -> Path:
    return embedded_hq.socket


@pytest.fixture
def connect_url(sandbox) -> str:
    return sandbox.status()["connect"]["url"]


@pytest.fixture
def leftovers(connect_url: str):
    """Names the test made; whatever it did not delete itself goes from the worker afterwards."""
    names: list[str] = []
    yield names
    with httpx.Client(base_url=connect_url, timeout=30) as worker:
        for name in names:
            worker.delete(f"/connectors/{name}")


async def register(client: HQClient, environment: str, source: dict, connect_url: str) -> None:
    from backend.environments.models import EnvironmentCreate

    await client.create_environment(EnvironmentCreate(name=environment))
    await client.put_connection(environment, "main", plaintext(source))
    await client.request("PUT", f"/v1/environments/{environment}/connect-clusters/main", json={"urls": [connect_url]})


async def test_a_failed_task_pause_resume_trace_and_delete_from_the_console(hq_socket, source, connect_url,
                                                                          leftovers, tmp_path):
    environment = unique("conn-env")
    lines = tmp_path / "lines.txt"
    lines.write_text("one\ntwo\n")
    running, failing = unique("conn-source"), unique("conn-sink")
    leftovers += [running, failing]
    console = StreamHQApp(HQClient("e2e", TOKEN, uds=str(hq_socket)), ConsoleConfig(path=tmp_path / "c.yaml"))
    async with console.run_test(size=(120, 40)) as pilot:
        client = pilot.app.client
        await register(client, environment, source, connect_url)
        await client.connect.create(environment, NewConnector(name=running, cluster="main", configuration={
            "connector.class": SOURCE, "file": str(lines), "topic": unique("conn-topic"), "tasks.max": "1"}))
        await client.connect.create(environment, NewConnector(name=failing, cluster="main", configuration={
            "connector.class": SINK, "file": "/nonexistent/streamhq/out.txt", "topics": "conn-none",
            "tasks.max": "1"}))

        await live(pilot)
        home = pilot.app.screen
        await until(pilot, lambda: environment in home.table.visible_keys, "the environment")
        home.table.move_cursor(row=home.table.visible_keys.index(environment))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorsScreen), "the connectors screen")
        screen: ConnectorsScreen = pilot.app.screen
        lrn = f"kafka-connect:connector/{environment}/main"
        source_key, sink_key = f"{lrn}/{running}", f"{lrn}/{failing}"

        def task_states(key: str) -> list[ConnectStatus]:
            item = screen.items.get(key)
            return [task.state for task in item.tasks] if item else []

        await until(pilot, lambda: task_states(sink_key) == [ConnectStatus.FAILED], "the failed task", tries=STATES)
        await until(pilot, lambda: task_states(source_key) == [ConnectStatus.RUNNING], "the source", tries=STATES)
        assert screen.table.get_row(sink_key)[6].plain == "0/1 ✗1"

        await pilot.press("exclamation_mark")
        await until(pilot, lambda: sink_key in table_keys(pilot) and source_key not in table_keys(pilot),
                    "only what is not running")
        await pilot.press("exclamation_mark")
        await until(pilot, lambda: source_key in table_keys(pilot), "every row again")

        screen.table.move_cursor(row=table_keys(pilot).index(source_key))
        await pilot.press("p")
        await until(pilot, lambda: screen.items[source_key].state is ConnectStatus.PAUSED, "paused", tries=STATES)
        await pilot.press("u")
        await until(pilot, lambda: screen.items[source_key].state is ConnectStatus.RUNNING, "resumed", tries=STATES)

        screen.table.move_cursor(row=table_keys(pilot).index(sink_key))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorDetailScreen)
                    and pilot.app.screen.details is not None, "the detail", tries=STATES)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(pilot.app.screen, TraceScreen), "the trace")
        assert "Couldn't find or create file '/nonexistent/streamhq/out.txt'" in pilot.app.screen.trace
        await pilot.press("escape", "t")  # back on the detail: restart the failed task
        await until(pilot, lambda: any(n.startswith(f"Task 0 of main/{failing}") for n in pilot.app.notices),
                    "the task restart answered", tries=STATES)
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is screen, "back on the list")

        for key in (source_key, sink_key):  # the worker is shared: other tests' connectors are listed too
            screen.table.move_cursor(row=table_keys(pilot).index(key))
            await pilot.press("space")
        assert screen.marked == {source_key, sink_key}
        await pilot.press("d")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmDialog), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: not {source_key, sink_key} & set(screen.items), "both gone", tries=STATES)
    with httpx.Client(base_url=connect_url, timeout=30) as worker:
        assert not {running, failing} & set(worker.get("/connectors").json())


async def test_a_clusters_version_plugins_and_a_logger_level_changed_from_the_console(hq_socket, source, connect_url,
                                                                                     tmp_path):
    environment = unique("conn-env")
    # A logger of this test's own (a worker makes any name a logger): the worker is shared.
    logger = f"streamhq.test.{unique('console')}"
    with httpx.Client(base_url=connect_url, timeout=30) as worker:
        version = worker.get("/").json()["version"]
        worker.put(f"/admin/loggers/{logger}", json={"level": "INFO"}).raise_for_status()
    console = StreamHQApp(HQClient("e2e", TOKEN, uds=str(hq_socket)), ConsoleConfig(path=tmp_path / "c.yaml"))
    async with console.run_test(size=(120, 40)) as pilot:
        await register(pilot.app.client, environment, source, connect_url)
        await pilot.press("colon", *f"conn {environment}", "enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorsScreen), "the connectors screen")
        await until(pilot, lambda: environment in pilot.app.screen.warnings, "the list read")
        await pilot.press("c")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectClusterScreen), "the cluster views")
        views: ConnectClusterScreen = pilot.app.screen
        await until(pilot, lambda: logger in views.loggers, "the worker's loggers", tries=STATES)
        assert f"Kafka Connect {version}" in str(views.query_one("#info").render())
        assert SINK in views.query_one("#plugins").rows
        await pilot.press("slash", *logger, "enter")
        await until(pilot, lambda: table_keys(pilot) == [logger], "the one logger")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(pilot.app.screen, LevelDialog), "the levels")
        await pilot.press("down", "enter")  # INFO -> DEBUG
        await until(pilot, lambda: views.loggers[logger].level == "DEBUG", "the new level", tries=STATES)
    with httpx.Client(base_url=connect_url, timeout=30) as worker:
        assert worker.get(f"/admin/loggers/{logger}").json()["level"] == "DEBUG"


async def test_a_list_that_could_not_be_read_appears_once_hq_and_the_agent_answer(embedded_hq, source, connect_url,
                                                                                 leftovers, tmp_path):
    environment, name = unique("conn-env"), unique("conn-paused")
    leftovers.append(name)
    console = StreamHQApp(HQClient("e2e", TOKEN, uds=str(embedded_hq.socket)), ConsoleConfig(path=tmp_path / "c.yaml"))
    async with console.run_test(size=(120, 40)) as pilot:
        client = pilot.app.client
        await register(client, environment, source, connect_url)
        await client.connect.create(environment, NewConnector(name=name, cluster="main", initialState="PAUSED",
                                                              configuration={"connector.class": SOURCE,
                                                                             "file": str(tmp_path / "none.txt"),
                                                                             "topic": unique("conn-topic")}))
        await live(pilot)
        home = pilot.app.screen
        await until(pilot, lambda: environment in home.table.visible_keys, "the environment")
        home.table.move_cursor(row=home.table.visible_keys.index(environment))
        embedded_hq.stop()
        await pilot.press("c")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectorsScreen), "the connectors screen")
        screen: ConnectorsScreen = pilot.app.screen
        await until(pilot, lambda: "Cannot load connectors" in str(screen.query_one("#empty").render()),
                    "the list refused")
        embedded_hq.start()  # the environment's feed, followed from before any event, answers resync first
        key = f"kafka-connect:connector/{environment}/main/{name}"
        await until(pilot, lambda: key in table_keys(pilot), "the list read again", tries=STATES)
        assert screen.items[key].state is ConnectStatus.PAUSED
