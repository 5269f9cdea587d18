"""The Kafka Connect family's answers that need no real worker: its error shape on every
failure under `/api/kafka-connect/`, clusters that refuse or go quiet (a real closed port, a
real silent socket), the worker's rebalance 409 retried and its "already exists" not (a real
tiny HTTP server playing the worker's answers), and its operations in HQ's OpenAPI.
tests/kafka/test_connect_api.py has the rest, against the sandbox's real Connect worker."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.api.hq import PREFIXES
from tests.http_servers import refusing_url, silent_url, tiny_server

CONNECT_ERROR_KEYS = {"error", "fields", "errorType"}
SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
CONNECTOR = "/clusters/{cluster}/connectors/{connector}"
# Every operation of the family (seed 002's 13 and the additions), relative to the agent's root.
AGENT_OPERATIONS = [
    ("GET", "/connectors"),
    ("POST", "/connectors"),
    ("GET", CONNECTOR),
    ("DELETE", CONNECTOR),
    ("GET", "/plugins"),
    ("PUT", CONNECTOR + "/{action}"),
    ("PUT", CONNECTOR + "/tasks/{task}/restart"),
    ("POST", "/validate"),
    ("GET", CONNECTOR + "/topics"),
    ("GET", "/clusters/{cluster}/info"),
    ("GET", CONNECTOR + "/offsets"),
    ("PATCH", CONNECTOR + "/offsets"),
    ("DELETE", CONNECTOR + "/offsets"),
    ("PUT", CONNECTOR + "/config"),
    ("GET", CONNECTOR + "/status"),
    ("GET", "/clusters/{cluster}/connector-plugins/{plugin}/config"),
    ("GET", "/clusters/{cluster}/loggers"),
    ("GET", "/clusters/{cluster}/loggers/{logger}"),
    ("PUT", "/clusters/{cluster}/loggers/{logger}"),
]
# As HQ's OpenAPI lists them: under each prefix's proxy.
OPERATIONS = {(method, f"{prefix}/environments/{{name}}/proxy/api/kafka-connect{path}")
              for prefix in PREFIXES for method, path in AGENT_OPERATIONS}
# The family's live feed takes no input to refuse (a bad Last-Event-ID is a resync): no 400 of its own.
LIVE_OPERATIONS = {("GET", f"{prefix}/environments/{{name}}/proxy/api/kafka-connect/live/sse") for prefix in PREFIXES}
REBALANCING = (409, {"error_code": 409, "message": "Cannot complete request because of a conflicting operation "
                                                   "(e.g. worker rebalance)"})


def assert_connect_error(response: httpx.Response, status: int, *fields: str) -> dict:
    body = response.json()
    assert response.status_code == status, body
    assert set(body) <= CONNECT_ERROR_KEYS and body["error"] and body["errorType"], body
    assert sorted(f["field"] for f in body.get("fields", [])) == sorted(fields), body
    return body


@pytest.fixture
def with_clusters(client: httpx.Client, environment: Callable[..., str]) -> Callable[..., Callable[[str], str]]:
    """An environment with these Connect clusters (name -> URL); answers its family's path maker."""

    def make(**clusters: str) -> Callable[[str], str]:
        name = environment()
        for cluster, url in clusters.items():
            client.put(f"/v1/environments/{name}/connect-clusters/{cluster}", json={"urls": [url]}).raise_for_status()
        return lambda path: f"/api/v1/environments/{name}/proxy/api/kafka-connect{path}"

    return make


