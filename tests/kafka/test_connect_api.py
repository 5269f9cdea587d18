"""The Kafka Connect API (seed 002) through HQ's proxy, against the sandbox's real Connect worker:
every call is checked against what the worker itself then says, and against Kafka."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer, TopicPartition

from backend.sandbox import Sandbox
from backend.settings import Settings
from tests.api.hq import ADMIN_TOKEN, RunningHQ, running_hq
from tests.http_servers import refusing_url
from tests.kafka.conftest import create_topic, plaintext
from tests.waiting import until

pytestmark = pytest.mark.kafka

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
CONNECT_ERROR_KEYS = {"error", "fields", "errorType"}
LINES = [f"line-{i}" for i in range(10)]  # each 7 bytes with its newline
LINE_BYTES = 7


@pytest.fixture(scope="module")
def hq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHQ]:
    settings = Settings(home=Path(tmp_path_factory.mktemp("hq-connect")), admin_token=ADMIN_TOKEN,
                        k2k_controller=False, agent_interval_seconds=1.0, agent_timeout_seconds=10.0)
    with running_hq(settings) as running:
        yield running


@pytest.fixture
def api(hq: RunningHQ) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hq.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=60) as client:
        yield client


@pytest.fixture(scope="session")
def connect_url(sandbox: Sandbox) -> str:
    return sandbox.status()["connect"]["url"]


@pytest.fixture
def worker(connect_url: str) -> Iterator[httpx.Client]:
    """The sandbox's Connect worker itself, to check what the API did."""
    with httpx.Client(base_url=connect_url, timeout=30) as client:
        yield client


@pytest.fixture
def make_environment(api: httpx.Client, unique_name: Callable[[], str], source: dict, connect_url: str):
    """An environment on the sandbox's source Kafka with the sandbox's Connect as `main`, plus
    other Connect clusters as given (name -> URL)."""

    def make(**others: str) -> str:
        name = unique_name()
        api.post("/v1/environments", json={"name": name}).raise_for_status()
        api.put(f"/v1/environments/{name}/kafka-connections/main",
                json=plaintext(source).model_dump(mode="json", exclude_none=True)).raise_for_status()
        for cluster, url in {"main": connect_url, **others}.items():
            api.put(f"/v1/environments/{name}/connect-clusters/{cluster}", json={"urls": [url]}).raise_for_status()
        return name

    return make


@pytest.fixture
def environment(make_environment) -> str:
    return make_environment()


@pytest.fixture
def connect(environment: str) -> Callable[[str], str]:
    """The path of a Kafka Connect route of the environment, through HQ's proxy."""
    return lambda path: f"/api/v1/environments/{environment}/proxy/api/kafka-connect{path}"


@pytest.fixture
def connectors(api: httpx.Client, worker: httpx.Client, connect, unique_name) -> Iterator[Callable[..., str]]:
    """Creates connectors through the API (unique names); deletes them on the worker afterwards."""
    made: list[str] = []

    def create(config: dict[str, str], *, initial_state: str | None = None, expect: int = 201) -> str:
        name = f"{unique_name()}-{uuid.uuid4().hex[:6]}"  # the worker outlives a run too
        body = {"name": name, "cluster": "main", "configuration": config}
        if initial_state:
            body["initialState"] = initial_state
        response = api.post(connect("/connectors"), json=body)
        assert response.status_code == expect, response.text
        made.append(name)
        return name

    yield create
    for name in made:
        worker.delete(f"/connectors/{name}")


def connector_path(name: str) -> str:
    return f"/clusters/main/connectors/{name}"


def worker_state(worker: httpx.Client, name: str) -> str | None:
    response = worker.get(f"/connectors/{name}/status")
    return response.json()["connector"]["state"] if response.status_code == 200 else None


def wait_state(worker: httpx.Client, name: str, state: str) -> None:
    until(lambda: worker_state(worker, name) == state, 60, lambda: f"{name} to be {state} "
          f"(is {worker_state(worker, name)})")


def assert_connect_error(response: httpx.Response, status: int, *fields: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) <= CONNECT_ERROR_KEYS and body["error"], body
    assert sorted(f["field"] for f in body.get("fields", [])) == sorted(fields), body
    return body


def high_watermark(bootstrap: str, topic: str) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "streamhq-watermarks"})
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
    finally:
        consumer.close()


