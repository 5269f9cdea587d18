"""The connector ledger (backend/connect/live.py): it publishes only what changed, keeps a
failed cluster's connectors as last known, lets an API action outrank a reading begun before
it, stays bounded whatever a worker lists; and the list mapping it is fed through
(backend/connect/mapping.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from backend.agent.supervisor import AgentSupervisor
from backend.connect.live import EXPECTED_STATE_HOLD, ConnectorLedger
from backend.connect.mapping import list_items
from backend.connect.models import ConnectorListItem, ConnectStatus, SimpleTask
from backend.environments.models import ConnectClusterSpec, EnvironmentCreate, KafkaConnectionSpec
from backend.environments.resources import CONNECT_CLUSTER, KAFKA_CONNECTION
from backend.environments.service import EnvironmentService
from backend.lrn import connector_lrn
from backend.store import SQLiteStore
from backend.store.changes import Change
from tests.http_servers import tiny_server
from tests.waiting import until

FILE_SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"


def item(name: str, state: ConnectStatus = ConnectStatus.RUNNING, cluster: str = "main",
         tasks: int = 1) -> ConnectorListItem:
    return ConnectorListItem(name=name, lrn=connector_lrn("prod", cluster, name), cluster=cluster, state=state,
                             tasks=[SimpleTask(id=i, state=state) for i in range(tasks)], className=FILE_SOURCE,
                             type="source")


@pytest.fixture
def ledger() -> ConnectorLedger:
    return ConnectorLedger("prod")


@pytest.fixture
def published(ledger: ConnectorLedger) -> list[Change]:
    changes: list[Change] = []
    ledger.feed.observe(changes.append)
    return changes


def events(changes: list[Change]) -> list[tuple[str, str]]:
    return [(f"{c.kind}.{c.verb}", c.key[0].rsplit("/", 1)[1]) for c in changes]


def test_a_first_reading_creates_each_connector_with_its_list_item_as_payload(ledger, published):
    ledger.apply_cluster("main", [item("a"), item("b")])

    assert events(published) == [("connector.created", "a"), ("connector.created", "b")]
    assert published[0].key == (connector_lrn("prod", "main", "a"),)
    assert published[0].data == item("a").model_dump(mode="json", by_alias=True)
    assert ledger.items() == [item("a"), item("b")]


def test_a_reading_publishes_only_what_changed(ledger, published):
    ledger.apply_cluster("main", [item("same"), item("paused"), item("gone")])
    published.clear()

    ledger.apply_cluster("main", [item("same"), item("paused", ConnectStatus.PAUSED), item("new")])

    assert sorted(events(published)) == [("connector.created", "new"), ("connector.deleted", "gone"),
                                         ("connector.updated", "paused")]
    updated = next(c for c in published if c.verb == "updated")
    assert updated.data["state"] == "PAUSED" and updated.data["tasks"] == [{"id": 0, "state": "PAUSED"}]
    deleted = next(c for c in published if c.verb == "deleted")
    assert deleted.data["name"] == "gone"  # the last known item, so a client can name what went


def test_the_same_reading_again_publishes_nothing(ledger, published):
    ledger.apply_cluster("main", [item("a"), item("b")])
    published.clear()

    ledger.apply_cluster("main", [item("b"), item("a")])

    assert published == []


def test_a_reading_of_one_cluster_leaves_the_others_alone(ledger, published):
    ledger.apply_cluster("main", [item("a")])
    ledger.apply_cluster("backup", [item("a", cluster="backup")])
    published.clear()

    ledger.apply_cluster("backup", [])

    assert published[0].key == (connector_lrn("prod", "backup", "a"),) and len(published) == 1
    assert ledger.items() == [item("a")]


def test_a_cluster_that_is_not_read_keeps_its_connectors_until_it_answers_again(ledger, published):
    """The agent does not apply a failed reading: nothing is deleted meanwhile, and the reading
    after it publishes only what changed while the cluster was away."""
    ledger.apply_cluster("main", [item("a"), item("b")])
    published.clear()

    ledger.apply_cluster("main", [item("a"), item("b", ConnectStatus.FAILED)])  # after the outage

    assert events(published) == [("connector.updated", "b")]


def test_forgetting_a_cluster_deletes_its_connectors_from_the_view(ledger, published):
    ledger.apply_cluster("main", [item("a"), item("b")])
    ledger.apply_cluster("backup", [item("c", cluster="backup")])
    published.clear()

    ledger.forget_cluster("main")

    assert sorted(events(published)) == [("connector.deleted", "a"), ("connector.deleted", "b")]
    assert ledger.clusters() == {"backup"}
    assert ledger.items() == [item("c", cluster="backup")]


def test_an_action_shows_at_once_and_is_published_once(ledger, published):
    ledger.apply_cluster("main", [item("a")])
    published.clear()

    ledger.apply_one(item("a", ConnectStatus.PAUSED))
    ledger.apply_cluster("main", [item("a", ConnectStatus.PAUSED)])  # the next reading agrees
    ledger.apply_one(item("fresh"))
    ledger.remove("main", "fresh")
    ledger.remove("main", "never-known")

    assert events(published) == [("connector.updated", "a"), ("connector.created", "fresh"),
                                 ("connector.deleted", "fresh")]


def test_a_reading_begun_before_an_action_does_not_undo_it(ledger, published):
    ledger.apply_cluster("main", [item("a"), item("b")])
    begun = time.monotonic()
    ledger.apply_one(item("a", ConnectStatus.PAUSED))
    ledger.remove("main", "b")
    ledger.apply_one(item("c"))
    published.clear()

    ledger.apply_cluster("main", [item("a"), item("b")], read_started=begun)  # read before the actions

    assert published == []
    assert ledger.items() == [item("a", ConnectStatus.PAUSED), item("c")]
    ledger.apply_cluster("main", [item("a"), item("b")])  # begun after them: a is settled (as read)
    assert events(published) == [("connector.updated", "a")]
    # b deleted and c created a moment ago: the worker lags behind its own answers; past the hold
    # its listing is the truth again.
    ledger.apply_cluster("main", [item("a"), item("b")], read_started=time.monotonic() + EXPECTED_STATE_HOLD + 1)
    assert sorted(events(published)) == [("connector.created", "b"), ("connector.deleted", "c"),
                                         ("connector.updated", "a")]


def test_the_worker_lagging_behind_a_create_or_a_delete_does_not_make_the_row_flicker(ledger, published):
    """A new connector is listed once the worker wrote its status; a deleted one may be listed a
    moment longer: neither reading may undo what the API just did."""
    ledger.apply_cluster("main", [item("old")])
    ledger.apply_one(item("new"))
    ledger.remove("main", "old")
    published.clear()

    ledger.apply_cluster("main", [item("old")])  # begun after both, the worker not there yet

    assert published == []
    assert ledger.items() == [item("new")]
    ledger.apply_cluster("main", [item("new")])  # it agrees: nothing to say
    assert published == []


def test_an_expected_state_is_held_until_a_reading_agrees(ledger, published):
    """A pause is answered before the worker's status says PAUSED: a reading begun just after it
    that still says RUNNING must not flip the row back for a poll."""
    ledger.apply_cluster("main", [item("a")])
    ledger.apply_one(item("a"), expected=ConnectStatus.PAUSED)
    published.clear()

    ledger.apply_cluster("main", [item("a")])  # begun after the pause, the worker not there yet

    assert published == []
    assert ledger.items() == [item("a", ConnectStatus.PAUSED)]  # its tasks paused with it
    ledger.apply_cluster("main", [item("a", ConnectStatus.PAUSED)])  # agrees: settled, nothing new to say
    ledger.apply_cluster("main", [item("a")])  # somebody resumed it on the worker since
    assert events(published) == [("connector.updated", "a")]
    assert ledger.items() == [item("a")]


def test_an_expected_state_the_worker_never_reaches_gives_way_to_its_reading(ledger, published):
    ledger.apply_cluster("main", [item("a")])
    ledger.apply_one(item("a"), expected=ConnectStatus.PAUSED)
    later = time.monotonic() + EXPECTED_STATE_HOLD + 1

    ledger.apply_cluster("main", [item("a")], read_started=later)

    assert ledger.items() == [item("a")]


def test_a_cluster_is_followed_up_to_the_bound_whatever_its_worker_lists(published):
    ledger = ConnectorLedger("prod", max_connectors_per_cluster=3)
    ledger.feed.observe(published.append)

    ledger.apply_cluster("main", [item(f"c{n}") for n in range(5, 0, -1)])
    ledger.apply_one(item("c0"))
    ledger.apply_one(item("c1", ConnectStatus.PAUSED))

    assert [i.name for i in ledger.items()] == ["c1", "c2", "c3"]  # the first by name
    assert events(published) == [("connector.created", "c1"), ("connector.created", "c2"),
                                 ("connector.created", "c3"), ("connector.updated", "c1")]


def expanded(name: str, state: str = "RUNNING", **config: str) -> dict:
    """One connector of a worker's `GET /connectors?expand=status&expand=info`, as the worker writes it."""
    return {
        "status": {"name": name, "type": "sink",
                   "connector": {"state": state, "worker_id": "10.0.0.7:8083"},
                   "tasks": [{"id": 1, "state": "FAILED", "worker_id": "10.0.0.8:8083", "trace": "boom"},
                             {"id": 0, "state": state, "worker_id": "10.0.0.7:8083"}]},
        "info": {"name": name, "type": "sink", "tasks": [{"connector": name, "task": 0}],
                 "config": {"name": name, "connector.class": "FileStreamSink", "tasks.max": "2", **config}},
    }


