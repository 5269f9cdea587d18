"""The environments live feed (docs/architecture.md §4): events, pings, Last-Event-ID replay, resync."""

from __future__ import annotations

import re
import socket
from contextlib import closing
from itertools import pairwise

import pytest

from backend.settings import Settings
from backend.store.changes import Change
from tests.api.hq import ADMIN_TOKEN, running_hq
from tests.api.sse_reader import READ_TIMEOUT, live, live_and_ready
from tests.waiting import until

SASL_PLAIN = {"sasl_plain": {"username": "svc", "password": "plain-secret"}}


def public(environment: dict) -> dict:
    return {k: v for k, v in environment.items() if k != "agent_key"}


def names_and_keys(frames) -> list[tuple[str, str]]:
    return [(f.event, f.data["name"]) for f in frames]


def assert_increasing(ids: list[int]) -> None:
    assert all(a < b for a, b in pairwise(ids)), ids


def test_the_first_frame_is_ready_with_an_id(api, prefix):
    with live(api, f"{prefix}/environments/live/sse") as stream:
        ready = stream.next_frame()

    assert ready.event == "ready"
    assert isinstance(ready.id, int)


def test_environment_changes_arrive_as_events_in_their_public_shape(api, unique_name):
    name = unique_name()
    with live_and_ready(api) as (stream, ready):
        created = api.post("/v1/environments", json={"name": name, "metadata": {"team": "core"}}).json()
        patched = api.patch(f"/v1/environments/{name}", json={"tier": "production"}).json()
        api.delete(f"/v1/environments/{name}").raise_for_status()
        events = [stream.next_event() for _ in range(3)]

    assert [(e.event, e.data) for e in events] == [
        ("environment.created", public(created)),
        ("environment.updated", patched),
        ("environment.deleted", {"name": name}),
    ]
    assert_increasing([ready.id, *(e.id for e in events)])


def test_connection_changes_arrive_as_events_with_secrets_masked(api, make_env):
    env = make_env()["name"]
    path = f"/v1/environments/{env}/kafka-connections/main"
    with live_and_ready(api) as (stream, _):
        created = api.put(path, json={"auth": SASL_PLAIN}).json()
        updated = api.put(path, json={"override_broker_addresses": ["b:9092"], "auth": SASL_PLAIN}).json()
        api.delete(path).raise_for_status()
        events = [stream.next_event() for _ in range(3)]

    assert [(e.event, e.data) for e in events] == [
        ("kafka-connection.created", {"environment": env, **created}),
        ("kafka-connection.updated", {"environment": env, **updated}),
        ("kafka-connection.deleted", {"environment": env, "name": "main"}),
    ]
    assert events[0].data["auth"]["sasl_plain"]["password"] == "***"


def test_a_ping_comment_arrives_while_idle(api):
    with live_and_ready(api) as (stream, _):
        assert stream.next_frame().comment == "ping"


def test_resuming_replays_exactly_the_missed_events_in_order(api, unique_name):
    first, second = unique_name(), unique_name()
    with live_and_ready(api) as (_, ready):
        pass
    api.post("/v1/environments", json={"name": first}).raise_for_status()
    api.patch(f"/v1/environments/{first}", json={"display_name": "First"}).raise_for_status()
    api.post("/v1/environments", json={"name": second}).raise_for_status()

    with live_and_ready(api, last_event_id=ready.id) as (stream, resumed):
        missed = stream.events_until_idle()
        api.delete(f"/v1/environments/{second}").raise_for_status()
        after = stream.next_event()

    # `ready` carries the client's own position, so a drop during the replay loses nothing.
    assert resumed.id == ready.id
    assert names_and_keys(missed) == [
        ("environment.created", first), ("environment.updated", first), ("environment.created", second),
    ]
    assert_increasing([ready.id, *(e.id for e in missed), after.id])
    assert (after.event, after.data) == ("environment.deleted", {"name": second})


def test_resuming_from_the_newest_event_replays_nothing(api):
    with live_and_ready(api) as (_, ready):
        pass

    with live_and_ready(api, last_event_id=ready.id) as (stream, _):
        assert stream.events_until_idle() == []


def test_the_list_answer_tells_where_to_resume_from(api, unique_name):
    name = unique_name()
    listed = api.get("/v1/environments")
    position = int(listed.headers["X-Last-Event-ID"])
    api.post("/v1/environments", json={"name": name}).raise_for_status()

    with live_and_ready(api, last_event_id=position) as (stream, ready):
        missed = stream.events_until_idle()

    assert name not in [e["name"] for e in listed.json()["items"]]
    assert ready.id == position
    assert names_and_keys(missed) == [("environment.created", name)]


def test_a_last_event_id_older_than_the_replay_buffer_gets_resync(api):
    with live(api, last_event_id=1) as stream:
        resync, ready = stream.next_event(), stream.next_event()

    assert resync.event == "resync"
    assert ready.event == "ready"


def test_a_last_event_id_from_the_future_gets_resync(api):
    with live_and_ready(api) as (_, ready):
        pass

    with live(api, last_event_id=ready.id + 1_000_000) as stream:
        assert stream.next_event().event == "resync"


NO_EVENT_IDS = {"5,000 digits": "9" * 5000, "not digits": "12abc", "negative": "-1",
                "a non-ASCII digit": "\u00b2".encode("latin-1")}