def source_config(file: Path, topic: str, **extra: str) -> dict[str, str]:
    return {"connector.class": SOURCE, "file": str(file), "topic": topic, "tasks.max": "1", **extra}


@pytest.fixture
def topic(source: dict, unique_name) -> str:
    name = f"{unique_name()}-{uuid.uuid4().hex[:6]}"  # the sandbox's Kafka outlives a run
    create_topic(source["bootstrap"], name, partitions=1)
    return name


@pytest.fixture
def lines_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.txt"
    path.write_text("".join(f"{line}\n" for line in LINES))
    return path


def test_a_file_source_and_sink_round_trip_created_through_the_api(api, worker, connect, connectors, topic,
                                                                   lines_file, tmp_path, environment):
    out = tmp_path / "out.txt"
    source_name = connectors(source_config(lines_file, topic))
    sink_name = connectors({"connector.class": "FileStreamSink", "file": str(out), "topics": topic})

    until(lambda: out.exists() and out.read_text().splitlines() == LINES, 90, "the sink to write every line")
    listed = until(lambda: [c for c in api.get(connect("/connectors")).json()["data"]
                            if c["name"] in (source_name, sink_name) and c["state"] == "RUNNING"
                            and [t["state"] for t in c["tasks"]] == ["RUNNING"]], 60, "both RUNNING in the list")
    by_name = {c["name"]: c for c in listed}
    assert set(by_name) == {source_name, sink_name}
    assert by_name[source_name]["className"] == SOURCE and by_name[source_name]["type"] == "source"
    assert by_name[sink_name]["className"] == SINK and by_name[sink_name]["type"] == "sink"  # from the alias
    assert by_name[sink_name]["lrn"] == f"kafka-connect:connector/{environment}/main/{sink_name}"
    assert by_name[source_name]["topics"] == by_name[sink_name]["topics"] == [topic]

    sinks = api.get(connect("/connectors"), params={"className": "FileStreamSinkConnector"}).json()["data"]
    assert sink_name in {c["name"] for c in sinks} and source_name not in {c["name"] for c in sinks}
    assert {c["cluster"] for c in api.get(connect("/connectors"), params={"cluster": "main"}).json()["data"]} == \
        {"main"}
    detail = api.get(connect(connector_path(source_name))).json()
    assert (detail["state"], detail["className"], detail["version"]) == ("RUNNING", SOURCE, worker.get("/").json()[
        "version"])
    assert detail["config"]["file"] == str(lines_file) and detail["tasks"][0]["workerId"]
    assert until(lambda: api.get(connect(f"{connector_path(sink_name)}/topics")).json() == [topic], 60,
                 "the sink's active topics")

    response = api.delete(connect(connector_path(sink_name)))
    assert response.status_code == 200, response.text
    assert worker.get(f"/connectors/{sink_name}").status_code == 404
    assert sink_name not in {c["name"] for c in api.get(connect("/connectors")).json()["data"]}
    assert_connect_error(api.get(connect(connector_path(sink_name))), 404, "connector")


def test_every_action_changes_the_workers_state(api, worker, connect, connectors, topic, lines_file):
    name = connectors(source_config(lines_file, topic))
    wait_state(worker, name, "RUNNING")

    for action, state in (("pause", "PAUSED"), ("resume", "RUNNING"), ("stop", "STOPPED"), ("start", "RUNNING")):
        response = api.put(connect(f"{connector_path(name)}/{action}"))
        assert response.status_code == 200, response.text
        wait_state(worker, name, state)

    restarted = api.put(connect(f"{connector_path(name)}/restart"), params={"includeTasks": "true"})
    assert restarted.status_code == 200, restarted.text
    assert restarted.json()["inProgress"] is True  # the worker's 202
    wait_state(worker, name, "RUNNING")
    assert api.put(connect(f"{connector_path(name)}/restart")).json()["inProgress"] is False  # its 204
    assert api.put(connect(f"{connector_path(name)}/tasks/0/restart")).status_code == 200
    assert_connect_error(api.put(connect(f"{connector_path(name)}/tasks/9/restart")), 404, "task")
    status = api.get(connect(f"{connector_path(name)}/status")).json()
    assert status["state"] == "RUNNING" and "config" not in status