PLUGINS = [{"class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "type": "sink", "version": "3.9.0"},
           {"class": FILE_SOURCE, "type": "source", "version": "3.9.0"}]


def test_the_expanded_list_maps_to_list_items():
    answer = {"orders-sink": expanded("orders-sink", topics="orders, refunds,orders", file="/tmp/out")}

    [mapped] = list_items("prod", "main", answer, PLUGINS)

    assert mapped.model_dump(mode="json", by_alias=True) == {
        "name": "orders-sink", "lrn": "kafka-connect:connector/prod/main/orders-sink", "cluster": "main",
        "state": "RUNNING", "tasks": [{"id": 0, "state": "RUNNING"}, {"id": 1, "state": "FAILED"}],
        "className": "org.apache.kafka.connect.file.FileStreamSinkConnector",  # the alias, resolved
        "type": "sink", "author": None, "icon": None, "topics": ["orders", "refunds"], "workerId": "10.0.0.7:8083",
    }


def test_a_connector_the_worker_is_still_setting_up_maps_without_failing():
    answer = {"new": {"info": {"name": "new", "type": "source", "config": {"connector.class": "com.example.Unknown",
                                                                           "topic": "t"}}},
              "odd": {"status": {"connector": {"state": "NOT-A-STATE"}}}}

    new, odd = list_items("prod", "main", answer, PLUGINS)

    assert (new.state, new.tasks, new.className, new.type, new.topics) == (None, [], "com.example.Unknown",
                                                                          "source", ["t"])
    assert (odd.name, odd.state, odd.className) == ("odd", None, None)


# The supervisor's side of the failed-cluster rule, on a real HTTP server that plays the worker.


@pytest.fixture
def service(tmp_path: Path):
    store = SQLiteStore(tmp_path / "hq.db")
    yield EnvironmentService(store)
    store.close()


def worker_answers(listing: Callable[[], tuple[int, object]]):
    def answer(_: str, path: str, __: dict[str, str]) -> tuple[int, object]:
        if path.startswith("/connectors?expand=status&expand=info"):
            return listing()
        if path == "/connector-plugins":
            return 200, PLUGINS
        return 404, {"error_code": 404, "message": "not here"}

    return answer


def test_the_agent_keeps_a_failing_clusters_connectors_and_catches_up_when_it_answers(service):
    worker = {"answer": (200, {"a": expanded("a"), "b": expanded("b")})}
    agents = AgentSupervisor(service.store, interval=0.05, timeout=0.5, heartbeat=0.0)
    with tiny_server(worker_answers(lambda: worker["answer"])) as (url, _):
        service.create(EnvironmentCreate(name="prod"))
        # The cluster's brokers need not answer: the Connect watch is a watch of its own.
        service.put_resource("prod", KAFKA_CONNECTION, "main", KafkaConnectionSpec(
            override_broker_addresses=["127.0.0.1:1"]))
        service.put_resource("prod", CONNECT_CLUSTER, "main", ConnectClusterSpec(urls=[url]))
        ledger = agents.agent_context("prod").connectors
        published: list[Change] = []
        ledger.feed.observe(published.append)

        def rounds_until(condition: Callable[[], bool], what: str) -> None:
            until(lambda: agents.tick() or condition(), 30, what)

        rounds_until(lambda: [i.name for i in ledger.items()] == ["a", "b"], "the first reading")
        worker["answer"] = (500, {"error_code": 500, "message": "rebalancing"})
        rounds_until(lambda: any(w.error for w in agents.watches() if w.label.startswith("Kafka Connect")),
                     "the worker's failure to be seen")
        assert [i.name for i in ledger.items()] == ["a", "b"]
        assert [c.verb for c in published] == ["created", "created"]
        worker["answer"] = (200, {"a": expanded("a", "PAUSED")})
        rounds_until(lambda: len(published) == 4, "the reading after the outage to be applied")
        assert events(published)[2:] == [("connector.deleted", "b"), ("connector.updated", "a")]
        assert agents.agent_context("prod").connectors is ledger  # kept across requests and rounds
    agents.stop()
