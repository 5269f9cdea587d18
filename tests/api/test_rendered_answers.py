"""GETs answer from rendered JSON kept since each resource's last change (backend/rendered.py):
after every kind of write the next GET answers the new state, byte for byte what the model
renders from the store, and never a secret."""

from __future__ import annotations

import pytest

from backend.environments.resources import CONNECT_CLUSTER, KAFKA_CONNECTION
from backend.environments.service import to_environment, to_public
from tests.api.hq import assert_error

PASSWORD = "rendered-cache-secret"
AGENT_STATUS = {
    "agent_connected": True,
    "agent": {
        "updated_at": "2026-12-01T08:00:00.000Z",
        "roundtrip_duration": 0.012,
        "agent": {"hostname": "hq-1", "version": "0.1.0", "capabilities": {"metrics": True, "k2k": True}},
        "metrics": {"kafka": {"version": "4.1.0", "num_brokers": 3, "updated_at": "2026-12-01T08:00:00.000Z"}},
        "issues": [],
    },
}


def stored_environment(hq, name: str) -> bytes:
    """What the model renders from the store's current record: what a GET must answer."""
    return to_environment(hq.store.get_environment(name)).model_dump_json().encode()


def assert_answers_the_store(hq, api, prefix: str, name: str) -> dict:
    response = api.get(f"{prefix}/environments/{name}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.content == stored_environment(hq, name)
    assert name in [e["name"] for e in api.get(f"{prefix}/environments").json()["items"]]
    listed = next(e for e in api.get(f"{prefix}/environments").json()["items"] if e["name"] == name)
    assert listed == response.json()
    return response.json()


def test_a_get_after_create_answers_the_new_environment_without_its_key(hq, api, prefix, make_env):
    created = make_env(display_name="Fresh", tier="staging", metadata={"team": "a"})

    answered = assert_answers_the_store(hq, api, prefix, created["name"])

    assert answered == {k: v for k, v in created.items() if k != "agent_key"}


def test_a_get_after_each_patch_answers_the_patched_fields(hq, api, prefix, make_env):
    name = make_env()["name"]
    path = f"{prefix}/environments/{name}"

    for n in range(3):
        api.patch(path, json={"display_name": f"Patched {n}", "metadata": {"round": str(n)}}).raise_for_status()
        answered = assert_answers_the_store(hq, api, prefix, name)
        assert (answered["display_name"], answered["metadata"]) == (f"Patched {n}", {"round": str(n)})


def test_a_get_after_renew_key_answers_the_environment_and_no_key(hq, api, prefix, make_env):
    created = make_env()

    renewed = api.post(f"{prefix}/environments/{created['name']}/renew-key").json()
    response = api.get(f"{prefix}/environments/{created['name']}")

    assert response.content == stored_environment(hq, created["name"])
    for key in (created["agent_key"], renewed["agent_key"]):
        assert key.encode() not in response.content
        assert key.encode() not in api.get(f"{prefix}/environments").content


def test_a_get_after_an_agent_status_write_answers_the_new_status(hq, api, prefix, make_env):
    name = make_env()["name"]
    api.get(f"{prefix}/environments/{name}").raise_for_status()  # the old state is rendered first

    hq.store.update_environment(name, status=AGENT_STATUS)  # as the built-in agent writes it

    answered = assert_answers_the_store(hq, api, prefix, name)
    assert answered["status"]["agent_connected"] is True
    assert answered["status"]["agent"]["metrics"]["kafka"]["num_brokers"] == 3


def test_after_a_delete_the_get_is_404_and_the_list_lacks_it(api, prefix, make_env):
    name = make_env()["name"]
    api.get(f"{prefix}/environments").raise_for_status()  # a list rendered with it

    api.delete(f"{prefix}/environments/{name}").raise_for_status()

    assert_error(api.get(f"{prefix}/environments/{name}"), 404, "not_found")
    assert name not in [e["name"] for e in api.get(f"{prefix}/environments").json()["items"]]


def test_the_list_is_what_the_models_render_from_the_store(hq, api, prefix, make_env):
    for _ in range(3):
        make_env()

    response = api.get(f"{prefix}/environments")

    items = b",".join(to_environment(r).model_dump_json().encode() for r in hq.store.list_environments())
    assert response.content == b'{"items":[' + items + b"]}"
    assert int(response.headers["X-Last-Event-ID"]) > 0


def test_a_resource_get_after_each_put_answers_the_new_spec_masked(hq, api, prefix, make_env):
    env = make_env()["name"]
    path = f"{prefix}/environments/{env}/kafka-connections/main"

    for brokers in (["broker-1:9092"], ["broker-2:9092", "broker-3:9092"]):
        auth = {"sasl_plain": {"username": "svc", "password": PASSWORD}}
        api.put(path, json={"override_broker_addresses": brokers, "auth": auth}).raise_for_status()
        response = api.get(path)
        listed = api.get(f"{prefix}/environments/{env}/kafka-connections")

        assert response.json()["override_broker_addresses"] == brokers
        assert response.json()["auth"]["sasl_plain"]["password"] == "***"
        assert response.content == to_public(KAFKA_CONNECTION, hq.store.get_resource(env, KAFKA_CONNECTION.kind,
                                                                                      "main")).model_dump_json().encode()
        assert listed.json() == {"items": [response.json()]}
        assert PASSWORD.encode() not in response.content + listed.content


def test_a_resource_get_after_its_delete_is_404_and_its_list_lacks_it(api, prefix, make_env):
    env = make_env()["name"]
    base = f"{prefix}/environments/{env}/connect-clusters"
    for name in ("one", "two"):
        api.put(f"{base}/{name}", json={"urls": ["http://connect:8083"]}).raise_for_status()
    assert [c["name"] for c in api.get(base).json()["items"]] == ["one", "two"]

    api.delete(f"{base}/one").raise_for_status()

    assert_error(api.get(f"{base}/one"), 404, "not_found")
    assert [c["name"] for c in api.get(base).json()["items"]] == ["two"]


def test_deleting_an_environment_drops_its_rendered_resources(api, prefix, make_env):
    env = make_env()["name"]
    path = f"{prefix}/environments/{env}/{CONNECT_CLUSTER.path}/main"
    api.put(path, json={"urls": ["http://connect:8083"]}).raise_for_status()
    api.get(path).raise_for_status()

    api.delete(f"{prefix}/environments/{env}").raise_for_status()

    assert_error(api.get(path), 404, "not_found")
    api.post(f"{prefix}/environments", json={"name": env}).raise_for_status()
    assert_error(api.get(path), 404, "not_found")
    assert api.get(f"{prefix}/environments/{env}/{CONNECT_CLUSTER.path}").json() == {"items": []}


@pytest.mark.parametrize("resource_path", ["kafka-connections", "connect-clusters", "redpanda-connects"])
def test_resources_of_an_unknown_environment_are_404(api, prefix, resource_path):
    assert_error(api.get(f"{prefix}/environments/no-such-env/{resource_path}"), 404, "not_found")
    assert_error(api.get(f"{prefix}/environments/no-such-env/{resource_path}/x"), 404, "not_found")
