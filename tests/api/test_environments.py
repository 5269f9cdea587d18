"""Environments (seed 001): create, list, get, patch, delete, renew-key, the proxy prefix."""

from __future__ import annotations

import pytest

from backend.auth import hash_secret
from tests.api.hq import assert_error

PUBLIC_KEYS = {"name", "display_name", "lrn", "id", "created_at", "tier", "status", "metadata"}


def test_create_returns_the_environment_with_its_agent_key(api, prefix, unique_name):
    name = unique_name()
    response = api.post(f"{prefix}/environments", json={"name": name})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {*PUBLIC_KEYS, "agent_key"}
    assert body["name"] == name
    assert body["display_name"] == name, "display_name defaults to name"
    assert body["tier"] == "development"
    assert body["metadata"] == {}
    assert body["lrn"] == f"environments:environment/{name}"
    assert body["status"]["agent_connected"] is False
    assert body["agent_key"].startswith("shq_agent_")


def test_create_keeps_the_given_fields(api, prefix, unique_name):
    fields = {"name": unique_name(), "display_name": "Payments (EU)", "tier": "production",
              "metadata": {"team": "payments", "region": "eu-west-1"}}

    created = api.post(f"{prefix}/environments", json=fields).json()
    fetched = api.get(f"{prefix}/environments/{fields['name']}").json()

    for answer in (created, fetched):
        assert {k: answer[k] for k in fields} == fields


def test_agent_key_is_shown_on_create_only(api, prefix, make_env):
    env = make_env()

    fetched = api.get(f"{prefix}/environments/{env['name']}").json()
    listed = next(e for e in api.get(f"{prefix}/environments").json()["items"] if e["name"] == env["name"])

    assert set(fetched) == set(listed) == PUBLIC_KEYS
    assert fetched == listed == {k: v for k, v in env.items() if k != "agent_key"}


def test_list_holds_every_environment_sorted_by_name(api, prefix, make_env):
    names = {make_env()["name"] for _ in range(3)}

    listed = [e["name"] for e in api.get(f"{prefix}/environments").json()["items"]]

    assert names <= set(listed)
    assert listed == sorted(listed)


def test_a_63_character_name_is_accepted(api, prefix, unique_name):
    name = f"{unique_name()}-{'x' * 63}"[:63]

    assert api.post(f"{prefix}/environments", json={"name": name}).status_code == 201
    assert api.get(f"{prefix}/environments/{name}").json()["name"] == name


NAME = "bad-create"  # never created: each rejected body below must leave no trace
BAD_CREATES = {
    "uppercase name": ({"name": "Payments"}, "name", "invalid_format"),
    "leading hyphen": ({"name": "-payments"}, "name", "invalid_format"),
    "trailing hyphen": ({"name": "payments-"}, "name", "invalid_format"),
    "64 characters": ({"name": "a" * 64}, "name", "invalid_format"),
    "underscore": ({"name": "pay_ments"}, "name", "invalid_format"),
    "missing name": ({"tier": "staging"}, "name", "required"),
    "unknown tier": ({"name": NAME, "tier": "prod"}, "tier", "invalid_value"),
    "unknown field": ({"name": NAME, "colour": "blue"}, "colour", "unknown_field"),
    "empty display name": ({"name": NAME, "display_name": ""}, "display_name", "string_too_short"),
    "metadata not strings": ({"name": NAME, "metadata": {"a": 1}}, "metadata.a", "string_type"),
}


@pytest.mark.parametrize(("body", "field", "error"), BAD_CREATES.values(), ids=BAD_CREATES.keys())
def test_a_bad_create_is_400_naming_the_field_and_writes_nothing(api, prefix, body, field, error):
    before = api.get(f"{prefix}/environments").json()

    response = api.post(f"{prefix}/environments", json=body)

    assert_error(response, 400, "bad_request", field)
    assert response.json()["invalid_fields"][0]["error"] == error
    assert api.get(f"{prefix}/environments").json() == before


def test_malformed_json_is_400_naming_the_body(api, prefix):
    response = api.post(f"{prefix}/environments", content=b'{"name": "x",',
                        headers={"Content-Type": "application/json"})

    body = assert_error(response, 400, "bad_request", "body")
    assert body["invalid_fields"][0]["error"] == "malformed_json"


def test_a_duplicate_create_is_409_and_keeps_the_original(api, prefix, make_env):
    env = make_env(display_name="original")

    response = api.post(f"{prefix}/environments", json={"name": env["name"], "display_name": "second"})

    assert_error(response, 409, "conflict")
    assert api.get(f"{prefix}/environments/{env['name']}").json()["display_name"] == "original"


