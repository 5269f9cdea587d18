"""The event API's stream and group routes where no Kafka answers: the family's shape for a
cluster that refuses, and the operations in HQ's OpenAPI with the family's errors.
tests/kafka/test_events_streams.py has the rest, against the sandbox's real Kafka."""

from __future__ import annotations

from tests.api.hq import PREFIXES

# The stream and group operations, relative to the agent's root.
AGENT_OPERATIONS = [
    ("POST", "/streams"),
    ("GET", "/streams"),
    ("GET", "/streams/{streamName}"),
    ("DELETE", "/streams/{streamName}"),
    ("GET", "/streams/{streamName}/offsets"),
    ("GET", "/consumers"),
    ("GET", "/consumers/{consumerGroup}"),
]
# As HQ's OpenAPI lists them: under each prefix's proxy.
OPERATIONS = {(method, f"{prefix}/environments/{{name}}/proxy/api/v1{path}")
              for prefix in PREFIXES for method, path in AGENT_OPERATIONS}


def test_a_cluster_that_refuses_is_a_502_in_the_familys_shape(client, environment):
    name = environment()  # its Kafka connection is to brokers that refuse
    client.timeout = 60
    response = client.get(f"/api/v1/environments/{name}/proxy/api/v1/consumers")
    assert response.status_code == 502, response.text
    body = response.json()
    assert body["code"] == 1009 and body["message"] == "CLUSTER_UNAVAILABLE" and body["description"]


def test_hqs_openapi_documents_every_operation_with_the_familys_errors(hq_with_agent):
    with hq_with_agent.client(token=None) as anonymous:
        openapi = anonymous.get("/openapi.json").json()

    for method, path in OPERATIONS:
        responses = openapi["paths"][path][method.lower()]["responses"]
        for status in ("400", "502", "504"):
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/EventErrorBody"}, (method, path, status)
    assert {"code", "message", "description", "field"} <= set(
        openapi["components"]["schemas"]["EventErrorBody"]["properties"])
