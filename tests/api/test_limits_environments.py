"""Limits at the edge, environment routes (issue 11): the body limit, strict JSON and media
types, bounded lists, strings and maps, strict booleans and no null where an object is
required. Each refusal is a 4xx in the HQ shape naming the field (or `body`)."""

from __future__ import annotations

import json

import pytest

from tests.api.hq import assert_error

BODY_LIMIT = 256 * 1024  # the README's, for environment routes


@pytest.fixture
def env(make_env) -> str:
    return make_env()["name"]


def refused(response, field: str, error: str, status: int = 400, type_: str = "bad_request") -> dict:
    body = assert_error(response, status, type_, field)
    assert body["invalid_fields"][0]["error"] == error, body
    return body


def post_raw(api, content: bytes | str, content_type: str = "application/json"):
    return api.post("/v1/environments", content=content, headers={"Content-Type": content_type})


# body size


def test_a_body_over_the_limit_is_413_naming_the_body(api):
    padding = " " * BODY_LIMIT
    response = post_raw(api, '{"name": "too-large"' + padding + "}")

    refused(response, "body", "too_large", 413, "payload_too_large")
    assert_error(api.get("/v1/environments/too-large"), 404, "not_found")


def test_a_streamed_body_without_a_length_is_cut_at_the_limit(api):
    chunks = (b" " * 65536 for _ in range(BODY_LIMIT // 65536 + 2))

    response = api.post("/v1/environments", content=chunks, headers={"Content-Type": "application/json"})

    refused(response, "body", "too_large", 413, "payload_too_large")


def test_a_body_of_exactly_the_limit_is_read(api, unique_name):
    start = f'{{"name": "{unique_name()}"'
    response = post_raw(api, start + " " * (BODY_LIMIT - len(start) - 1) + "}")

    assert response.status_code == 201, response.text


# strict JSON


def nested(depth: int) -> str:
    return '{"name": "deep", "metadata": ' + '{"a": ' * depth + '"x"' + "}" * depth + "}"


UNREADABLE = {
    "malformed utf-8": (b'{"name": "caf\xc3"}', "body", "invalid_encoding"),
    "deep nesting": (nested(5000), "body", "too_deep"),
    "100k-digit number": ('{"name": "digits", "metadata": {"a": ' + "1" * 100_000 + "}}", "metadata.a",
                          "number_too_long"),
    "duplicate key": ('{"name": "first", "name": "second"}', "name", "duplicate_key"),
    "nested duplicate key": ('{"name": "dup", "metadata": {"a": "1", "a": "2"}}', "metadata.a", "duplicate_key"),
    "NaN": ('{"name": "nan", "metadata": {"a": NaN}}', "metadata.a", "invalid_number"),
    "lone surrogate in a key": ('{"name": "keys", "metadata": {"\\ud800": "x"}}', "metadata.\\ud800",
                                "string_unicode"),
}


@pytest.mark.parametrize(("content", "field", "error"), UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_json_body_is_400_naming_the_field(api, content, field, error):
    refused(post_raw(api, content), field, error)


def test_a_lone_surrogate_in_a_value_is_400_naming_it(api):
    refused(post_raw(api, '{"name": "surrogate", "display_name": "\\ud800"}'), "display_name", "string_unicode")


MEDIA_TYPES = {
    "latin-1": "application/json; charset=latin-1",
    "vendor json": "application/vnd.foo+json",
    "none": "",
    "text": "text/plain",
}


@pytest.mark.parametrize("content_type", MEDIA_TYPES.values(), ids=MEDIA_TYPES.keys())
def test_a_body_not_sent_as_json_is_400_naming_the_body(api, unique_name, content_type):
    name = unique_name()

    response = post_raw(api, json.dumps({"name": name}), content_type)

    refused(response, "body", "unsupported_media_type")
    assert_error(api.get(f"/v1/environments/{name}"), 404, "not_found")


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/json; charset=UTF-8",
                                          "application/merge-patch+json"])
def test_json_in_utf8_is_read(api, unique_name, content_type):
    assert post_raw(api, json.dumps({"name": unique_name()}), content_type).status_code == 201


# bounded maps and strings; PATCH takes metadata by the create's rules


def test_more_than_64_metadata_keys_are_400(api):
    metadata = {f"k{i}": "v" for i in range(65)}

    refused(api.post("/v1/environments", json={"name": "many-keys", "metadata": metadata}), "metadata", "too_long")


BAD_PATCH_METADATA = {
    "empty key": ('{"metadata": {"": "x"}}', "metadata.", "string_too_short"),
    "254-character key": (json.dumps({"metadata": {"k" * 254: "x"}}), "metadata." + "k" * 254, "too_long"),
    "lone surrogate key": ('{"metadata": {"\\udc00": "x"}}', "metadata.\\udc00", "string_unicode"),
    "65 keys": (json.dumps({"metadata": {f"k{i}": "v" for i in range(65)}}), "metadata", "too_long"),
}


@pytest.mark.parametrize(("content", "field", "error"), BAD_PATCH_METADATA.values(), ids=BAD_PATCH_METADATA.keys())
def test_patch_refuses_the_metadata_keys_create_refuses(api, make_env, content, field, error):
    env = make_env(metadata={"team": "core"})

    response = api.patch(f"/v1/environments/{env['name']}", content=content,
                         headers={"Content-Type": "application/merge-patch+json"})

    refused(response, field, error)
    assert api.get(f"/v1/environments/{env['name']}").json()["metadata"] == {"team": "core"}


def test_a_patch_that_would_hold_more_than_64_metadata_keys_is_400(api, make_env):
    env = make_env(metadata={f"old{i}": "v" for i in range(40)})

    response = api.patch(f"/v1/environments/{env['name']}", json={"metadata": {f"new{i}": "v" for i in range(40)}})

    refused(response, "metadata", "too_long")
    assert len(api.get(f"/v1/environments/{env['name']}").json()["metadata"]) == 40


# Kafka connections: bounded lists, no null for an object, strict booleans


def test_900000_broker_addresses_are_refused(api, env):
    addresses = [f"b{i}:9092" for i in range(900_000)]

    response = api.put(f"/v1/environments/{env}/kafka-connections/main",
                       json={"override_broker_addresses": addresses})

    refused(response, "body", "too_large", 413, "payload_too_large")


def test_more_broker_addresses_than_a_cluster_has_are_400_naming_the_list(api, env):
    addresses = [f"broker-{i}.example.com:9092" for i in range(65)]

    response = api.put(f"/v1/environments/{env}/kafka-connections/main",
                       json={"override_broker_addresses": addresses})

    refused(response, "override_broker_addresses", "too_long")
    assert_error(api.get(f"/v1/environments/{env}/kafka-connections/main"), 404, "not_found")


BAD_CONNECTIONS = {
    "null sasl_scram": ({"auth": {"sasl_scram": None}}, "auth.sasl_scram", "null_not_allowed"),
    "null tls": ({"auth": {"tls": None}}, "auth.tls", "null_not_allowed"),
    "null plaintext": ({"auth": {"plaintext": None}}, "auth.plaintext", "null_not_allowed"),
    "tls 'yes'": ({"auth": {"sasl_plain": {"username": "u", "password": "p", "tls": "yes"}}},
                  "auth.sasl_plain.tls", "bool_type"),
    "tls 'true'": ({"auth": {"sasl_plain": {"username": "u", "password": "p", "tls": "true"}}},
                   "auth.sasl_plain.tls", "bool_type"),
    "tls 1": ({"auth": {"sasl_plain": {"username": "u", "password": "p", "tls": 1}}},
              "auth.sasl_plain.tls", "bool_type"),
    "5,000-character password": ({"auth": {"sasl_plain": {"username": "u", "password": "p" * 5000}}},
                                 "auth.sasl_plain.password", "too_long"),
    "300-character broker host": ({"override_broker_addresses": ["h" * 300 + ":9092"]},
                                  "override_broker_addresses.0", "too_long"),
}


@pytest.mark.parametrize(("spec", "field", "error"), BAD_CONNECTIONS.values(), ids=BAD_CONNECTIONS.keys())
def test_a_bad_connection_is_400_naming_the_field_and_stores_nothing(hq, api, env, spec, field, error):
    response = api.put(f"/v1/environments/{env}/kafka-connections/main", json=spec)

    refused(response, field, error)
    assert hq.store.get_resource(env, "kafka-connection", "main") is None


BAD_CONNECT_CLUSTERS = {
    "null basic": ({"urls": ["http://connect:8083"], "auth": {"basic": None}}, "auth.basic", "null_not_allowed"),
    "17 urls": ({"urls": [f"http://connect-{i}:8083" for i in range(17)]}, "urls", "too_long"),
}


@pytest.mark.parametrize(("spec", "field", "error"), BAD_CONNECT_CLUSTERS.values(), ids=BAD_CONNECT_CLUSTERS.keys())
def test_a_bad_connect_cluster_is_400_naming_the_field(api, env, spec, field, error):
    refused(api.put(f"/v1/environments/{env}/connect-clusters/main", json=spec), field, error)


def test_the_openapi_describes_the_bodies_it_reads(hq):
    with hq.client(token=None) as anonymous:
        openapi = anonymous.get("/openapi.json").json()

    create = openapi["paths"]["/v1/environments"]["post"]["requestBody"]["content"]["application/json"]
    put = openapi["paths"]["/v1/environments/{env_name}/kafka-connections/{conn_name}"]["put"]["requestBody"]
    assert create["schema"] == {"$ref": "#/components/schemas/EnvironmentCreate"}
    assert put["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/KafkaConnectionSpec"}
    assert {"EnvironmentCreate", "EnvironmentPatch", "KafkaConnectionSpec"} <= set(openapi["components"]["schemas"])