def test_every_failure_under_the_family_is_in_its_shape(client, with_clusters):
    connect = with_clusters()

    assert_connect_error(client.get(connect("/nothing-here")), 404)
    assert_connect_error(client.patch(connect("/connectors")), 405)
    assert_connect_error(client.get(connect("/clusters/nowhere/info")), 404, "cluster")
    assert_connect_error(client.post(connect("/connectors"), json={"name": "", "cluster": "c", "configuration": {}}),
                         400, "name")
    assert_connect_error(client.post(connect("/connectors"), json={"cluster": "c", "configuration": [], "extra": 1}),
                         400, "name", "configuration", "extra")
    assert_connect_error(client.post(connect("/validate"), content=b"x" * (1024 * 1024 + 1),
                                     headers={"Content-Type": "application/json"}), 413, "body")
    assert_connect_error(client.get(connect("/connectors"), params={"cluster": ["x"] * 65}), 400, "cluster")
    assert_connect_error(client.put(connect("/clusters/c/connectors/n/config"), json={"tasks.max": 1}), 400,
                         "tasks.max")
    assert_connect_error(client.put(connect("/clusters/c/connectors/n/config"), json=["not", "a", "map"]), 400,
                         "body")


def test_a_cluster_that_refuses_is_a_warning_in_lists_and_a_502_naming_it_elsewhere(client, with_clusters):
    with refusing_url() as down:
        connect = with_clusters(down=down)

        listed = client.get(connect("/connectors"))
        failed = client.get(connect("/clusters/down/connectors/any"))

    assert listed.status_code == 200, listed.text
    assert listed.json()["data"] == []
    assert [(w["cluster"], down in w["error"]) for w in listed.json()["warnings"]] == [("down", True)]
    body = assert_connect_error(failed, 502)
    assert "Kafka Connect down" in body["error"] and down in body["error"] and body["errorType"] == "upstream_error"


def test_a_cluster_that_takes_the_request_and_never_answers_is_a_504(client, with_clusters):
    with silent_url() as quiet, refusing_url() as down:
        connect = with_clusters(quiet=quiet, down=down)

        listed = client.get(connect("/connectors"))
        failed = client.get(connect("/clusters/quiet/info"))

    assert sorted(w["cluster"] for w in listed.json()["warnings"]) == ["down", "quiet"]
    assert assert_connect_error(failed, 504)["errorType"] == "upstream_timeout"


def fake_worker(create_answers: list[tuple[int, object]]):
    """A worker's answers for a create: its plugins, a clean validation, then `create_answers`
    in turn for the POSTs, then the connector's info and status."""

    def answer(method: str, path: str, _: dict[str, str]) -> tuple[int, object]:
        if path.startswith("/connector-plugins/") and path.endswith("/config/validate"):
            return 200, {"name": SOURCE, "error_count": 0, "groups": [], "configs": []}
        if path.startswith("/connector-plugins/"):
            return 200, []
        if path.startswith("/connector-plugins"):
            return 200, [{"class": SOURCE, "type": "source", "version": "4.3.1"}]
        if method == "POST" and path == "/connectors":
            return create_answers.pop(0) if create_answers else (500, {"message": "asked too often"})
        if path == "/connectors/made/status":
            return 200, {"name": "made", "connector": {"state": "RUNNING", "worker_id": "w"}, "tasks": [],
                         "type": "source"}
        return 200, {"name": "made", "config": {"connector.class": SOURCE}, "tasks": [], "type": "source"}

    return answer


def create(client: httpx.Client, connect: Callable[[str], str]) -> httpx.Response:
    return client.post(connect("/connectors"), json={"name": "made", "cluster": "w",
                                                     "configuration": {"connector.class": SOURCE}})


def test_a_rebalancing_workers_409_is_retried_until_it_answers(client, with_clusters):
    with tiny_server(fake_worker([REBALANCING, REBALANCING, (201, {"name": "made"})])) as (url, seen):
        response = create(client, with_clusters(w=url))

    assert response.status_code == 201, response.text
    assert response.json()["state"] == "RUNNING"
    assert len([r for r in seen.requests if r[:2] == ("POST", "/connectors")]) == 3


def test_already_exists_after_a_rebalance_answer_is_that_first_attempts_success(client, with_clusters):
    expecting = (500, {"error_code": 500, "message": "Request cannot be completed because a rebalance is expected"})
    exists = (409, {"error_code": 409, "message": "Connector made already exists"})
    with tiny_server(fake_worker([expecting, exists])) as (url, seen):
        response = create(client, with_clusters(w=url))

    assert response.status_code == 201, response.text  # the worker had written it before it said so
    assert len([r for r in seen.requests if r[:2] == ("POST", "/connectors")]) == 2