def test_a_failing_connector_shows_failed_with_its_trace(api, connect, connectors, topic, tmp_path):
    unusable = tmp_path / "a-directory"
    unusable.mkdir()  # the sink's task cannot open it as its file (a file mode would not stop root)
    name = connectors({"connector.class": SINK, "file": str(unusable), "topics": topic})

    detail = until(lambda: (d := api.get(connect(connector_path(name))).json())["tasks"]
                   and d["tasks"][0]["state"] == "FAILED" and d, 90, "the task to fail")

    assert "ConnectException" in detail["tasks"][0]["trace"] and str(unusable) in detail["tasks"][0]["trace"]
    listed = next(c for c in api.get(connect("/connectors")).json()["data"] if c["name"] == name)
    assert listed["tasks"] == [{"id": 0, "state": "FAILED"}]
    status = api.get(connect(f"{connector_path(name)}/status")).json()
    assert status["tasks"][0]["trace"] == detail["tasks"][0]["trace"]

    restarted = api.put(connect(f"{connector_path(name)}/restart"),
                        params={"includeTasks": "true", "onlyFailed": "true"})
    assert restarted.status_code == 200 and restarted.json()["inProgress"] is True, restarted.text


def test_offsets_are_set_on_a_connector_created_stopped_the_moment_it_is_created(api, worker, connect, connectors,
                                                                                 topic, lines_file):
    """The worker writes a new connector's status a moment after the create: a PATCH sent at once
    waits for it instead of answering that there is no such connector."""
    name = connectors(source_config(lines_file, topic), initial_state="STOPPED")
    changed = api.patch(connect(f"{connector_path(name)}/offsets"),
                        json={"offsets": [{"partition": {"filename": str(lines_file)}, "offset": {"position": 0}}]})
    assert changed.status_code == 200, changed.text


def test_offsets_set_while_stopped_decide_where_the_source_reads_from(api, worker, connect, connectors, topic,
                                                                       lines_file, source):
    name = connectors(source_config(lines_file, topic), initial_state="STOPPED")
    until(lambda: api.get(connect(connector_path(name))).json()["state"] == "STOPPED", 30, "the state it was made in")
    partition = {"filename": str(lines_file)}

    changed = api.patch(connect(f"{connector_path(name)}/offsets"),
                        json={"offsets": [{"partition": partition, "offset": {"position": 5 * LINE_BYTES}}]})
    assert changed.status_code == 200, changed.text
    assert api.put(connect(f"{connector_path(name)}/start")).status_code == 200
    until(lambda: high_watermark(source["bootstrap"], topic) == 5, 60, "the lines from the 6th on")

    refused = api.patch(connect(f"{connector_path(name)}/offsets"),
                        json={"offsets": [{"partition": partition, "offset": {"position": 0}}]})
    body = assert_connect_error(refused, 400, "state")
    assert "stop the connector first" in body["error"] and "/connectors/" not in body["error"]
    assert_connect_error(api.delete(connect(f"{connector_path(name)}/offsets")), 400, "state")

    api.put(connect(f"{connector_path(name)}/stop")).raise_for_status()
    wait_state(worker, name, "STOPPED")
    offsets = until(lambda: api.get(connect(f"{connector_path(name)}/offsets")).json()["offsets"], 30, "offsets")
    assert offsets == [{"partition": partition, "offset": {"position": len(LINES) * LINE_BYTES}}]
    assert api.delete(connect(f"{connector_path(name)}/offsets")).status_code == 200
    reset = api.get(connect(f"{connector_path(name)}/offsets")).json()["offsets"]
    assert [entry["offset"] for entry in reset] in ([], [None])  # none left, or the worker's tombstone
    api.put(connect(f"{connector_path(name)}/start")).raise_for_status()
    until(lambda: high_watermark(source["bootstrap"], topic) == 5 + len(LINES), 60, "every line once more")


def test_validation_errors_come_back_per_key(api, connect, connectors, lines_file):
    config = {"connector.class": "FileStreamSource", "file": str(lines_file), "tasks.max": "many"}

    answer = api.post(connect("/validate"), json={"name": "checked", "cluster": "main", "configuration": config})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    errors = {f["name"]: f["errors"] for f in body["configuration"] if f["errors"]}
    assert body["class"] == SOURCE and set(errors) == {"tasks.max", "topic"} and body["errorCount"] == 3

    refused = assert_connect_error(api.post(connect("/connectors"), json={
        "name": "never-made", "cluster": "main", "configuration": config}), 400, "tasks.max", "tasks.max", "topic")
    assert any("many" in f["error"] for f in refused["fields"])
    assert_connect_error(api.post(connect("/connectors"), json={
        "name": "never-made", "cluster": "main", "configuration": {**config, "connector.class": "NoSuchPlugin"}}),
        400, "connector.class")
    assert_connect_error(api.put(connect(f"{connector_path('never-made')}/config"), json=config), 400,
                         "tasks.max", "tasks.max", "topic")


