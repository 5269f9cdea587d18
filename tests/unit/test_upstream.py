"""The agent's upstream client against real HTTP servers on loopback: failover only past URLs
that take no connection, the resource's auth on the wire, bounded waits, failures that name
the upstream."""

from __future__ import annotations

import base64
from concurrent.futures import Future, ThreadPoolExecutor, as_completed

import pytest

from backend.agent.upstream import (
    UpstreamError,
    UpstreamPool,
    UpstreamStatusError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from backend.environments.models import ConnectClusterSpec, HttpAuth, RedpandaConnectSpec
from tests.http_servers import holding_server, on_a_loop, refusing_url, silent_url, tiny_server


def closing(upstreams: UpstreamPool):
    yield upstreams
    upstreams.close()


@pytest.fixture
def pool():
    # Generous: these tests are about answers, not waits, on a machine that may be busy.
    yield from closing(UpstreamPool(timeout=10.0))


@pytest.fixture
def quick_pool():
    yield from closing(UpstreamPool(timeout=1.0))


def connectors(*_: object) -> tuple[int, object]:
    return 200, ["one", "two"]


def test_a_refusing_worker_is_passed_over_for_the_next(pool):
    with refusing_url() as down, tiny_server(connectors) as (up, seen):
        connect = pool.connect_cluster("main", ConnectClusterSpec(urls=[down, up]))

        assert connect.get_json("/connectors") == ["one", "two"]
        assert on_a_loop(pool, lambda: connect.arequest("GET", "/connectors")).json() == ["one", "two"]
    assert [(method, path) for method, path, _ in seen.requests] == [("GET", "/connectors")] * 2


def test_an_error_status_is_the_answer_not_a_reason_to_fail_over(pool):
    with tiny_server(lambda *_: (404, {"error_code": 404})) as (first, _), \
            tiny_server(connectors) as (second, second_seen):
        connect = pool.connect_cluster("main", ConnectClusterSpec(urls=[first, second]))

        with pytest.raises(UpstreamStatusError) as raised:
            connect.get_json("/connectors/missing")

    assert raised.value.response.status_code == 404
    assert str(raised.value) == f"Kafka Connect main at {first}/connectors/missing: answered HTTP 404"
    assert second_seen.requests == []


def test_when_no_worker_takes_a_connection_each_is_named(pool):
    with refusing_url() as one, refusing_url() as two:
        connect = pool.connect_cluster("main", ConnectClusterSpec(urls=[one, two]))

        with pytest.raises(UpstreamUnreachable) as raised:
            connect.get_json("/connectors")

    message = str(raised.value)
    assert message.startswith("Kafka Connect main at ")
    assert f"{one}: " in message and f"{two}: " in message
    assert message.count("refused") == 2, message


def test_a_silent_upstream_times_out_naming_itself(quick_pool):
    with silent_url() as silent:
        redpanda = quick_pool.redpanda_connect("pipelines", RedpandaConnectSpec(url=silent))

        with pytest.raises(UpstreamTimeout) as raised:
            redpanda.request("GET", "/ready")
        with pytest.raises(UpstreamTimeout) as raised_async:
            on_a_loop(quick_pool, lambda: redpanda.arequest("GET", "/ready"))

    for error in (raised.value, raised_async.value):
        assert (error.upstream, error.url) == ("Redpanda Connect pipelines", silent)
        assert str(error) == f"Redpanda Connect pipelines at {silent}: no answer within 1s"


def test_a_body_that_is_not_json_is_an_upstream_error(pool):
    with tiny_server(lambda *_: (200, b"<html>a proxy's login page</html>")) as (url, _), \
            pytest.raises(UpstreamError) as raised:
        pool.connect_cluster("main", ConnectClusterSpec(urls=[url])).get_json("/connectors")

    assert str(raised.value) == f"Kafka Connect main at {url}/connectors: answered with a body that is not JSON"


def only_with(authorization: str):
    def answer(_method: str, _path: str, headers: dict[str, str]) -> tuple[int, object]:
        if headers.get("authorization") != authorization:
            return 401, {"message": "who are you"}
        return 200, ["secured"]

    return answer


@pytest.mark.parametrize(("auth", "authorization"), [
    ({"basic": {"username": "ops", "password": "s3cret"}}, "Basic " + base64.b64encode(b"ops:s3cret").decode()),
    ({"bearer": {"token": "t0ken"}}, "Bearer t0ken"),
], ids=["basic", "bearer"])
def test_the_resources_auth_reaches_the_server(pool, auth, authorization):
    with tiny_server(only_with(authorization)) as (url, seen):
        secured = ConnectClusterSpec(urls=[url], auth=HttpAuth.model_validate(auth))
        anonymous = ConnectClusterSpec(urls=[url])

        connect = pool.connect_cluster("main", secured)
        assert connect.get_json("/connectors") == ["secured"]
        assert on_a_loop(pool, lambda: connect.arequest("GET", "/connectors")).status_code == 200
        with pytest.raises(UpstreamStatusError) as refused:
            pool.connect_cluster("main", anonymous).get_json("/connectors")

    assert refused.value.response.status_code == 401
    assert [headers.get("authorization") for _, _, headers in seen.requests] == [authorization, authorization, None]


def test_callers_beyond_the_pools_size_wait_for_a_connection_and_give_up_naming_the_pool():
    pool = UpstreamPool(timeout=30.0, max_connections=2, connect_timeout=0.5)
    with holding_server() as server, ThreadPoolExecutor(max_workers=6) as callers:
        connect = pool.connect_cluster("main", ConnectClusterSpec(urls=[server.url]))
        calls = [callers.submit(connect.request, "GET", "/connectors") for _ in range(6)]
        # Two calls hold the pool's two connections (the server never answers); the others wait.
        waited = first_errors(calls, 4)
        accepted = len(server.connections)
        server.release()
        held = [error for error in (call.exception(timeout=30) for call in calls) if error not in waited]
    pool.close()

    assert accepted == 2
    assert all(isinstance(error, UpstreamTimeout) for error in waited)
    assert {str(error) for error in waited} == {
        f"Kafka Connect main at {server.url}: no free connection in the agent's pool within 0.5s"}
    assert len(held) == 2 and all(isinstance(error, UpstreamError) for error in held)


def first_errors(calls: list[Future], count: int) -> list[BaseException]:
    """The errors of the first `count` calls to finish."""
    finished = []
    for call in as_completed(calls, timeout=30):
        finished.append(call.exception())
        if len(finished) == count:
            return finished
    raise AssertionError(f"only {len(finished)} calls finished")
