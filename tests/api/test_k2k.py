"""K2K apps (seed 000): create, read, replace, merge-patch and delete apps in YAML or JSON,
their validation, offset edits' preconditions, the live feed and the OpenAPI description.

No Kafka is needed: the session HQ runs no K2K controller, and creating an app asks no Kafka
anything (whether source and target are one cluster is checked when its workers start)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime

import httpx
import pytest
import yaml

from tests.api.hq import assert_error
from tests.api.k2k_apps import APPS, KUBERNETES, Clusters, app_doc, create, kafka_lrn, send_yaml
from tests.api.sse_reader import live_and_ready
from tests.api.test_cli import free_ports

LIVE = "/api/v1/apps/k2k/live/sse"

# The seed's YAML example, with real references filled in.
SEED_YAML = """\
apiVersion: v1
kind: K2KApp
metadata:
  name: {name}
  displayName: Orders to the DR cluster
  description: Copies the order topics
spec:
  sourceKafkaLRN: {source}
  targetKafkaLRN: {target}
  topics:
  - orders
  - regex:payments-.*
  kubernetes:
    commonMetadata:
      labels:
        team: payments
      annotations:
        owner: sre
    securityContext:
      runAsUser: 1000
      runAsGroup: 1000
      runAsNonRoot: true
    imagePullSecrets:
    - name: registry
    serviceAccount: k2k
    image: streamhq/k2k:1
    resources:
      requests:
        cpu: 100m
        memory: 256Mi
      limits:
        cpu: '1'
        memory: 1Gi
  replicator:
    schemaMapping: false
    exactlyOnce: true
    autoCreateTopics: true
    autoCreateControlTopics: true
    keepRecordCreationTimestamp: true
  paused: false
  configOverrides:
    consumer.fetch.min.bytes: 1
    producer.linger.ms: 5
    workers: 2