def test_secrets_are_masked_in_every_answer_and_kept_when_sent_back(api, worker, connect, connectors, topic,
                                                                    lines_file, caplog):
    secrets = {"my.password": "hunter2-pw", "sasl.jaas.config": "x required password=\"jaas-pw\";",
               "api.key": "k3y-value", "some.token": "t0ken-value",
               "producer.override.sasl.jaas.config": "x required password=\"override-pw\";"}
    caplog.set_level(logging.DEBUG)
    name = connectors(source_config(lines_file, topic, **secrets))
    answers = [api.get(connect(connector_path(name))), api.get(connect("/connectors")),
               api.post(connect("/validate"), json={"name": name, "cluster": "main",
                                                    "configuration": source_config(lines_file, topic, **secrets)})]
    config = answers[0].json()["config"]
    assert {key: config[key] for key in secrets} == dict.fromkeys(secrets, "***")

    kept = api.put(connect(f"{connector_path(name)}/config"),
                   json={**config, "file": str(lines_file), "batch.size": "10"})
    assert kept.status_code == 200, kept.text
    stored = worker.get(f"/connectors/{name}/config").json()
    assert {key: stored[key] for key in secrets} == secrets and stored["batch.size"] == "10"
    answers.append(kept)
    assert_connect_error(api.put(connect(f"{connector_path(name)}/config"), json={**config, "new.password": "***"}),
                         400, "new.password")  # a mask with nothing stored behind it
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert not [s for s in secrets.values() if s in answer.text], answer.text
    assert not [s for s in secrets.values() if s in caplog.text]


def test_a_cluster_that_does_not_answer_leaves_a_warning_not_a_failure(api, make_environment, connectors):
    with refusing_url() as down:
        environment = make_environment(down=down)
        path = f"/api/v1/environments/{environment}/proxy/api/kafka-connect"

        listed = api.get(f"{path}/connectors")
        assert listed.status_code == 200, listed.text
        assert [(w["cluster"], down in w["error"]) for w in listed.json()["warnings"]] == [("down", True)]
        assert {c["cluster"] for c in listed.json()["data"]} <= {"main"}
        assert [w["cluster"] for w in api.get(f"{path}/plugins").json()["warnings"]] == ["down"]
        assert SOURCE in {p["class"] for p in api.get(f"{path}/plugins").json()["data"]}

        failed = assert_connect_error(api.get(f"{path}/clusters/down/connectors/any"), 502)
        assert "down" in failed["error"] and down in failed["error"]


def test_the_cluster_its_plugins_and_its_loggers(api, worker, connect):
    info = api.get(connect("/clusters/main/info")).json()
    root = worker.get("/").json()
    assert info == {"name": "main", "version": root["version"], "commit": root["commit"],
                    "kafkaClusterId": root["kafka_cluster_id"]}
    fields = {f["name"]: f for f in api.get(connect(f"/clusters/main/connector-plugins/{SOURCE}/config")).json()}
    assert fields["topic"]["required"] is True and fields["batch.size"]["defaultValue"] == "2000"

    logger = "org.apache.kafka.connect.file"
    changed = api.put(connect(f"/clusters/main/loggers/{logger}"), json={"level": "DEBUG"})
    assert changed.status_code == 200, changed.text
    assert logger in {entry["name"] for entry in changed.json()}
    assert worker.get(f"/admin/loggers/{logger}").json()["level"] == "DEBUG"
    assert api.get(connect(f"/clusters/main/loggers/{logger}")).json()["level"] == "DEBUG"
    assert logger in {entry["name"] for entry in api.get(connect("/clusters/main/loggers")).json()}
    api.put(connect(f"/clusters/main/loggers/{logger}"), json={"level": "INFO"}).raise_for_status()