def test_already_exists_is_a_409_at_once(client, with_clusters):
    exists = (409, {"error_code": 409, "message": "Connector made already exists"})
    with tiny_server(fake_worker([exists, (201, {"name": "made"})])) as (url, seen):
        response = create(client, with_clusters(w=url))

    assert assert_connect_error(response, 409, "name")["errorType"] == "already_exists"
    assert len([r for r in seen.requests if r[:2] == ("POST", "/connectors")]) == 1


def test_a_worker_still_rebalancing_after_the_retries_is_a_409(client, with_clusters):
    with tiny_server(fake_worker([REBALANCING] * 1000)) as (url, seen):
        response = create(client, with_clusters(w=url))

    body = assert_connect_error(response, 409)
    assert body["errorType"] == "rebalancing" and "rebalance" in body["error"]
    assert 1 < len([r for r in seen.requests if r[:2] == ("POST", "/connectors")]) < 1000  # bounded


def test_hqs_openapi_documents_every_operation_with_the_familys_errors(hq_with_agent):
    with hq_with_agent.client(token=None) as anonymous:
        openapi = anonymous.get("/openapi.json").json()

    described = {(method.upper(), path) for path, item in openapi["paths"].items() for method in item
                 if "/proxy/api/kafka-connect/" in path}
    assert described == OPERATIONS | LIVE_OPERATIONS
    for method, path in OPERATIONS:
        responses = openapi["paths"][path][method.lower()]["responses"]
        assert responses["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ConnectErrorBody"}, (method, path)
    assert {"error", "fields", "errorType"} <= set(openapi["components"]["schemas"]["ConnectErrorBody"]["properties"])


def test_a_worker_that_does_not_expand_its_list_is_a_warning_not_a_failure(client, with_clusters):
    def before_kafka_2_3(method: str, path: str, _: dict[str, str]) -> tuple[int, object]:
        if path.startswith("/connectors"):
            return 200, ["one", "two"]  # `expand` ignored: names only
        return 200, [{"class": SOURCE, "type": "source", "version": "2.1.0"}]

    with tiny_server(before_kafka_2_3) as (url, _), refusing_url() as down:
        listed = client.get(with_clusters(old=url, down=down)("/connectors"))

    assert listed.status_code == 200, listed.text
    assert listed.json()["data"] == []
    warnings = {w["cluster"]: w["error"] for w in listed.json()["warnings"]}
    assert set(warnings) == {"old", "down"} and "does not expand" in warnings["old"], warnings


def test_names_a_workers_path_cannot_hold_are_refused_before_the_worker_is_asked(client, with_clusters):
    with tiny_server(fake_worker([(201, {"name": "made"})])) as (url, seen):
        connect = with_clusters(w=url)
        refused = [client.post(connect("/connectors"), json={"name": name, "cluster": "w", "configuration": {
            "connector.class": SOURCE}}) for name in ("a/b", "..", ".")]
        dotted = [client.get(connect(f"/clusters/w/connectors/{name}")) for name in ("%2E%2E", "%2e")]
        controlled = client.delete(connect("/clusters/w/connectors/a%00b"))

    for response in refused:
        assert_connect_error(response, 400, "name")
    for response in [*dotted, controlled]:
        assert_connect_error(response, 400, "connector")
    assert [r for r in seen.requests if r[1].startswith("/connectors")] == []  # never created, never asked


def test_a_workers_html_error_page_is_quoted_by_its_title(client, with_clusters):
    page = (b"<html><head><title>Error 400 Ambiguous URI path separator</title></head>"
            b"<body><h2>HTTP ERROR 400</h2><table><tr><th>URI:</th><td>/badURI</td></tr></table></body></html>")

    def jetty(method: str, path: str, _: dict[str, str]) -> tuple[int, object]:
        return 400, page

    with tiny_server(jetty) as (url, _):
        body = assert_connect_error(client.get(with_clusters(w=url)("/clusters/w/connectors/any/status")), 400)

    assert body["error"] == "Error 400 Ambiguous URI path separator"
