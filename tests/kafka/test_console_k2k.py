"""The K2K screens end to end on the sandbox, as a user drives them: create an app in the
YAML editor, watch it reach running, pause it, set partition 0 to `earliest` in the offsets
editor, resume, and find partition 0 copied again on the target."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.widgets import TextArea

from backend.app import create_app
from backend.server import ServerThread, unix_socket
from backend.settings import Settings
from console.app import StreamHQApp
from console.client import HQClient
from console.config import ConsoleConfig
from console.screens.k2k import K2KAppsScreen
from console.screens.k2k_editor import K2KEditor
from console.screens.offsets import OffsetsEditor
from tests.console.helpers import live, table_keys, until
from tests.kafka.replication import TargetReader, new_topic, produce_sequences, unique

pytestmark = pytest.mark.kafka

TOKEN = "e2e-session-token"


@pytest.fixture
def hq_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("STREAMHQ_CONFIG_DIR", str(tmp_path / "config"))
    socket = tmp_path / "hq.sock"
    app = create_app(Settings(home=tmp_path / "hq", session_token=TOKEN, builtin_agent=False))
    server = ServerThread(app, unix_socket(socket)).start()
    yield socket
    server.stop()


async def register(client: HQClient, source: dict, target: dict) -> None:
    from backend.environments.models import EnvironmentCreate, KafkaConnectionSpec

    for environment, cluster in (("src", source), ("dst", target)):
        await client.create_environment(EnvironmentCreate(name=environment))
        await client.put_connection(environment, "plaintext",
                                    KafkaConnectionSpec(override_broker_addresses=[cluster["bootstrap"]]))


async def test_create_pause_rewind_partition_0_and_resume_from_the_console(hq_socket, source, target, tmp_path):
    topic = new_topic(source, partitions=2)
    produce_sequences(source, topic, 50, partitions=2)
    name = unique("console-app")
    console = StreamHQApp(HQClient("e2e", TOKEN, uds=str(hq_socket)), ConsoleConfig(path=tmp_path / "c.yaml"))
    async with console.run_test(size=(120, 40)) as pilot:
        await register(pilot.app.client, source, target)
        await pilot.press("k")
        await until(pilot, lambda: isinstance(pilot.app.screen, K2KAppsScreen), "the K2K screen")
        await live(pilot)  # the list loaded and its feed followed
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, K2KEditor)
                    and "my-replication" in pilot.app.screen.query_one(TextArea).text, "the template", tries=500)
        editor = pilot.app.screen.query_one(TextArea)
        text = editor.text.replace("my-replication", name).replace("[orders]", f"[{topic}]")
        text = re.sub(r"sourceKafkaLRN: \S+", "sourceKafkaLRN: environments:kafka-connection/src/plaintext", text)
        text = re.sub(r"targetKafkaLRN: \S+", "targetKafkaLRN: environments:kafka-connection/dst/plaintext", text)
        editor.load_text(text)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: name in table_keys(pilot), "the new app in the list", tries=500)

        screen = pilot.app.screen
        running = lambda: screen.items[name].status.state.value == "running"  # noqa: E731
        await until(pilot, running, "the app running", tries=3000)
        reader = TargetReader(target, topic, partitions=2)
        reader.wait_for(100, timeout=120)

        await pilot.press("p")  # pause
        await until(pilot, lambda: screen.items[name].status.state.value == "paused", "the app paused", tries=3000)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(pilot.app.screen, OffsetsEditor)
                    and len(pilot.app.screen.entries) == 2, "the offsets editor", tries=1000)
        offsets = pilot.app.screen
        await until(pilot, lambda: pilot.app.focused is not None, "focus")
        await pilot.press(*"earliest", "enter")  # the cursor row: partition 0
        assert [e.new for e in offsets.entries.values()] == [0, None]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: pilot.app.screen is not offsets, "the diff to confirm")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(pilot.app.screen, K2KAppsScreen), "back on the list", tries=1000)

        await pilot.press("p")  # resume
        reader.wait_for(150, timeout=120)
    assert reader.values[0] == list(range(50)) * 2  # partition 0 copied again, from its earliest offset
    assert reader.values[1] == list(range(50))
    reader.close()