def test_bad_input_is_a_4xx_of_the_family_naming_the_field(api, connect, connectors, lines_file, topic):
    config = source_config(lines_file, topic)
    name = connectors(config, initial_state="PAUSED")

    assert_connect_error(api.get(connect("/clusters/nowhere/info")), 404, "cluster")
    assert_connect_error(api.get(connect("/connectors"), params={"cluster": "nowhere"}), 404, "cluster")
    assert_connect_error(api.get(connect(connector_path("no-such-connector"))), 404, "connector")
    assert_connect_error(api.post(connect("/connectors"), json={"name": "x" * 256, "cluster": "main",
                                                                "configuration": config}), 400, "name")
    assert_connect_error(api.post(connect("/connectors"), json={"name": name, "cluster": "main",
                                                                "configuration": config}), 409, "name")
    assert_connect_error(api.post(connect("/connectors"), json={"name": "typed", "cluster": "main",
                                                                "configuration": {"tasks.max": 1}}),
                         400, "configuration.tasks.max")
    assert_connect_error(api.put(connect(f"{connector_path(name)}/explode")), 400, "action")
    assert_connect_error(api.put(connect(f"{connector_path(name)}/tasks/first/restart")), 400, "task")
    assert_connect_error(api.put(connect(f"{connector_path(name)}/restart"), params={"onlyFailed": "maybe"}),
                         400, "onlyFailed")
    assert_connect_error(api.put(connect("/clusters/main/loggers/x"), json={"level": "LOUD"}), 400, "level")
    assert_connect_error(api.post(connect("/validate"), content=b"{not json", headers={
        "Content-Type": "application/json"}), 400, "body")
    assert_connect_error(api.post(connect("/validate"), content=json.dumps({}), headers={
        "Content-Type": "text/plain"}), 415, "body")
    assert_connect_error(api.get(connect("/nothing-here")), 404)
    assert_connect_error(api.patch(connect("/connectors")), 405)


def test_concurrent_creates_of_one_name_make_one_connector_and_the_rest_are_told_it_exists(
        hq, api, worker, connect, unique_name, lines_file, topic):
    name = f"{unique_name()}-{uuid.uuid4().hex[:6]}"

    async def creates() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=hq.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                                     timeout=60) as client:
            return await asyncio.gather(*(client.post(connect("/connectors"), json={
                "name": name, "cluster": "main", "initialState": "PAUSED",
                "configuration": source_config(lines_file, topic, **{"batch.size": str(100 + i)})}) for i in range(8)))

    try:
        answers = asyncio.run(creates())
        assert sorted(a.status_code for a in answers) == [201] + [409] * 7, [a.text for a in answers]
        for answer in answers:
            if answer.status_code == 409:
                assert_connect_error(answer, 409, "name")
        made = next(a for a in answers if a.status_code == 201).json()
        assert worker.get(f"/connectors/{name}/config").json()["batch.size"] == made["config"]["batch.size"]
    finally:
        worker.delete(f"/connectors/{name}")


def test_offsets_connect_cannot_take_are_a_400_naming_them_and_change_nothing(
        api, worker, connect, connectors, lines_file, topic):
    name = connectors(source_config(lines_file, topic), initial_state="STOPPED")
    wait_state(worker, name, "STOPPED")
    path = connect(f"{connector_path(name)}/offsets")
    partition = {"filename": str(lines_file)}
    api.patch(path, json={"offsets": [{"partition": partition, "offset": {"position": 7}}]}).raise_for_status()

    for entry, field in [({"partition": "x", "offset": {"position": 0}}, "offsets.0.partition"),
                         ({"partition": None, "offset": {"position": 0}}, "offsets.0.partition"),
                         ({"partition": {"a": {"b": 1}}, "offset": {"position": 0}}, "offsets.0.partition.a"),
                         ({"partition": partition, "offset": "zz"}, "offsets.0.offset"),
                         ({"partition": partition, "offset": {"kafka_offset": 3}}, "offsets")]:  # FileStream's no
        assert_connect_error(api.patch(path, json={"offsets": [entry]}), 400, field)
    assert worker.get(f"/connectors/{name}/offsets").json()["offsets"] == [
        {"partition": partition, "offset": {"position": 7}}]


def test_what_a_worker_does_not_have_is_a_404_naming_the_parameter(api, connect):
    assert_connect_error(api.get(connect(f"{connector_path('no-such-connector')}/topics")), 404, "connector")
    assert_connect_error(api.get(connect("/clusters/main/connector-plugins/NoSuchPlugin/config")), 404, "plugin")
    assert_connect_error(api.get(connect("/clusters/main/loggers/no.such.logger")), 404, "logger")
