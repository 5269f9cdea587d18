"""Kafka Connect clusters and Redpanda Connect instances an environment's agent reaches:
the same shape and rules as Kafka connections, with HTTP auth."""

from __future__ import annotations

import pytest

from tests.api.hq import assert_error

KINDS = {
    "connect-clusters": {"urls": ["http://connect-1:8083", "http://connect-2:8083/"]},
    "redpanda-connects": {"url": "http://pipelines:4195"},
}


@pytest.fixture(params=sorted(KINDS))
def collection(request: pytest.FixtureRequest) -> str:
    return request.param


def test_put_get_list_delete(api, prefix, make_env, collection):
    env = make_env()["name"]
    body = {**KINDS[collection], "auth": {"basic": {"username": "ops", "password": "s3cret"}}}
    created = api.put(f"{prefix}/environments/{env}/{collection}/main", json=body)
    assert created.status_code == 201, created.text
    answer = created.json()
    assert answer["name"] == "main"
    assert answer["auth"] == {"basic": {"username": "ops", "password": "***"}}
    if collection == "connect-clusters":
        assert answer["urls"] == ["http://connect-1:8083", "http://connect-2:8083"]
    assert api.get(f"{prefix}/environments/{env}/{collection}/main").json() == answer
    assert api.get(f"{prefix}/environments/{env}/{collection}").json() == {"items": [answer]}
    assert api.put(f"{prefix}/environments/{env}/{collection}/main", json=body).status_code == 200
    assert api.delete(f"{prefix}/environments/{env}/{collection}/main").status_code == 204
    assert_error(api.get(f"{prefix}/environments/{env}/{collection}/main"), 404, "not_found")


def test_a_masked_bearer_token_keeps_the_stored_one(api, hq, make_env, collection):
    env = make_env()["name"]
    path = f"/v1/environments/{env}/{collection}/main"
    api.put(path, json={**KINDS[collection], "auth": {"bearer": {"token": "t0ken"}}})
    assert api.put(path, json={**KINDS[collection], "auth": {"bearer": {"token": "***"}}}).status_code == 200
    kind = collection.removesuffix("s")
    assert hq.store.get_resource(env, kind, "main").spec["auth"] == {"bearer": {"token": "t0ken"}}


@pytest.mark.parametrize("bad", ["connect-1:8083", "ftp://x", "http://"])
def test_urls_must_be_http(api, make_env, collection, bad):
    env = make_env()["name"]
    body = {"urls": [bad]} if collection == "connect-clusters" else {"url": bad}
    field = "urls.0" if collection == "connect-clusters" else "url"
    assert_error(api.put(f"/v1/environments/{env}/{collection}/main", json=body), 400, "bad_request", field)


def test_a_bad_name_is_400_naming_the_path_parameter(api, make_env, collection):
    env = make_env()["name"]
    param = "cluster_name" if collection == "connect-clusters" else "instance_name"
    response = api.put(f"/v1/environments/{env}/{collection}/Bad_Name", json=KINDS[collection])
    assert_error(response, 400, "bad_request", param)
