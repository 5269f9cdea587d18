"""Schemathesis over a real `streamhq serve`: every operation of its /openapi.json gets generated
requests, valid and invalid, and every answer must be documented (status, content type, schema),
none may be a server error, and no invalid request may be accepted.

Generated names seldom name anything, so the server first gets one of each resource, all named
`fuzz`, and path parameters name them most of the time: the requests then reach the rules
behind the 404s (merge patches on a real app, `If-Match`, offsets).

No traffic leaves loopback. The server runs with no built-in agent and no K2K controller (they
would dial whatever a fuzzed Kafka connection or Connect URL names). What still dials Kafka is
HQ's own offsets and same-cluster probes: every generated Kafka connection is pinned to a closed
loopback port before it is sent (`on_loopback`), and the seeded ones are on loopback too.

STREAMHQ_FUZZ_EXAMPLES (default 25 per operation) and STREAMHQ_FUZZ_SEED (default 11) run it
longer or differently; with both fixed a run is repeatable.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from pydantic import TypeAdapter, ValidationError
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from backend.environments.models import BrokerAddress
from backend.environments.resources import KAFKA_CONNECTION
from backend.lrn import resource_lrn
from bench.hq import hq_server

EXAMPLES = int(os.environ.get("STREAMHQ_FUZZ_EXAMPLES", "25"))
SEED = int(os.environ.get("STREAMHQ_FUZZ_SEED", "11"))
TOKEN = "shq_admin_fuzz-token"
# Not `positive_data_acceptance`: a schema-valid app may still name a connection that does not exist.
CHECKS = [not_a_server_error, negative_data_rejection, status_code_conformance, content_type_conformance,
          response_schema_conformance]

SEEDED = "fuzz"
# Refused at once: nothing listens on port 1. Two hosts, so that the seeded app's source and
# target differ and creating it needs no probe of whether they are one cluster.
CLOSED_LOOPBACK_PORT = "127.0.0.1:1"
SEEDED_TARGET_BROKER = "127.0.0.2:1"
NAME_PARAMETERS = ("name", "env_name", "conn_name", "cluster_name", "instance_name")
SEEDED_NAME_PROBABILITY = 0.7
SEEDED_SOURCE = resource_lrn(KAFKA_CONNECTION.kind, SEEDED, SEEDED)
SEEDED_TARGET = resource_lrn(KAFKA_CONNECTION.kind, SEEDED, "target")
# Each offsets call on the seeded app waits out Kafka's timeout (10 s): a few are enough.
OFFSETS_EXAMPLES = 3
BROKER_ADDRESS = TypeAdapter(BrokerAddress)
REJECTIONS = ["400", "401", "404", "405", "409", "413"]


def seed_resources(url: str) -> None:
    """One environment with one of each resource, and a paused K2K app between two of its
    connections; what exists already is left as it is (answers 409)."""
    environment = f"/v1/environments/{SEEDED}"
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as api:
        for method, path, body in [
            ("POST", "/v1/environments", {"name": SEEDED}),
            ("PUT", f"{environment}/kafka-connections/{SEEDED}", {"override_broker_addresses": [CLOSED_LOOPBACK_PORT]}),
            ("PUT", f"{environment}/kafka-connections/target", {"override_broker_addresses": [SEEDED_TARGET_BROKER]}),
            ("PUT", f"{environment}/connect-clusters/{SEEDED}", {"urls": [f"http://{CLOSED_LOOPBACK_PORT}"]}),
            ("PUT", f"{environment}/redpanda-connects/{SEEDED}", {"url": f"http://{CLOSED_LOOPBACK_PORT}"}),
            ("POST", "/api/v0/apps/k2k", {"apiVersion": "v1", "kind": "K2KApp", "metadata": {"name": SEEDED}, "spec": {
                "sourceKafkaLRN": SEEDED_SOURCE, "targetKafkaLRN": SEEDED_TARGET, "topics": [SEEDED], "paused": True}}),
        ]:
            response = api.request(method, path, json=body)
            if response.status_code != 409:
                response.raise_for_status()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("fuzz-hq")
    log = home / "serve.log"
    try:
        with hq_server(home, TOKEN, log, "--no-builtin-agent", "--no-k2k-controller") as (url, _):
            seed_resources(url)
            yield url
    finally:
        print_tracebacks_of(log)


def print_tracebacks_of(log: Path) -> None:
    """A server error's traceback is in the server's log, not in its answer: show it with the failure."""
    text = log.read_text(errors="replace")
    if "Traceback" in text:
        print(text)


@pytest.fixture(scope="module")
def hq_schema(served: str) -> schemathesis.BaseSchema:
    seeded_names = {f"path.{name}": {"dictionary": "seeded", "probability": SEEDED_NAME_PROBABILITY}
                    for name in NAME_PARAMETERS}
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "headers": {"Authorization": f"Bearer {TOKEN}"},
        "request-timeout": 30,
        # A live feed never ends: its first event (`ready`) is the answer under test.
        "max-stream-events": 1,
        # 502 and 503 say what HQ could not reach (Kafka, an agent): documented answers, not HQ failing.
        # The status-code check still holds them to the operations that document them.
        "checks": {"not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "503"]},
                   # Bad input is refused with the statuses the HQ answers, never accepted.
                   "negative_data_rejection": {"expected-statuses": REJECTIONS}},
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "dictionaries": {"seeded": {"values": [SEEDED]}, "source": {"values": [SEEDED_SOURCE]},
                         "target": {"values": [SEEDED_TARGET]}},
        # ... and K2K apps between the seeded connections: references nothing generates by chance.
        "parameters": {**seeded_names,
                       "body.spec.sourceKafkaLRN": {"dictionary": "source", "probability": SEEDED_NAME_PROBABILITY},
                       "body.spec.targetKafkaLRN": {"dictionary": "target", "probability": SEEDED_NAME_PROBABILITY}},
        "operations": [{"include-path-regex": "/offsets/", "generation": {"max-examples": OFFSETS_EXAMPLES}},
                       # An agent route's input is the agent's to judge: with no agent (this server
                       # runs none) HQ answers 503 before anything reads it, valid or not.
                       {"include-path-regex": "/proxy/api/", "checks": {
                           "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx", "502", "503"]},
                           "negative_data_rejection": {"expected-statuses": [*REJECTIONS, "503"]}}}],
    })
    return schemathesis.openapi.from_url(f"{served}/openapi.json", config=config)


schema = schemathesis.pytest.from_fixture("hq_schema")


def on_loopback(case: schemathesis.Case) -> None:
    """Points each broker address the server would take at a closed loopback port. Invalid ones
    stay as generated: they are refused, and the request must stay as invalid as it was."""
    body = case.body
    if "kafka-connections" in case.path and isinstance(body, dict):
        addresses = body.get("override_broker_addresses")
        if isinstance(addresses, list):
            body["override_broker_addresses"] = [CLOSED_LOOPBACK_PORT if is_broker_address(a) else a
                                                 for a in addresses]


def is_broker_address(value: object) -> bool:
    try:
        BROKER_ADDRESS.validate_python(value)
    except ValidationError:
        return False
    return True


@schema.parametrize()
def test_every_answer_is_documented_and_none_is_a_server_error(case: schemathesis.Case, served: str) -> None:
    on_loopback(case)
    response = case.call_and_validate(checks=CHECKS)
    if case.method == "DELETE" and response.status_code < 300:
        seed_resources(served)  # what the next operations' seeded names point at

