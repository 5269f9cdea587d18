"""What the agent sees of a proxied request: the caller's method, path, query and end-to-end
headers, never the caller's HQ bearer, never HQ's hop-by-hop headers or HQ's own scope."""

from __future__ import annotations

from backend.environments.proxy import agent_scope
from backend.errors import request_id_var

HQ_SCOPE = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
    "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 50000),
    "path": "/api/v1/environments/prod/proxy/api/kafka-connect/connectors",
    "raw_path": b"/api/v1/environments/prod/proxy/api/kafka-connect/connectors",
    "root_path": "", "query_string": b"cluster=main&className=x",
    "headers": [
        (b"host", b"hq:8080"), (b"authorization", b"Bearer shq_admin_secret"), (b"content-type", b"application/json"),
        (b"connection", b"keep-alive, x-hop"), (b"x-hop", b"1"), (b"keep-alive", b"timeout=5"),
        (b"transfer-encoding", b"chunked"), (b"x-request-id", b"from-the-client"), (b"x-trace", b"abc"),
    ],
    # HQ's own state, which the agent must not get
    "app": object(), "state": {"hq": True}, "path_params": {"name": "prod"}, "route": object(),
}


def test_the_agent_sees_the_request_but_not_hqs_bearer_or_hop_by_hop_headers():
    token = request_id_var.set("hq-request-1")
    try:
        scope = agent_scope(HQ_SCOPE, "api/kafka-connect/connectors")
    finally:
        request_id_var.reset(token)

    assert scope["headers"] == [(b"host", b"hq:8080"), (b"content-type", b"application/json"),
                                (b"x-trace", b"abc"), (b"x-request-id", b"hq-request-1")]
    assert (scope["method"], scope["query_string"]) == ("POST", b"cluster=main&className=x")
    assert scope["path"] == HQ_SCOPE["path"]
    assert scope["root_path"] == "/api/v1/environments/prod/proxy"
    assert not {"app", "state", "path_params", "route"} & set(scope)


def test_the_proxy_root_itself_is_the_agents_root():
    scope = agent_scope({**HQ_SCOPE, "path": "/v1/environments/prod/proxy/"}, "")

    assert (scope["path"], scope["root_path"]) == ("/v1/environments/prod/proxy/", "/v1/environments/prod/proxy")
