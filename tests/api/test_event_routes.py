"""The event API's event routes (publish, batch, consume, commit) where no Kafka answers: the
refusals that come before Kafka is asked, an environment whose brokers refuse, and the routes in
HQ's OpenAPI. tests/kafka/test_events_publish_consume.py has the rest, against real Kafka."""

from __future__ import annotations

import httpx
import pytest

from tests.api.hq import PREFIXES

EVENTS = "/streams/{streamName}/events"
# The family's event operations, relative to the agent's root.
AGENT_OPERATIONS = [("POST", EVENTS), ("POST", EVENTS + "/batch"), ("GET", EVENTS),
                    ("POST", "/consumers/{consumerGroup}/commit")]
OPERATIONS = {(method, f"{prefix}/environments/{{name}}/proxy/api/v1{path}")
              for prefix in PREFIXES for method, path in AGENT_OPERATIONS}


@pytest.fixture
def events(client: httpx.Client, environment) -> httpx.Client:
    client.base_url = f"{client.base_url}/api/v1/environments/{environment()}/proxy/api/v1"
    return client


def assert_event_error(answer: httpx.Response, status: int, code: int, field: str | None = None) -> None:
    body = answer.json()
    assert answer.status_code == status, body
    assert (body["code"], body.get("field")) == (code, field), body
    assert body["message"] and body["description"]


def test_bad_input_is_refused_before_kafka_is_asked(events):
    assert_event_error(events.post("/streams/s/events", content=b'{"value": [1,',
                                   headers={"Content-Type": "application/json"}), 400, 1004, "body")
    assert_event_error(events.post("/streams/s/events", content=b'\xff{"value": 1}',
                                   headers={"Content-Type": "application/json"}), 400, 1004, "body")
    assert_event_error(events.post("/streams/s/events", json={"value": 1, "headers": {"h": 1}}), 400, 1000,
                       "headers.h")
    assert_event_error(events.post("/streams/s/events", json={"value": 1, "extra": 1}), 400, 1000, "extra")
    assert_event_error(events.post("/streams/bad name/events", json={"value": 1}), 400, 1000, "streamName")
    assert_event_error(events.post("/streams/s/events", json={"value": 1}, headers={"Idempotency-Key": "k" * 256}),
                       400, 1000, "Idempotency-Key")
    assert_event_error(events.post("/streams/s/events/batch", json={"events": []}), 400, 1000, "events")
    assert_event_error(events.post("/streams/s/events/batch",
                                   json={"events": [{"value": 1}], "options": {"compression": "brotli"}}),
                       400, 1000, "options.compression")
    assert_event_error(events.post("/streams/s/events/batch", json={"events": [{"value": 1}],
                                                                  "options": {"timeout": 30_001}}),
                       400, 1000, "options.timeout")
    assert_event_error(events.get("/streams/s/events"), 400, 1000, "consumerGroup")
    assert_event_error(events.get("/streams/s/events", params={"consumerGroup": "g", "timeout": 30_001}),
                       400, 1000, "timeout")
    assert_event_error(events.post("/consumers/g/commit", json={"offsets": [{"stream": "s", "partition": -1,
                                                                             "offset": 0}]}),
                       400, 1000, "offsets.0.partition")
    assert_event_error(events.post("/consumers/g/commit", content=b"x", headers={"Content-Type": "text/plain"}),
                       415, 1000, "body")


@pytest.mark.parametrize("stream", ["__consumer_offsets", "_connect-configs"])
def test_a_publish_to_an_internal_topic_is_refused_naming_the_stream(events, stream):
    # Not Kafka's refusal blamed on the cluster (a 502), nor a record written into a tool's topic.
    assert_event_error(events.post(f"/streams/{stream}/events", json={"key": "k", "value": 1}), 400, 1000,
                       "streamName")
    assert_event_error(events.post(f"/streams/{stream}/events/batch", json={"events": [{"value": 1}]}), 400, 1000,
                       "streamName")


def test_a_commit_offset_past_kafkas_int64_is_refused_naming_it(events):
    answer = events.post("/consumers/g/commit", json={"offsets": [{"stream": "s", "partition": 0, "offset": 2**63}]})
    assert_event_error(answer, 400, 1000, "offsets.0.offset")


def test_a_publish_to_brokers_that_refuse_is_a_502(events):
    answer = events.post("/streams/s/events/batch", json={"events": [{"value": 1}], "options": {"timeout": 500}})
    assert_event_error(answer, 502, 1009)


def test_hqs_openapi_documents_the_event_operations_with_the_familys_errors(hq_with_agent):
    with hq_with_agent.client(token=None) as anonymous:
        openapi = anonymous.get("/openapi.json").json()
    for method, path in OPERATIONS:
        responses = openapi["paths"][path][method.lower()]["responses"]
        for status in ("400", "404", "502", "504"):
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/EventErrorBody"} or "oneOf" in str(responses[status]), (method, path)
