"""HQ's proxy hands requests to the environment's agent app in-process (the built-in agent):
`…/proxy/api/agent` answers for every environment with a Kafka connection, whether its cluster
answers or not; the agent's own answers (status, headers, body) come back as it gives them."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from backend.agent.supervisor import AGENT_VERSION
from tests.api.hq import PREFIXES, UNREACHABLE_BROKERS, assert_error
from tests.waiting import until

AGENT_ERROR_KEYS = {"status", "error", "message"}


@pytest.mark.parametrize("prefix", PREFIXES)
def test_the_agent_route_answers_though_the_cluster_does_not(client, environment, prefix):
    name = environment()

    response = client.get(f"{prefix}/environments/{name}/proxy/api/agent", params={"verbose": "true"})

    assert response.status_code == 200, response.text
    assert response.json() == {"hostname": socket.gethostname(), "version": AGENT_VERSION,
                               "capabilities": {"metrics": True, "k2k": False}}
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["X-Request-ID"]
    assert client.get(f"/v1/environments/{name}").json()["status"]["agent_connected"] is False


def test_the_agent_route_names_the_agent_its_status_reports(client, environment):
    name = environment()

    reported = until(lambda: client.get(f"/v1/environments/{name}").json()["status"].get("agent"), 60,
                     "the built-in agent to report the environment's status")

    assert client.get(f"/v1/environments/{name}/proxy/api/agent").json() == reported["agent"]
    assert reported["issues"]  # its cluster does not answer, and the agent says so


def test_an_unknown_path_is_the_agents_own_404(client, environment):
    name = environment()

    response = client.get(f"/api/v1/environments/{name}/proxy/api/nothing-here", headers={"X-Request-ID": "trace-7"})

    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "not_found",
                               "message": "The agent serves no GET /api/nothing-here."}
    assert response.headers["X-Request-ID"] == "trace-7"


def test_a_post_and_its_streamed_body_reach_the_agent(client, environment):
    name = environment()

    def chunks() -> Iterator[bytes]:  # no length known up front: sent chunked
        yield b'{"name": '
        yield b'"streamed"}'

    unknown = client.post(f"/v1/environments/{name}/proxy/api/connectors", content=chunks(),
                          headers={"Content-Type": "application/json"})
    wrong_method = client.post(f"/v1/environments/{name}/proxy/api/agent", content=chunks())

    assert (unknown.status_code, unknown.json()["message"]) == (404, "The agent serves no POST /api/connectors.")
    assert wrong_method.status_code == 405
    assert set(wrong_method.json()) == AGENT_ERROR_KEYS
    assert wrong_method.json()["message"] == "The agent's /api/agent does not take POST."


def test_no_kafka_connection_means_no_agent(client, environment):
    bare = environment(kafka=None)
    assert_error(client.get(f"/v1/environments/{bare}/proxy/api/agent"), 503, "agent_not_connected")

    was_connected = environment()
    assert client.get(f"/v1/environments/{was_connected}/proxy/api/agent").status_code == 200
    client.delete(f"/v1/environments/{was_connected}/kafka-connections/main").raise_for_status()
    assert_error(client.get(f"/v1/environments/{was_connected}/proxy/api/agent"), 503, "agent_not_connected")


def test_an_unknown_environment_is_hqs_404(client):
    assert_error(client.get("/v1/environments/no-such-environment/proxy/api/agent"), 404, "not_found")


def test_without_the_builtin_agent_there_is_no_agent_to_proxy_to(api, make_env):
    """The session's HQ runs no built-in agent, and no standalone agent has dialled in."""
    name = make_env()["name"]
    api.put(f"/v1/environments/{name}/kafka-connections/main", json=UNREACHABLE_BROKERS).raise_for_status()

    assert_error(api.get(f"/v1/environments/{name}/proxy/api/agent"), 503, "agent_not_connected")


def test_openapi_describes_the_agent_route_under_both_prefixes(hq_with_agent):
    with hq_with_agent.client(token=None) as anonymous:
        openapi = anonymous.get("/openapi.json").json()

    for prefix in PREFIXES:
        operation = openapi["paths"][f"{prefix}/environments/{{name}}/proxy/api/agent"]["get"]
        assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/AgentInfo"}
        assert {"name": "name", "in": "path"}.items() <= operation["parameters"][0].items()
        assert {"401", "404", "503"} <= set(operation["responses"])
    assert {"hostname", "version", "capabilities"} <= set(openapi["components"]["schemas"]["AgentInfo"]["properties"])
