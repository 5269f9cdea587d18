"""The console's Connect client reads each error family a proxy path can answer with."""

from __future__ import annotations

import httpx

from console.client.connect import ConnectAPIError, connect_error, connect_path
from console.client.errors import APIError


def answer(status: int, body: object) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "http://hq/x"))


def test_a_seed_shaped_refusal_keeps_each_field_at_its_line() -> None:
    error = connect_error(answer(400, {
        "error": "Connector configuration is invalid",
        "errorType": "validation",
        "fields": [{"field": "file", "error": "Missing required configuration", "lineNumber": 4, "columnNumber": 3},
                   {"field": "tasks.max", "error": "Invalid value -1"}],
    }))
    assert isinstance(error, ConnectAPIError)
    assert (error.status, str(error), error.error_type) == (400, "Connector configuration is invalid", "validation")
    assert error.field_errors() == {"file": "Missing required configuration", "tasks.max": "Invalid value -1"}
    assert [(f.field, f.lineNumber, f.columnNumber) for f in error.at_lines()] == [("file", 4, 3)]


def test_hq_and_the_agent_app_refusals_stay_plain_api_errors() -> None:
    from_hq = connect_error(answer(503, {"type": "about:blank", "title": "No agent is connected", "status": 503,
                                         "invalid_fields": []}))
    from_agent = connect_error(answer(502, {"status": 502, "error": "bad_gateway", "message": "worker w down"}))
    not_json = connect_error(httpx.Response(500, text="boom", request=httpx.Request("GET", "http://hq/x")))
    assert [type(e) for e in (from_hq, from_agent, not_json)] == [APIError] * 3
    assert [str(e) for e in (from_hq, from_agent)] == ["No agent is connected", "worker w down"]
    assert not_json.status == 500


def test_paths_quote_each_part() -> None:
    assert connect_path("prod eu", "clusters", "main", "connectors", "a/b") == (
        "/api/v1/environments/prod%20eu/proxy/api/kafka-connect/clusters/main/connectors/a%2Fb")
