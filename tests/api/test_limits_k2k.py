"""Limits at the edge, K2K routes (issue 11): the body limit, deep nesting on every method,
YAML without aliases or tags and errors that quote positions, never text; strict JSON, media
types, bounded lists and maps, strict booleans and a bounded If-Match. Each refusal is a 4xx in
the HQ shape naming the field (or `body`), never a 500."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.api.hq import assert_error
from tests.api.k2k_apps import APPS, app_doc, send_yaml

BODY_LIMIT = 1024 * 1024  # the README's, for K2K routes


def refused(response, field: str, error: str, status: int = 400, type_: str = "bad_request") -> dict:
    body = assert_error(response, status, type_, field)
    assert body["invalid_fields"][0]["error"] == error, body
    return body


def send(api, method: str, path: str, content: bytes | str, content_type: str):
    return api.request(method, path, content=content, headers={"Content-Type": content_type})


# body size (defect 6)


def test_a_10_mb_yaml_body_is_413(api, clusters, name):
    doc = app_doc(clusters, name, topics=[f"topic-{i:07d}" for i in range(600_000)])

    response = send_yaml(api, "POST", APPS, doc)

    refused(response, "body", "too_large", 413, "payload_too_large")
    assert_error(api.get(f"{APPS}/{name}"), 404, "not_found")


def test_a_streamed_yaml_body_without_a_length_is_cut_at_the_limit(api):
    chunks = (b"# padding\n" * 6554 for _ in range(BODY_LIMIT // 65540 + 2))

    response = api.post(APPS, content=chunks, headers={"Content-Type": "application/yaml"})

    refused(response, "body", "too_large", 413, "payload_too_large")


def test_a_million_topics_in_json_are_refused(api, clusters, name):
    doc = app_doc(clusters, name, topics=[f"t{i}" for i in range(1_000_000)])

    refused(api.post(APPS, json=doc), "body", "too_large", 413, "payload_too_large")


def test_more_topics_than_an_app_copies_are_400_naming_the_list(api, clusters, name):
    doc = app_doc(clusters, name, topics=[f"topic-{i}" for i in range(1001)])

    refused(api.post(APPS, json=doc), "spec.topics", "too_long")


def test_more_config_overrides_than_allowed_are_400(api, clusters, name):
    doc = app_doc(clusters, name, configOverrides={f"consumer.x{i}": 1 for i in range(257)})

    refused(api.post(APPS, json=doc), "spec.configOverrides", "too_long")


# deep nesting on every method (defect 2)


DEPTH = 2000  # the old code's recursion broke at about 1,000
DEEP_JSON = "[" * DEPTH + "]" * DEPTH


def test_deep_nesting_posted_as_json_is_400(api, clusters, name):
    text = json.dumps(app_doc(clusters, name, configOverrides={"x": "PLACE"})).replace('"PLACE"', DEEP_JSON)

    refused(send(api, "POST", APPS, text, "application/json"), "body", "too_deep")


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_deep_nesting_sent_as_yaml_is_400(api, clusters, name, method):
    text = yaml.safe_dump(app_doc(clusters, name, configOverrides={"x": "PLACE"})).replace(
        "PLACE", "[" * DEPTH + "]" * DEPTH)
    path = APPS if method == "POST" else f"{APPS}/{name}"

    refused(send(api, method, path, text, "application/yaml"), "body", "too_deep")


def test_deep_nesting_in_a_merge_patch_is_400_and_keeps_the_app(api, app, name):
    patch = '{"spec": {"configOverrides": ' + '{"a": ' * DEPTH + '"x"' + "}" * DEPTH + "}}"

    refused(send(api, "PATCH", f"{APPS}/{name}", patch, "application/merge-patch+json"), "body", "too_deep")
    assert api.get(f"{APPS}/{name}").json()["spec"] == app["spec"]


# YAML: aliases (defect 7), tags, positions not text


def alias_bomb(levels: int = 7, keys: int = 9) -> str:
    lines = ["spec:", "  configOverrides:", "    l0: &l0 {" + ", ".join(f"k{k}: x" for k in range(keys)) + "}"]
    lines += [f"    l{level}: &l{level} {{" + ", ".join(f"k{k}: *l{level - 1}" for k in range(keys)) + "}"
              for level in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_a_yaml_alias_bomb_is_refused_at_parse_time(api, app, name):
    response = send(api, "PATCH", f"{APPS}/{name}", alias_bomb(), "application/yaml")

    refused(response, "body", "yaml_alias_not_allowed")
    assert api.get(f"{APPS}/{name}").json()["spec"] == app["spec"]


def test_a_yaml_alias_is_refused_even_when_harmless(api, clusters, name):
    text = yaml.safe_dump(app_doc(clusters, name)) + "extra: &a {}\n"

    body = refused(send(api, "POST", APPS, text, "application/yaml"), "body", "yaml_alias_not_allowed")
    assert "line" in body["title"]


@pytest.mark.parametrize("tagged", ["!!binary aGVsbG8=", "!!set {a, b}", "!!python/object/apply:os.getpid []",
                                    "!custom x"])
def test_a_yaml_tag_beyond_json_types_is_refused(api, clusters, name, tagged):
    text = yaml.safe_dump(app_doc(clusters, name, configOverrides={"x": "PLACE"})).replace("PLACE", tagged)

    refused(send(api, "POST", APPS, text, "application/yaml"), "body", "yaml_tag_not_allowed")


SECRET = "hunter2-in-the-wrong-place"


def test_a_malformed_yaml_answer_quotes_the_position_not_the_line(api):
    text = f"spec:\n  sourceKafkaLRN: password: {SECRET}\n"

    body = refused(send(api, "POST", APPS, text, "application/yaml"), "body", "malformed_yaml")
    assert "line 2, column" in body["title"]
    assert SECRET not in json.dumps(body)


def test_an_unquoted_yaml_timestamp_is_read_as_the_string_it_is(api, clusters, name):
    text = yaml.safe_dump(app_doc(clusters, name)).replace(
        "metadata:\n", "metadata:\n  creationTimestamp: 2026-11-23T07:00:00Z\n")

    assert send(api, "POST", APPS, text, "application/yaml").status_code == 201


def test_a_100k_digit_yaml_number_is_400_naming_it(api, clusters, name):
    text = yaml.safe_dump(app_doc(clusters, name, configOverrides={"consumer.fetch.min.bytes": "PLACE"}))

    response = send(api, "POST", APPS, text.replace("PLACE", "1" * 100_000), "application/yaml")

    refused(response, "spec.configOverrides.consumer.fetch.min.bytes", "number_too_long")


def test_a_duplicate_yaml_key_is_400_naming_it(api, clusters, name):
    text = yaml.safe_dump(app_doc(clusters, name)).replace("metadata:\n", "metadata:\n  displayName: a\n"
                                                           "  displayName: b\n")

    refused(send(api, "POST", APPS, text, "application/yaml"), "metadata.displayName", "duplicate_key")


# strict JSON, strings, booleans (defect 3 and 11)


def test_a_lone_surrogate_in_the_display_name_is_400(api, clusters, name):
    text = json.dumps(app_doc(clusters, name)).replace('"metadata": {', '"metadata": {"displayName": "\\ud800", ')

    refused(send(api, "POST", APPS, text, "application/json"), "metadata.displayName", "string_unicode")
    assert_error(api.get(f"{APPS}/{name}"), 404, "not_found")


def test_a_duplicate_json_key_is_400_naming_it(api, clusters, name):
    text = json.dumps(app_doc(clusters, name)).replace('"kind": "K2KApp"', '"kind": "K2KApp", "kind": "K2KApp"')

    refused(send(api, "POST", APPS, text, "application/json"), "kind", "duplicate_key")


@pytest.mark.parametrize("paused", ["yes", "true", 1])
def test_paused_takes_only_a_boolean(api, clusters, name, paused):
    refused(api.post(APPS, json=app_doc(clusters, name, paused=paused)), "spec.paused", "bool_type")


@pytest.mark.parametrize("content_type", ["application/json; charset=latin-1", "application/vnd.foo+json",
                                          "application/yaml; charset=iso-8859-1"])
def test_a_body_in_another_media_type_is_400(api, clusters, name, content_type):
    response = send(api, "POST", APPS, json.dumps(app_doc(clusters, name)), content_type)

    refused(response, "body", "unsupported_media_type")
    assert_error(api.get(f"{APPS}/{name}"), 404, "not_found")


def test_yaml_in_utf8_is_read(api, clusters, name):
    response = send(api, "POST", APPS, yaml.safe_dump(app_doc(clusters, name)), "application/yaml; charset=utf-8")

    assert response.status_code == 201, response.text


# headers (defect 4)


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
def test_an_if_match_of_5000_digits_is_400_naming_the_header(api, app, name, method):
    body = {"spec": {"paused": True}} if method == "PATCH" else app_doc_from(app)

    response = api.request(method, f"{APPS}/{name}", json=body, headers={"If-Match": "9" * 5000})

    refused(response, "If-Match", "invalid_format")
    assert api.get(f"{APPS}/{name}").json()["metadata"]["generation"] == 1


def app_doc_from(answer: dict) -> dict:
    return {"metadata": {"name": answer["metadata"]["name"]}, "spec": {**answer["spec"], "paused": True}}


def test_an_offsets_body_in_strict_json(api, app, name):
    text = '{"offsets": [{"partition": 0, "offset": 1, "offset": 2}]}'

    response = send(api, "PATCH", f"{APPS}/{name}/offsets/orders", text, "application/json")

    refused(response, "offsets.0.offset", "duplicate_key")