@pytest.mark.parametrize("last_event_id", NO_EVENT_IDS.values(), ids=NO_EVENT_IDS.keys())
def test_a_last_event_id_that_is_no_id_of_the_feed_gets_resync_then_the_live_stream(api, unique_name, last_event_id):
    name = unique_name()
    with live(api, last_event_id=last_event_id) as stream:
        assert stream.next_event().event == "resync"
        assert stream.next_event().event == "ready"
        api.post("/v1/environments", json={"name": name}).raise_for_status()
        event = stream.next_event()

    assert (event.event, event.data["name"]) == ("environment.created", name)


def test_after_resync_the_stream_carries_on_live(api, unique_name):
    name = unique_name()
    with live(api, last_event_id=1) as stream:
        assert [stream.next_event().event for _ in range(2)] == ["resync", "ready"]
        api.post("/v1/environments", json={"name": name}).raise_for_status()
        event = stream.next_event()

    assert (event.event, event.data["name"]) == ("environment.created", name)


def test_resuming_behind_a_full_replay_buffer_gets_resync(tmp_path):
    settings = Settings(home=tmp_path, admin_token=ADMIN_TOKEN, sse_ping_seconds=0.5, sse_replay_events=3,
                        builtin_agent=False)
    with running_hq(settings) as small, small.client() as client:
        with live_and_ready(client) as (_, ready):
            pass
        for n in range(4):
            client.post("/v1/environments", json={"name": f"env-{n}"}).raise_for_status()

        with live(client, last_event_id=ready.id) as stream:
            evicted = stream.next_event()
        with live_and_ready(client, last_event_id=ready.id + 1) as (stream, _):
            still_buffered = stream.events_until_idle()

    assert evicted.event == "resync"
    assert names_and_keys(still_buffered) == [("environment.created", f"env-{n}") for n in (1, 2, 3)]


def test_resuming_gets_every_edit_and_the_newest_agent_status_however_many_statuses(tmp_path):
    """The agent's statuses supersede each other in the replay buffer: a buffer of 3 holds a
    client's place through 20 of them, and it resumes with both edits and the latest status."""
    settings = Settings(home=tmp_path, admin_token=ADMIN_TOKEN, sse_ping_seconds=0.5, sse_replay_events=3,
                        builtin_agent=False)
    with running_hq(settings) as small, small.client() as client:
        client.post("/v1/environments", json={"name": "dev"}).raise_for_status()
        with live_and_ready(client) as (_, ready):
            pass
        for round_, edit in ((range(10), {"display_name": "Development"}), (range(10, 20), {"tier": "staging"})):
            client.patch("/v1/environments/dev", json=edit).raise_for_status()
            for n in round_:  # as the agent writes it
                small.store.update_environment("dev", status={"agent": {"updated_at": "2026-12-01T08:00:00Z",
                                                                        "issues": [f"round {n}"]}})

        with live_and_ready(client, last_event_id=ready.id) as (stream, _):
            missed = stream.events_until_idle()

    assert [e.event for e in missed] == ["environment.updated"] * 3
    assert [(e.data["display_name"], e.data["tier"], (e.data["status"]["agent"] or {}).get("issues")) for e in missed] \
        == [("Development", "development", None), ("Development", "staging", ["round 9"]),
            ("Development", "staging", ["round 19"])]


def stalled_subscriber(url: str, path: str = "/v1/environments/live/sse") -> socket.socket:
    """A raw client that subscribes, reads up to its `ready` frame and then reads nothing more,
    with a small receive window so that the server's writes back up soon."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(READ_TIMEOUT)
    sock.connect((host, int(port)))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\r\n".encode())
    received = b""
    while b"event: ready" not in received:
        received += sock.recv(4096)
    return sock


def read_to_the_end_of_the_stream(sock: socket.socket) -> bytes:
    received = b""
    while not received.endswith(b"\r\n0\r\n\r\n"):  # the last chunk of a chunked body
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def test_a_subscriber_that_stops_reading_is_dropped_and_its_stream_ends_with_resync(tmp_path):
    settings = Settings(home=tmp_path, admin_token=ADMIN_TOKEN, sse_ping_seconds=60, sse_subscriber_queue_events=16,
                        builtin_agent=False, k2k_controller=False)
    with running_hq(settings) as small, small.client() as client, live_and_ready(client) as (reading, _):
        feed = small.feed
        with closing(stalled_subscriber(small.url)) as sock:
            until(lambda: feed.subscriber_count == 2, READ_TIMEOUT, "both clients to subscribe", every=0.01)
            published = 0
            # In steps smaller than a queue, each read by a client that keeps up: only the one
            # that stopped reading falls behind, once the socket between it and the server is full.
            while feed.subscriber_count == 2 and published < 200_000:
                step = [feed.publish(Change("environment", "deleted", (f"{n:0200}",), None)).id
                        for n in range(published, published + 8)]
                assert [reading.next_event().id for _ in step] == step
                published += len(step)
            received = read_to_the_end_of_the_stream(sock)
        subscribed_after_the_drop = feed.subscriber_count
        after_the_drop = feed.publish(Change("environment", "deleted", ("later",), None)).id
        still_live = reading.next_event()

    events = re.findall(rb"event: (\S+)", received)
    assert subscribed_after_the_drop == 1, f"still subscribed after {published} events"
    assert events[-1] == b"resync"
    assert len(events) < published  # what the server held for it was bounded, not every event
    assert still_live.id == after_the_drop
