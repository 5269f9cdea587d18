"""The tail route's refusals that need no cluster (its `from` and `partition` are read before the
agent dials Kafka), in the event API's shape, and its operation in HQ's OpenAPI.
tests/kafka/test_events_tail.py has the rest, against the sandbox's real Kafka."""

from __future__ import annotations

import pytest

from tests.api.hq import PREFIXES

TAIL = "/proxy/api/v1/streams/{streamName}/tail"
OPERATIONS = {("GET", f"{prefix}/environments/{{name}}{TAIL}") for prefix in PREFIXES}


@pytest.mark.parametrize(("query", "code", "field"), [
    ({"from": "yesterday"}, 1002, "from"),
    ({"from": "2026-12-01T25:00:00Z"}, 1002, "from"),  # no 25th hour
    ({"from": "x" * 65}, 1000, "from"),
    ({"partition": "-1"}, 1000, "partition"),
    ({"partition": "one"}, 1000, "partition"),
])
def test_a_bad_start_is_refused_before_the_cluster_is_asked(client, environment, query, code, field):
    name = environment()  # its brokers refuse: a refusal that dialled them would be a 502
    answer = client.get(f"/api/v1/environments/{name}/proxy/api/v1/streams/orders/tail", params=query)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["code"], body.get("field")) == (code, field), body
    assert set(body) == {"code", "message", "description", "field"}


def test_the_tail_is_described_with_every_answer_it_gives(client):
    paths = client.get("/openapi.json").json()["paths"]
    operation = paths[f"/api/v1/environments/{{name}}{TAIL}"]["get"]
    assert {"200", "400", "404", "429", "502"} <= set(operation["responses"])
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert {p["name"] for p in operation["parameters"]} >= {"name", "streamName", "from", "partition"}
