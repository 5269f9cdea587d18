"""The body parsers (backend/bodies) and the models' bounds, without a server: what each
refuses, the field it names, and that ordinary documents still read as before."""

from __future__ import annotations

import json

import pytest
import yaml
from pydantic import ValidationError

from backend.bodies.policy import MAX_DEPTH, BodyRefused
from backend.bodies.strict_json import parse_json
from backend.bodies.strict_yaml import parse_yaml
from backend.environments.models import EnvironmentCreate, KafkaConnectionSpec, Tier
from backend.k2k.models import K2KAppInput


def refusal(parse, text: str | bytes) -> tuple[str, str]:
    with pytest.raises(BodyRefused) as caught:
        parse(text.encode() if isinstance(text, str) else text)
    return caught.value.field, caught.value.error


def test_json_reads_an_ordinary_document():
    doc = {"a": [1, 2.5, True, None, "x"], "b": {"c": "é"}}

    assert parse_json(json.dumps(doc).encode()) == doc


def test_json_depth_is_counted_outside_strings():
    brackets_in_a_string = json.dumps({"a": "[" * 500 + "{" * 500})

    assert parse_json(brackets_in_a_string.encode()) == json.loads(brackets_in_a_string)
    assert refusal(parse_json, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)) == ("body", "too_deep")
    assert parse_json(("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode())


JSON_REFUSALS = {
    "duplicate key": ('{"a": {"b": 1, "b": 2}}', ("a.b", "duplicate_key")),
    "duplicate key in a list item": ('[{"x": 1}, {"x": 1, "x": 2}]', ("1.x", "duplicate_key")),
    "huge integer": ('{"n": ' + "9" * 5000 + "}", ("n", "number_too_long")),
    "huge float": ('{"n": 1.' + "5" * 5000 + "}", ("n", "number_too_long")),
    "overflowing float": ('{"n": 1e999}', ("n", "invalid_number")),
    "Infinity": ('{"n": -Infinity}', ("n", "invalid_number")),
    "lone surrogate": ('{"a": ["ok", "\\udfff"]}', ("a.1", "string_unicode")),
    "malformed": ('{"a": ', ("body", "malformed_json")),
    "latin-1 bytes": (b'{"a": "\xe9"}', ("body", "invalid_encoding")),
}


@pytest.mark.parametrize(("text", "expected"), JSON_REFUSALS.values(), ids=JSON_REFUSALS.keys())
def test_json_refuses_naming_the_field(text, expected):
    assert refusal(parse_json, text) == expected


@pytest.mark.parametrize("text", ["a: yes\nb: 0x1f\nc: 1_000\nd: ~\ne: !!str 12\nf: '1'\n", "- [1, {b: c}]\n- d\n",
                                  "a: |\n  multi\n  line\n", ""])
def test_yaml_reads_scalars_as_safe_load_does(text):
    assert parse_yaml(text.encode()) == yaml.safe_load(text)


def test_yaml_reads_an_ordinary_document_with_json_types():
    text = "a: [1, 2.5, true, null, x]\nb:\n  c: é\n  when: 2026-11-23T07:00:00Z\n  day: 2026-11-23\n"

    assert parse_yaml(text.encode()) == {"a": [1, 2.5, True, None, "x"],
                                         "b": {"c": "é", "when": "2026-11-23T07:00:00Z", "day": "2026-11-23"}}


YAML_REFUSALS = {
    "alias": ("a: &x 1\nb: *x\n", ("body", "yaml_alias_not_allowed")),
    "anchor alone": ("a: &x 1\n", ("body", "yaml_alias_not_allowed")),
    "merge of an alias": ("base: &b {x: 1}\nother:\n  <<: *b\n", ("body", "yaml_alias_not_allowed")),
    "binary tag": ("a: !!binary aGk=\n", ("body", "yaml_tag_not_allowed")),
    "python tag": ("a: !!python/name:os.system\n", ("body", "yaml_tag_not_allowed")),
    "local tag": ("a: !secret x\n", ("body", "yaml_tag_not_allowed")),
    "deep block nesting": ("".join("  " * i + "a:\n" for i in range(MAX_DEPTH + 1)) + "  " * (MAX_DEPTH + 1) + "x\n",
                           ("body", "too_deep")),
    "deep flow nesting": ("a: " + "[" * 5000 + "]" * 5000 + "\n", ("body", "too_deep")),
    "duplicate key": ("a:\n  b: 1\n  b: 2\n", ("a.b", "duplicate_key")),
    "huge integer": ("n: " + "9" * 5000 + "\n", ("n", "number_too_long")),
    "huge hex integer": ("n: 0x" + "f" * 5000 + "\n", ("n", "number_too_long")),
    "infinity": ("n: .inf\n", ("n", "invalid_number")),
    "a list as a key": ("? [a, b]\n: x\n", ("body", "malformed_yaml")),
    "inline merge key": ("a:\n  <<: {x: 1}\n", ("body", "yaml_alias_not_allowed")),
    "two documents": ("a: 1\n---\nb: 2\n", ("body", "malformed_yaml")),
    "malformed": ("a: [unclosed\n", ("body", "malformed_yaml")),
    "control character": ("a: \x07\n", ("body", "malformed_yaml")),
}


@pytest.mark.parametrize(("text", "expected"), YAML_REFUSALS.values(), ids=YAML_REFUSALS.keys())
def test_yaml_refuses_naming_the_field(text, expected):
    assert refusal(parse_yaml, text) == expected


def test_a_yaml_alias_bomb_is_refused_before_anything_is_built():
    levels = ["l0: &l0 [" + ", ".join(["x"] * 9) + "]"]
    levels += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * 9) + "]" for n in range(1, 9)]

    assert refusal(parse_yaml, "\n".join(levels)) == ("body", "yaml_alias_not_allowed")


def test_a_yaml_error_quotes_the_position_not_the_text():
    with pytest.raises(BodyRefused) as caught:
        parse_yaml(b"user: admin\npassword: s3cret-value: oops\n")

    assert "line 2, column" in caught.value.title
    assert "s3cret" not in caught.value.title


# models


def invalid_locations(model, document) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(document)
    return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in caught.value.errors()]


def test_900000_broker_addresses_are_refused_by_the_model():
    addresses = [f"b{i}:9092" for i in range(900_000)]

    assert invalid_locations(KafkaConnectionSpec, {"override_broker_addresses": addresses}) == [
        ("override_broker_addresses", "too_long")]


def test_enums_and_iso_strings_from_json_still_read():
    created = EnvironmentCreate.model_validate(parse_json(b'{"name": "a", "tier": "staging"}'))
    app = K2KAppInput.model_validate(parse_json(json.dumps({
        "metadata": {"name": "a", "creationTimestamp": "2026-11-23T07:00:00Z", "generation": 3},
        "spec": {"sourceKafkaLRN": "s", "targetKafkaLRN": "t", "topics": ["orders"], "paused": True},
    }).encode()))

    assert created.tier is Tier.staging
    assert (app.metadata.creationTimestamp, app.metadata.generation, app.spec.paused) == (
        "2026-11-23T07:00:00Z", 3, True)


@pytest.mark.parametrize("generation", ["3", 3.0, True])
def test_a_generation_is_an_integer_on_the_wire(generation):
    document = {"metadata": {"generation": generation}, "spec": {"sourceKafkaLRN": "s", "targetKafkaLRN": "t",
                                                                 "topics": ["orders"]}}

    assert invalid_locations(K2KAppInput, document)[0][0] == "metadata.generation"