def test_patch_changes_only_the_fields_it_names(api, prefix, make_env):
    env = make_env(tier="staging", metadata={"team": "core"})

    patched = api.patch(f"{prefix}/environments/{env['name']}", json={"display_name": "Core staging"})

    assert patched.status_code == 200
    assert patched.json()["display_name"] == "Core staging"
    assert (patched.json()["tier"], patched.json()["metadata"]) == ("staging", {"team": "core"})
    assert api.get(f"{prefix}/environments/{env['name']}").json() == patched.json()


def test_patch_changes_the_tier(api, prefix, make_env):
    env = make_env()

    patched = api.patch(f"{prefix}/environments/{env['name']}", json={"tier": "production"}).json()

    assert patched["tier"] == "production"
    assert patched["display_name"] == env["display_name"]


def test_patch_merges_metadata_and_null_removes_a_key(api, prefix, make_env):
    env = make_env(metadata={"keep": "1", "change": "2", "drop": "3"})

    patched = api.patch(f"{prefix}/environments/{env['name']}",
                        json={"metadata": {"change": "two", "drop": None, "add": "4"}})

    assert patched.json()["metadata"] == {"keep": "1", "change": "two", "add": "4"}


def test_a_rejected_patch_changes_nothing(api, prefix, make_env):
    env = make_env()
    path = f"{prefix}/environments/{env['name']}"
    before = api.get(path).json()

    response = api.patch(path, json={"display_name": "would be fine", "tier": "gold"})

    assert_error(response, 400, "bad_request", "tier")
    assert api.get(path).json() == before


def test_renew_key_answers_a_new_key_and_invalidates_the_old(hq, api, prefix, make_env):
    env = make_env()

    renewed = api.post(f"{prefix}/environments/{env['name']}/renew-key")

    assert renewed.status_code == 200
    new_key = renewed.json()["agent_key"]
    assert new_key != env["agent_key"]
    assert {k: v for k, v in renewed.json().items() if k != "agent_key"} == {
        k: v for k, v in env.items() if k != "agent_key"
    }
    assert hq.store.environment_for_agent_key(hash_secret(new_key)) == env["name"]
    assert hq.store.environment_for_agent_key(hash_secret(env["agent_key"])) is None


def test_delete_removes_the_environment(api, prefix, make_env):
    env = make_env()
    path = f"{prefix}/environments/{env['name']}"

    assert api.delete(path).status_code == 204
    assert_error(api.get(path), 404, "not_found")
    assert env["name"] not in [e["name"] for e in api.get(f"{prefix}/environments").json()["items"]]
    assert_error(api.delete(path), 404, "not_found")


def test_delete_removes_the_environments_connections(hq, api, prefix, make_env):
    name = make_env()["name"]
    api.put(f"{prefix}/environments/{name}/kafka-connections/main", json={}).raise_for_status()

    api.delete(f"{prefix}/environments/{name}").raise_for_status()

    assert hq.store.list_resources(name, "kafka-connection") == []
    api.post(f"{prefix}/environments", json={"name": name}).raise_for_status()
    assert api.get(f"{prefix}/environments/{name}/kafka-connections").json() == {"items": []}


UNKNOWN = "no-such-environment"
UNKNOWN_ENVIRONMENT_REQUESTS = {
    "get": ("GET", f"/environments/{UNKNOWN}", None),
    "patch": ("PATCH", f"/environments/{UNKNOWN}", {"tier": "staging"}),
    "delete": ("DELETE", f"/environments/{UNKNOWN}", None),
    "renew-key": ("POST", f"/environments/{UNKNOWN}/renew-key", None),
    "list connections": ("GET", f"/environments/{UNKNOWN}/kafka-connections", None),
    "get connection": ("GET", f"/environments/{UNKNOWN}/kafka-connections/main", None),
    "put connection": ("PUT", f"/environments/{UNKNOWN}/kafka-connections/main", {}),
    "delete connection": ("DELETE", f"/environments/{UNKNOWN}/kafka-connections/main", None),
    "proxy": ("GET", f"/environments/{UNKNOWN}/proxy/api/v1/streams", None),
}


@pytest.mark.parametrize(("method", "path", "body"), UNKNOWN_ENVIRONMENT_REQUESTS.values(),
                         ids=UNKNOWN_ENVIRONMENT_REQUESTS.keys())
def test_an_unknown_environment_is_404(hq, api, prefix, method, path, body):
    response = api.request(method, prefix + path, json=body)

    assert_error(response, 404, "not_found")
    assert hq.store.get_environment(UNKNOWN) is None


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("sub_path", ["", "api/v1/streams", "api/kafka-connect/clusters/main/connectors"])
def test_the_proxy_prefix_answers_503_while_no_agent_is_connected(api, prefix, make_env, method, sub_path):
    env = make_env()

    response = api.request(method, f"{prefix}/environments/{env['name']}/proxy/{sub_path}")

    assert_error(response, 503, "agent_not_connected")