"""


def seed_yaml(clusters: Clusters, name: str) -> str:
    return SEED_YAML.format(name=name, source=clusters.source, target=clusters.target)


def assert_invalid(response: httpx.Response, field: str, error: str) -> None:
    """A 400 naming exactly `field`, with the error code clients switch on."""
    body = assert_error(response, 400, "bad_request", field)
    assert body["invalid_fields"][0]["error"] == error, body


# create


def test_an_app_whose_clusters_do_not_answer_is_created(api, make_env, name):
    """GitOps and a DR site being built create apps before their clusters answer: the app is
    stored, and whether source and target are one cluster is checked when its workers start."""
    silent = Clusters(source_env=make_env()["name"], target_env=make_env()["name"])
    ports = free_ports(2)
    # One host, two closed ports: the addresses differ, so only a cluster id could tell them apart.
    for env, connection, port in zip((silent.source_env, silent.target_env), ("source", "target"), ports, strict=True):
        api.put(f"/v1/environments/{env}/kafka-connections/{connection}",
                json={"override_broker_addresses": [f"127.0.0.1:{port}"]}).raise_for_status()

    response = send_yaml(api, "POST", APPS, seed_yaml(silent, name))

    assert response.status_code == 201, response.text
    assert api.get(f"{APPS}/{name}").json()["spec"]["sourceKafkaLRN"] == silent.source


@pytest.mark.parametrize("media", ["yaml", "json"])
def test_post_creates_the_app_from_the_seed_example(api, clusters, name, media):
    text = seed_yaml(clusters, name)
    sent = yaml.safe_load(text)

    response = send_yaml(api, "POST", APPS, text) if media == "yaml" else api.post(APPS, json=sent)

    assert response.status_code == 201, response.text
    created = response.json()
    metadata = created["metadata"]
    assert (created["apiVersion"], created["kind"]) == ("v1", "K2KApp")
    assert {k: metadata[k] for k in ("name", "displayName", "description", "lrn", "generation")} == {
        **sent["metadata"], "lrn": f"apps:k2k/{name}", "generation": 1}
    uuid.UUID(metadata["id"])
    datetime.fromisoformat(metadata["creationTimestamp"])
    assert created["spec"] == sent["spec"]
    assert name in created["status"]["kafka"]["consumerGroup"]


def test_server_set_metadata_in_the_body_is_ignored(api, clusters, name):
    doc = app_doc(clusters, name)
    doc["metadata"] |= {"id": "mine", "lrn": "apps:k2k/other", "generation": 7,
                        "creationTimestamp": "2000-01-01T00:00:00Z"}

    metadata = create(api, doc)["metadata"]

    assert metadata["id"] != "mine"
    assert (metadata["lrn"], metadata["generation"]) == (f"apps:k2k/{name}", 1)
    assert not metadata["creationTimestamp"].startswith("2000")


def test_post_of_an_existing_name_is_409_and_keeps_the_app(api, clusters, app, name):
    response = api.post(APPS, json=app_doc(clusters, name, topics=["other"]))

    assert_error(response, 409, "conflict")
    assert api.get(f"{APPS}/{name}").json() == app


def test_post_without_a_name_is_400(api, clusters):
    assert_invalid(api.post(APPS, json=app_doc(clusters)), "metadata.name", "required")


# read


def test_list_and_get_answer_the_app(api, app, name):
    listed = api.get(APPS)
    got = api.get(f"{APPS}/{name}")

    assert listed.status_code == got.status_code == 200
    assert [item for item in listed.json()["items"] if item["metadata"]["name"] == name] == [app]
    assert int(listed.headers["X-Last-Event-ID"]) >= 0
    assert got.json() == app


@pytest.mark.parametrize("path", ["", "/{name}"], ids=["list", "one"])
def test_accept_yaml_answers_yaml(api, app, name, path):
    url = APPS + path.format(name=name)

    as_yaml = api.get(url, headers={"Accept": "application/yaml"})

    assert as_yaml.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.text) == api.get(url).json()


def test_an_unknown_app_is_404(api, name):
    for method in ("GET", "DELETE"):
        assert_error(api.request(method, f"{APPS}/{name}"), 404, "not_found")
    assert_error(api.patch(f"{APPS}/{name}", json={"spec": {"paused": True}}), 404, "not_found")


# replace


def test_put_creates_then_replaces(api, clusters, name):
    path = f"{APPS}/{name}"

    created = send_yaml(api, "PUT", path, app_doc(clusters))
    replaced = api.put(path, json=app_doc(clusters, name, topics=["orders", "refunds"]))

    assert created.status_code == 201, created.text
    assert created.json()["metadata"]["generation"] == 1
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["spec"]["topics"] == ["orders", "refunds"]
    assert replaced.json()["metadata"] == {**created.json()["metadata"], "generation": 2}
    assert api.get(path).json() == replaced.json()


def test_a_metadata_only_change_keeps_the_generation(api, clusters, app, name):
    doc = app_doc(clusters, name, kubernetes=KUBERNETES)
    doc["metadata"]["displayName"] = "Renamed"

    replaced = api.put(f"{APPS}/{name}", json=doc).json()

    assert replaced["metadata"]["displayName"] == "Renamed"
    assert replaced["metadata"]["generation"] == app["metadata"]["generation"] == 1


def test_a_fetched_app_sent_back_unchanged_is_accepted_and_keeps_its_generation(api, app, name):
    fetched = api.get(f"{APPS}/{name}", headers={"Accept": "application/yaml"}).text

    response = send_yaml(api, "PUT", f"{APPS}/{name}", fetched)

    assert response.status_code == 200, response.text
    assert response.json() == app


@pytest.mark.parametrize("if_match", ['"1"', "1", 'W/"1"'])
def test_if_match_of_the_current_generation_is_accepted(api, clusters, app, name, if_match):
    response = api.put(f"{APPS}/{name}", json=app_doc(clusters, name, paused=True), headers={"If-Match": if_match})

    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["generation"] == 2


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_if_match_of_a_stale_generation_is_409_and_changes_nothing(api, clusters, app, name, method):
    path = f"{APPS}/{name}"
    api.patch(path, json={"spec": {"topics": ["refunds"]}}).raise_for_status()  # now at generation 2
    current = api.get(path).json()
    body = app_doc(clusters, name, paused=True) if method == "PUT" else {"spec": {"paused": True}}

    response = api.request(method, path, json=body, headers={"If-Match": '"1"'})

    assert_error(response, 409, "conflict")
    assert api.get(path).json() == current


def test_if_match_on_a_put_that_would_create_is_409(api, clusters, name):
    response = api.put(f"{APPS}/{name}", json=app_doc(clusters), headers={"If-Match": '"1"'})

    assert_error(response, 409, "conflict")
    assert_error(api.get(f"{APPS}/{name}"), 404, "not_found")


def test_if_match_that_is_not_a_generation_is_400(api, clusters, app, name):
    response = api.put(f"{APPS}/{name}", json=app_doc(clusters, name), headers={"If-Match": "abc"})

    assert_invalid(response, "If-Match", "invalid_format")


def test_put_with_another_name_in_the_body_is_400(api, clusters, name, unique_name):
    response = api.put(f"{APPS}/{name}", json=app_doc(clusters, unique_name()))

    assert_invalid(response, "metadata.name", "invalid")
    assert_error(api.get(f"{APPS}/{name}"), 404, "not_found")


# patch


def test_merge_patch_changes_only_what_it_names(api, app, name):
    response = api.patch(f"{APPS}/{name}", content=json.dumps({"spec": {"paused": True}}),
                         headers={"Content-Type": "application/merge-patch+json"})

    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["spec"] == {**app["spec"], "paused": True}
    assert patched["metadata"] == {**app["metadata"], "generation": 2}


def test_merge_patch_in_yaml(api, app, name):
    response = send_yaml(api, "PATCH", f"{APPS}/{name}", {"metadata": {"displayName": "Orders"}})

    assert response.status_code == 200, response.text
    assert response.json()["metadata"] == {**app["metadata"], "displayName": "Orders"}


def test_merge_patch_null_removes_an_optional_field(api, app, name):
    path = f"{APPS}/{name}"
    api.patch(path, json={"metadata": {"description": "temporary"}}).raise_for_status()

    patched = api.patch(path, json={"metadata": {"description": None}, "spec": {"kubernetes": None}}).json()

    assert "description" not in patched["metadata"]
    assert "kubernetes" not in patched["spec"]
    assert patched["metadata"]["generation"] == 2
    assert api.get(path).json() == patched


@pytest.mark.parametrize(("patch", "field"), [
    ({"spec": {"topics": []}}, "spec.topics"),
    ({"spec": {"replicator": {"schemaMapping": True}}}, "spec.replicator.schemaMapping"),
    ({"metadata": {"name": "other"}}, "metadata.name"),
    ({"labels": {}}, "labels"),
], ids=["empty topics", "schema mapping", "renaming", "unknown top-level field"])
def test_an_invalid_patch_is_400_and_keeps_the_app(api, app, name, patch, field):
    response = api.patch(f"{APPS}/{name}", json=patch)

    assert_error(response, 400, "bad_request", field)
    assert api.get(f"{APPS}/{name}").json() == app


# delete


def test_delete_answers_the_app_as_deleting_then_it_is_gone(api, app, name):
    response = api.delete(f"{APPS}/{name}")

    assert response.status_code == 200, response.text
    deleted = response.json()
    assert deleted["metadata"] == app["metadata"]
    assert deleted["status"]["state"] == "deleting"
    assert_error(api.get(f"{APPS}/{name}"), 404, "not_found")
    assert name not in [item["metadata"]["name"] for item in api.get(APPS).json()["items"]]


# validation

# id -> (spec changes, with the Clusters to reference, the field named, its error code)
BAD_SPECS = {
    "unknown source environment": (lambda c: {"sourceKafkaLRN": kafka_lrn("no-such-env", "source")},
                                   "spec.sourceKafkaLRN", "reference_not_found"),
    "unknown source connection": (lambda c: {"sourceKafkaLRN": kafka_lrn(c.source_env, "missing")},
                                  "spec.sourceKafkaLRN", "reference_not_found"),
    "unknown target connection": (lambda c: {"targetKafkaLRN": kafka_lrn(c.target_env, "missing")},
                                  "spec.targetKafkaLRN", "reference_not_found"),
    "badly formatted lrn": (lambda c: {"sourceKafkaLRN": f"kafka-connection/{c.source_env}/source"},
                            "spec.sourceKafkaLRN", "invalid_format"),
    "lrn with extra segment": (lambda c: {"targetKafkaLRN": c.target + "/extra"},
                               "spec.targetKafkaLRN", "invalid_format"),
    "source as the target": (lambda c: {"targetKafkaLRN": c.source}, "spec.targetKafkaLRN", "same_cluster"),
    "target with the source's brokers": (lambda c: {"targetKafkaLRN": c.twin}, "spec.targetKafkaLRN",
                                         "same_cluster"),
    "schema mapping": (lambda c: {"replicator": {"schemaMapping": True}}, "spec.replicator.schemaMapping",
                       "not_supported"),
    "no topics": (lambda c: {"topics": []}, "spec.topics", "too_short"),
    "bad topic name": (lambda c: {"topics": ["orders", "bad topic!"]}, "spec.topics.1", "invalid"),
    "bad topic regex": (lambda c: {"topics": ["regex:("]}, "spec.topics.0", "invalid"),
    "empty topic regex": (lambda c: {"topics": ["regex:"]}, "spec.topics.0", "invalid"),
    "unknown override": (lambda c: {"configOverrides": {"foo": "bar"}}, "spec.configOverrides.foo",
                         "unknown_field"),
    "reserved override": (lambda c: {"configOverrides": {"consumer.group.id": "mine"}},
                          "spec.configOverrides.consumer.group.id", "not_allowed"),
    "zero workers": (lambda c: {"configOverrides": {"workers": 0}}, "spec.configOverrides.workers",
                     "invalid_value"),
    "unknown namespace environment": (
        lambda c: {"deploymentNamespaceLRN": "kubernetes:namespace/no-such-env/incluster/k2k"},
        "spec.deploymentNamespaceLRN", "reference_not_found"),
    "badly formatted namespace": (lambda c: {"deploymentNamespaceLRN": f"kubernetes:namespace/{c.target_env}"},
                                  "spec.deploymentNamespaceLRN", "invalid_format"),
    "unknown spec field": (lambda c: {"sourceKafka": c.source}, "spec.sourceKafka", "unknown_field"),
}


@pytest.mark.parametrize(("changes", "field", "error"), BAD_SPECS.values(), ids=BAD_SPECS.keys())
def test_a_bad_spec_is_400_naming_the_field_and_creates_nothing(api, clusters, name, changes, field, error):
    response = api.post(APPS, json=app_doc(clusters, name, **changes(clusters)))

    assert_invalid(response, field, error)
    assert_error(api.get(f"{APPS}/{name}"), 404, "not_found")


# id -> (top-level fields replaced, the field named, its error code)
BAD_DOCUMENTS = {
    "bad app name": ({"metadata": {"name": "Bad_Name"}}, "metadata.name", "invalid_format"),
    "other kind": ({"kind": "Other"}, "kind", "invalid"),
    "unknown metadata field": ({"metadata": {"labels": {}}}, "metadata.labels", "unknown_field"),
}


@pytest.mark.parametrize(("changes", "field", "error"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_a_bad_document_is_400_naming_the_field(api, clusters, name, changes, field, error):
    doc = {**app_doc(clusters, name), **changes}

    assert_invalid(api.post(APPS, json=doc), field, error)
    assert_error(api.get(f"{APPS}/{name}"), 404, "not_found")


BAD_BODIES = {
    "malformed yaml": ("application/yaml", "spec: [unclosed\n  topics: {", "malformed_yaml"),
    "malformed json": ("application/json", '{"spec": ', "malformed_json"),
    "plain text": ("text/plain", "spec: {}", "unsupported_media_type"),
    "empty body": ("application/yaml", "  \n", "required"),
    "not an object": ("application/yaml", "- a\n- b\n", "invalid"),
}


@pytest.mark.parametrize(("content_type", "content", "error"), BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_an_unreadable_body_is_400_on_the_body(api, content_type, content, error):
    response = api.post(APPS, content=content, headers={"Content-Type": content_type})

    assert_invalid(response, "body", error)


def test_a_namespace_in_an_existing_environment_is_accepted(api, clusters, name):
    lrn = f"kubernetes:namespace/{clusters.target_env}/incluster/k2k"

    created = create(api, app_doc(clusters, name, deploymentNamespaceLRN=lrn))

    assert created["spec"]["deploymentNamespaceLRN"] == lrn


# offsets


def offsets_path(name: str, topic: str = "orders") -> str:
    return f"{APPS}/{name}/offsets/{topic}"


def test_editing_offsets_of_a_running_app_is_409(api, app, name):
    response = api.patch(offsets_path(name), json={"offsets": [{"partition": 0, "offset": 0}]})

    assert_error(response, 409, "conflict")


def test_editing_offsets_of_an_unknown_app_is_404(api, name):
    response = api.patch(offsets_path(name), json={"offsets": [{"partition": 0, "offset": 0}]})

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(("body", "field"), [
    ({"offsets": []}, "offsets"),
    ({"offsets": [{"partition": -1, "offset": 0}]}, "offsets.0.partition"),
    ({"offsets": [{"partition": 0, "offset": -5}]}, "offsets.0.offset"),
    ({"offsets": [{"partition": 0}]}, "offsets.0.offset"),
    ({}, "offsets"),
], ids=["no offsets", "negative partition", "negative offset", "missing offset", "empty object"])
def test_a_malformed_offsets_body_is_400(api, app, name, body, field):
    assert_error(api.patch(offsets_path(name), json=body), 400, "bad_request", field)


# live feed


def test_app_changes_arrive_on_the_live_feed(api, clusters, name):
    with live_and_ready(api, LIVE) as (stream, _):
        created = create(api, app_doc(clusters, name))
        patched = api.patch(f"{APPS}/{name}", json={"spec": {"paused": True}}).json()
        api.delete(f"{APPS}/{name}").raise_for_status()
        events = [stream.next_event() for _ in range(3)]

    assert [(e.event, e.data) for e in events] == [
        ("k2k.created", created),
        ("k2k.updated", patched),
        ("k2k.deleted", {"name": name}),
    ]


def test_the_live_feed_carries_no_environment_events(api, make_env, clusters, name):
    with live_and_ready(api, LIVE) as (stream, _):
        make_env()
        create(api, app_doc(clusters, name))
        event = stream.next_event()

    assert (event.event, event.data["metadata"]["name"]) == ("k2k.created", name)


# auth and description

# Every operation of seed 000.
OPERATIONS = [
    ("GET", APPS),
    ("POST", APPS),
    ("GET", APPS + "/{name}"),
    ("PUT", APPS + "/{name}"),
    ("PATCH", APPS + "/{name}"),
    ("DELETE", APPS + "/{name}"),
    ("GET", APPS + "/{name}/offsets/{topic_name}"),
    ("PATCH", APPS + "/{name}/offsets/{topic_name}"),
    ("GET", LIVE),
]


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_is_401_without_a_bearer(hq, method, path):
    with hq.client(token=None) as anonymous:
        response = anonymous.request(method, path.format(name="some-app", topic_name="orders"))

    assert_error(response, 401, "unauthorized")


def test_openapi_describes_the_k2k_operations(hq):
    with hq.client(token=None) as anonymous:
        openapi = anonymous.get("/openapi.json").json()

    described = {(method.upper(), path) for path, item in openapi["paths"].items() for method in item}
    assert set(OPERATIONS) <= described
    assert "K2KAppInput" in openapi["components"]["schemas"]
    post_body = openapi["paths"][APPS]["post"]["requestBody"]["content"]
    assert set(post_body) >= {"application/json", "application/yaml"}
