"""What /openapi.json says each route answers, against what the routes answer (defect 10 of issue
11): no 422 that is never sent, the 5xx a route does send, the body errors of every bodied
route, and no 307 on a trailing slash. tests/fuzz checks the answers themselves at scale."""

from __future__ import annotations

import re

import pytest

from tests.api.hq import assert_error

ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
# The agent's Kafka Connect routes answer in their family's shape (seed 002).
CONNECT_ERROR_BODY = {"$ref": "#/components/schemas/ConnectErrorBody"}
EVENT_ERROR_BODY = {"$ref": "#/components/schemas/EventErrorBody"}
BODIED = ("post", "put", "patch")


@pytest.fixture(scope="module")
def openapi(hq) -> dict:
    with hq.client(token=None) as anonymous:
        return anonymous.get("/openapi.json").json()


def operations(openapi: dict):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def error_schema(operation: dict, status: str) -> dict:
    return operation["responses"][status]["content"]["application/json"]["schema"]


def test_no_operation_documents_fastapis_422(openapi):
    documented = [(m, p) for m, p, op in operations(openapi) if "422" in op["responses"]]

    assert documented == []
    assert not {"HTTPValidationError", "ValidationError"} & set(openapi["components"]["schemas"])


def test_every_operation_but_health_documents_the_401(openapi):
    for method, path, operation in operations(openapi):
        if path != "/health":
            assert error_schema(operation, "401") == ERROR_BODY, (method, path)


def test_every_route_with_a_body_documents_400_and_413(openapi):
    bodied = [(m, p, op) for m, p, op in operations(openapi) if "requestBody" in op]

    assert {m for m, _, _ in bodied} == set(BODIED)
    for method, path, operation in bodied:
        expected = (CONNECT_ERROR_BODY if "/proxy/api/kafka-connect/" in path
                    else EVENT_ERROR_BODY if "/proxy/api/v1/" in path else ERROR_BODY)
        for status in ("400", "413"):
            assert error_schema(operation, status) == expected, (method, path, status)


@pytest.mark.parametrize("prefix", ["/v1", "/api/v1"])
def test_the_proxy_documents_its_503_agent_not_connected(openapi, api, make_env, prefix):
    proxy = openapi["paths"][f"{prefix}/environments/{{name}}/proxy/{{path}}"]
    env = make_env()["name"]

    for method in ("get", "post", "put", "patch", "delete"):
        assert error_schema(proxy[method], "503") == ERROR_BODY
    assert_error(api.get(f"{prefix}/environments/{env}/proxy/api/v1/streams"), 503, "agent_not_connected")


def test_the_offsets_routes_document_their_502_kafka_unavailable(openapi):
    offsets = openapi["paths"]["/api/v0/apps/k2k/{name}/offsets/{topic_name}"]

    for method in ("get", "patch"):
        assert error_schema(offsets[method], "502") == ERROR_BODY


def test_the_live_feeds_are_documented_as_event_streams(openapi):
    for path in ("/v1/environments/live/sse", "/api/v1/environments/live/sse", "/api/v1/apps/k2k/live/sse"):
        assert set(openapi["paths"][path]["get"]["responses"]["200"]["content"]) == {"text/event-stream"}


@pytest.mark.parametrize("path", ["/v1/environments/", "/api/v0/apps/k2k/", "/api/v1/environments/"])
def test_a_trailing_slash_is_a_404_that_names_the_path_not_a_307(api, path):
    response = api.get(path)

    body = assert_error(response, 404, "not_found")
    assert "no trailing slash" in body["title"]
    assert path.rstrip("/") in body["title"]
    assert "location" not in response.headers


def schema_of(openapi: dict, model: str, *path: str) -> dict:
    schema = openapi["components"]["schemas"][model]
    for key in path:
        schema = schema[key]
    return schema


def test_the_rules_checked_in_code_are_stated_in_the_schema(openapi):
    name = schema_of(openapi, "EnvironmentCreate", "properties", "name")
    broker = schema_of(openapi, "KafkaConnectionSpec", "properties", "override_broker_addresses", "items")
    source = schema_of(openapi, "K2KSpec", "properties", "sourceKafkaLRN")

    assert re.fullmatch(name["pattern"], "prod-eu") and not re.fullmatch(name["pattern"], "Prod_EU")
    assert re.fullmatch(broker["pattern"], "broker-1:9092") and not re.fullmatch(broker["pattern"], "broker-1")
    assert re.fullmatch(source["pattern"], "environments:kafka-connection/prod/main")
    assert not re.fullmatch(source["pattern"], "environments:connect-cluster/prod/main")
    assert schema_of(openapi, "KafkaAuth")["maxProperties"] == 1
