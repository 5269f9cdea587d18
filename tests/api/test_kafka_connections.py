"""Kafka connections of an environment (seed 001): upsert, read, list, delete, write-only secrets."""

from __future__ import annotations

import pytest

from tests.api.hq import assert_error

SASL_PLAIN = {"sasl_plain": {"username": "svc", "password": "plain-secret", "tls": True}}
SASL_SCRAM = {"sasl_scram": {"mechanism": "SCRAM-SHA-512", "username": "svc", "password": "scram-secret", "tls": True}}
TLS = {"tls": {"ca_pem": "CA", "cert_pem": "CERT", "key_pem": "KEY-SECRET"}}
# The field of each auth type that is write-only.
SECRETS = {"sasl_plain": "password", "sasl_scram": "password", "tls": "key_pem"}


@pytest.fixture
def env(make_env) -> str:
    return make_env()["name"]


@pytest.fixture
def conn_path(prefix, env) -> str:
    return f"{prefix}/environments/{env}/kafka-connections/main"


def masked(auth: dict) -> dict:
    [(kind, settings)] = auth.items()
    return {kind: {**settings, SECRETS[kind]: "***"}}


def stored_spec(hq, env: str, name: str = "main") -> dict | None:
    record = hq.store.get_resource(env, "kafka-connection", name)
    return record.spec if record else None


def test_put_creates_then_replaces(api, conn_path):
    spec = {"override_broker_addresses": ["broker-1:9092", "10.0.0.2:9093"], "auth": {}}

    created = api.put(conn_path, json=spec)
    replaced = api.put(conn_path, json={"override_broker_addresses": ["broker-9:9092"]})

    assert created.status_code == 201
    assert created.json() == {"name": "main", **spec}
    assert replaced.status_code == 200
    assert replaced.json() == {"name": "main", "override_broker_addresses": ["broker-9:9092"], "auth": {}}
    assert api.get(conn_path).json() == replaced.json()


def test_list_holds_the_environments_connections_sorted(api, prefix, env):
    for name in ("west", "east"):
        api.put(f"{prefix}/environments/{env}/kafka-connections/{name}", json={}).raise_for_status()

    listed = api.get(f"{prefix}/environments/{env}/kafka-connections").json()

    assert listed == {"items": [{"name": n, "override_broker_addresses": [], "auth": {}} for n in ("east", "west")]}


@pytest.mark.parametrize("auth", [SASL_PLAIN, SASL_SCRAM, TLS], ids=list(SECRETS))
def test_secrets_are_stored_but_answered_as_the_mask(hq, api, prefix, env, conn_path, auth):
    put = api.put(conn_path, json={"auth": auth})

    answers = [put.json(), api.get(conn_path).json(),
               api.get(f"{prefix}/environments/{env}/kafka-connections").json()["items"][0]]
    for answer in answers:
        assert answer["auth"] == masked(auth)
    assert stored_spec(hq, env)["auth"] == auth


@pytest.mark.parametrize("auth", [SASL_PLAIN, SASL_SCRAM, TLS], ids=list(SECRETS))
def test_sending_the_mask_back_keeps_the_stored_secret(hq, api, env, conn_path, auth):
    api.put(conn_path, json={"auth": auth}).raise_for_status()
    [(kind, _)] = auth.items()
    edited = masked(auth)
    edited[kind]["cert_pem" if kind == "tls" else "username"] = "edited"

    response = api.put(conn_path, json={"auth": edited})

    assert response.status_code == 200
    assert response.json()["auth"] == edited
    stored = stored_spec(hq, env)["auth"][kind]
    assert stored[SECRETS[kind]] == auth[kind][SECRETS[kind]]
    assert "edited" in stored.values()


def test_a_new_secret_replaces_the_stored_one(hq, api, env, conn_path):
    api.put(conn_path, json={"auth": SASL_PLAIN}).raise_for_status()
    rotated = {"sasl_plain": {**SASL_PLAIN["sasl_plain"], "password": "rotated"}}

    api.put(conn_path, json={"auth": rotated}).raise_for_status()

    assert stored_spec(hq, env)["auth"] == rotated


def test_the_mask_on_a_new_connection_is_400_and_creates_nothing(hq, api, env, conn_path):
    response = api.put(conn_path, json={"auth": masked(SASL_PLAIN)})

    assert_error(response, 400, "bad_request", "auth.sasl_plain.password")
    assert_error(api.get(conn_path), 404, "not_found")
    assert stored_spec(hq, env) is None


def test_the_mask_for_another_auth_type_is_400_and_keeps_the_stored_one(hq, api, env, conn_path):
    api.put(conn_path, json={"auth": SASL_PLAIN}).raise_for_status()

    response = api.put(conn_path, json={"auth": masked(SASL_SCRAM)})

    assert_error(response, 400, "bad_request", "auth.sasl_scram.password")
    assert stored_spec(hq, env)["auth"] == SASL_PLAIN


BAD_SPECS = {
    "bad broker address": ({"override_broker_addresses": ["broker-1"]}, "override_broker_addresses.0"),
    "broker port out of range": ({"override_broker_addresses": ["b:99999"]}, "override_broker_addresses.0"),
    "two auth types at once": ({"auth": {**SASL_PLAIN, **TLS}}, "auth"),
    "unknown scram mechanism": (
        {"auth": {"sasl_scram": {**SASL_SCRAM["sasl_scram"], "mechanism": "SCRAM-MD5"}}},
        "auth.sasl_scram.mechanism",
    ),
    "unknown auth type": ({"auth": {"kerberos": {}}}, "auth.kerberos"),
    "unknown field": ({"brokers": ["b:9092"]}, "brokers"),
    "missing password": ({"auth": {"sasl_plain": {"username": "svc"}}}, "auth.sasl_plain.password"),
}


@pytest.mark.parametrize(("spec", "field"), BAD_SPECS.values(), ids=BAD_SPECS.keys())
def test_a_bad_spec_is_400_naming_the_field_and_keeps_the_stored_one(hq, api, env, conn_path, spec, field):
    original = {"override_broker_addresses": ["broker-1:9092"], "auth": SASL_PLAIN}
    api.put(conn_path, json=original).raise_for_status()

    response = api.put(conn_path, json=spec)

    assert_error(response, 400, "bad_request", field)
    assert stored_spec(hq, env) == original


@pytest.mark.parametrize("name", ["Main", "-main", "main-", "m" * 64])
def test_a_bad_connection_name_is_400_and_creates_nothing(hq, api, prefix, env, name):
    response = api.put(f"{prefix}/environments/{env}/kafka-connections/{name}", json={})

    assert_error(response, 400, "bad_request", "conn_name")
    assert hq.store.list_resources(env, "kafka-connection") == []


def test_delete_removes_the_connection(hq, api, env, conn_path):
    api.put(conn_path, json={}).raise_for_status()

    assert api.delete(conn_path).status_code == 204
    assert_error(api.get(conn_path), 404, "not_found")
    assert stored_spec(hq, env) is None


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_an_unknown_connection_is_404(api, conn_path, method):
    assert_error(api.request(method, conn_path), 404, "not_found")
