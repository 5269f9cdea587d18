"""Who may call the HQ, and the one error shape every failure takes (docs/architecture.md §2)."""

from __future__ import annotations

import pytest

from backend.auth import create_service_account_token
from backend.settings import Settings
from tests.api.hq import ADMIN_TOKEN, PREFIXES, assert_error, running_hq
from tests.api.test_agent_feeds import STREAMS_FEED_OPERATIONS
from tests.api.test_connect_routes import OPERATIONS as CONNECT_OPERATIONS
from tests.api.test_event_routes import OPERATIONS as EVENT_OPERATIONS
from tests.api.test_k2k import OPERATIONS as K2K_OPERATIONS
from tests.api.test_streams_routes import OPERATIONS as STREAMS_OPERATIONS
from tests.api.test_tail_route import OPERATIONS as TAIL_OPERATIONS

# Every operation of seed 001, relative to a prefix.
OPERATIONS = [
    ("GET", "/environments"),
    ("POST", "/environments"),
    ("GET", "/environments/live/sse"),
    ("GET", "/environments/{name}"),
    ("PATCH", "/environments/{name}"),
    ("DELETE", "/environments/{name}"),
    ("POST", "/environments/{name}/renew-key"),
    *(
        operation
        for collection, item in [("kafka-connections", "conn_name"), ("connect-clusters", "cluster_name"),
                                 ("redpanda-connects", "instance_name")]
        for operation in [
            ("GET", f"/environments/{{env_name}}/{collection}"),
            ("GET", f"/environments/{{env_name}}/{collection}/{{{item}}}"),
            ("PUT", f"/environments/{{env_name}}/{collection}/{{{item}}}"),
            ("DELETE", f"/environments/{{env_name}}/{collection}/{{{item}}}"),
        ]
    ),
    *((method, "/environments/{name}/proxy/{path}") for method in ("GET", "POST", "PUT", "PATCH", "DELETE")),
    # The agent API's routes, as HQ serves them under the proxy prefix
    ("GET", "/environments/{name}/proxy/api/agent"),
    ("GET", "/environments/{name}/proxy/api/kafka-connect/live/sse"),
]


def concrete(path: str) -> str:
    return path.format(name="some-env", env_name="some-env", conn_name="main", cluster_name="main",
                       instance_name="main", path="api/v1/streams")


BAD_CREDENTIALS = {
    "no header": {},
    "wrong token": {"Authorization": "Bearer shq_admin_not-the-token"},
    "bearer without a token": {"Authorization": "Bearer"},
    "basic scheme": {"Authorization": f"Basic {ADMIN_TOKEN}"},
    "token without scheme": {"Authorization": ADMIN_TOKEN},
}


@pytest.mark.parametrize("headers", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_is_401_without_a_valid_bearer(hq, prefix, method, path, headers):
    with hq.client(token=None) as anonymous:
        response = anonymous.request(method, prefix + concrete(path), headers=headers)

    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_a_401_writes_nothing(hq, unique_name):
    name = unique_name()

    with hq.client(token="wrong") as intruder:
        assert intruder.post("/v1/environments", json={"name": name}).status_code == 401

    assert hq.store.get_environment(name) is None


def test_an_incoming_request_id_is_echoed(hq, api):
    with hq.client(token=None) as anonymous:
        failed = anonymous.get("/v1/environments", headers={"X-Request-ID": "trace-401"})
    succeeded = api.get("/v1/environments", headers={"X-Request-ID": "trace-200"})

    assert assert_error(failed, 401, "unauthorized")["request_id"] == "trace-401"
    assert succeeded.headers["X-Request-ID"] == "trace-200"


def test_every_answer_gets_a_fresh_request_id(api):
    ids = {api.get("/v1/environments").headers["X-Request-ID"] for _ in range(3)}

    assert len(ids) == 3


def test_an_unusable_request_id_is_replaced(api):
    response = api.get("/v1/environments/nope", headers={"X-Request-ID": "x" * 129})

    assert assert_error(response, 404, "not_found")["request_id"] != "x" * 129


def test_a_service_account_token_is_accepted(hq, unique_name):
    token = create_service_account_token(hq.store, unique_name())
    name = unique_name()

    with hq.client(token=token) as service_account:
        assert service_account.post("/v1/environments", json={"name": name}).status_code == 201
        assert service_account.get(f"/v1/environments/{name}").json()["name"] == name


def test_the_admin_token_is_accepted(hq):
    with hq.client(token=ADMIN_TOKEN) as admin:
        assert admin.get("/v1/environments").status_code == 200


def test_a_session_token_is_accepted_by_its_own_server_only(tmp_path, hq):
    session = "shq_session_for-one-process"

    embedded_settings = Settings(home=tmp_path, admin_token=None, session_token=session, builtin_agent=False)
    with running_hq(embedded_settings) as embedded, embedded.client(token=session) as console:
        assert console.get("/v1/environments").status_code == 200
    with hq.client(token=session) as stranger:
        assert_error(stranger.get("/v1/environments"), 401, "unauthorized")


@pytest.mark.parametrize("path", ["/health", "/openapi.json"])
def test_health_and_openapi_need_no_token(hq, path):
    with hq.client(token=None) as anonymous:
        response = anonymous.get(path)

    assert response.status_code == 200
    assert response.headers["X-Request-ID"]


def test_openapi_describes_every_operation_under_both_prefixes(hq):
    with hq.client(token=None) as anonymous:
        paths = anonymous.get("/openapi.json").json()["paths"]

    described = {(method.upper(), path) for path, item in paths.items() for method in item}
    expected = {(method, prefix + path) for prefix in PREFIXES for method, path in OPERATIONS}
    assert expected <= described
    assert described - expected == {("GET", "/health"), *K2K_OPERATIONS, *CONNECT_OPERATIONS, *EVENT_OPERATIONS,
                                    *STREAMS_OPERATIONS, *STREAMS_FEED_OPERATIONS, *TAIL_OPERATIONS}


def test_an_unknown_path_is_404_in_the_error_shape(api):
    assert_error(api.get("/v1/nothing-here"), 404, "not_found")


def test_a_wrong_method_is_405_in_the_error_shape(api):
    assert_error(api.put("/v1/environments"), 405, "method_not_allowed")


def test_a_body_sent_as_a_form_is_told_to_be_json(api):
    response = api.post("/v1/environments", content=b'{"name": "x"}',
                        headers={"content-type": "application/x-www-form-urlencoded"})
    body = assert_error(response, 400, "bad_request", "body")
    assert body["invalid_fields"][0]["error"] == "unsupported_media_type"
    assert "application/json" in body["title"]
