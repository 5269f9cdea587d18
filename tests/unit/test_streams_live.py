"""The stream ledger (backend/streams/live.py) and its rates (backend/streams/rates.py): it publishes
only what changed, a figure included, keyed by LRN; a reading given twice changes nothing; another
Kafka connection is another cluster; it stays bounded whatever a cluster holds; rates are
records written per second over a window, never negative, and 0 once writes stop."""

from __future__ import annotations

import logging

import pytest

from backend.lrn import kafka_consumer_group_lrn, kafka_topic_lrn, resource_lrn
from backend.store.changes import Change
from backend.streams.live import StreamLedger, StreamsReading
from backend.streams.models import GroupSummary, LiveGroup, LiveStream, StreamSummary
from backend.streams.rates import WriteRates

MAIN = resource_lrn("kafka-connection", "prod", "main")


def stream(name: str, messages: int = 0, size: int = 0) -> StreamSummary:
    return StreamSummary(name=name, partitions=3, replicationFactor=1, totalMessages=messages, totalSize=size)


def group(name: str, lag: int | None = 0, state: str = "Stable") -> GroupSummary:
    return GroupSummary(groupId=name, state=state, members=1, streams=["orders"], totalLag=lag)


def reading(at: float, streams: list[StreamSummary] = (), groups: list[GroupSummary] | None = ()) -> StreamsReading:
    """`groups` None: they could not be read."""
    return StreamsReading(list(streams), None if groups is None else list(groups), at)


@pytest.fixture
def ledger() -> StreamLedger:
    return StreamLedger("prod", rate_window_seconds=30)


@pytest.fixture
def published(ledger: StreamLedger) -> list[Change]:
    changes: list[Change] = []
    ledger.feed.observe(changes.append)
    return changes


def events(changes: list[Change]) -> list[tuple[str, str]]:
    return [(f"{c.kind}.{c.verb}", c.key[0]) for c in changes]


def test_a_first_reading_creates_each_stream_and_group_keyed_by_its_lrn_with_its_list_item(ledger, published):
    ledger.apply("main", reading(0.0, [stream("orders", 10, 100), stream("audit")], [group("billing", 4)]))

    assert events(published) == [("stream.created", kafka_topic_lrn(MAIN, "orders")),
                                 ("stream.created", kafka_topic_lrn(MAIN, "audit")),
                                 ("consumer-group.created", kafka_consumer_group_lrn(MAIN, "billing"))]
    orders = LiveStream(**dict(stream("orders", 10, 100)), lrn=kafka_topic_lrn(MAIN, "orders"))
    assert published[0].data == orders.model_dump(mode="json")
    assert ledger.streams()[1] == orders and orders.messagesPerSecond is None  # one reading: no rate yet
    assert ledger.groups() == [LiveGroup(**dict(group("billing", 4)), lrn=kafka_consumer_group_lrn(MAIN, "billing"))]


def test_only_what_changed_is_published_and_a_figure_changing_is_a_change(ledger, published):
    ledger.apply("main", reading(0.0, [stream("orders"), stream("audit")], [group("billing", 0), group("etl", 0)]))
    ledger.apply("main", reading(5.0, [stream("orders"), stream("audit")], [group("billing", 0), group("etl", 0)]))
    published.clear()

    ledger.apply("main", reading(10.0, [stream("orders", messages=50), stream("audit")],
                                 [group("billing", lag=7), group("etl", 0)]))

    assert events(published) == [("stream.updated", kafka_topic_lrn(MAIN, "orders")),
                                 ("consumer-group.updated", kafka_consumer_group_lrn(MAIN, "billing"))]
    assert published[0].data["totalMessages"] == 50 and published[0].data["messagesPerSecond"] > 0
    assert published[1].data["totalLag"] == 7
    assert all(c.supersedes for c in published)  # figures: the feed keeps the newest per item


def test_creations_and_deletions_are_state_changes_the_feed_replays_in_order(ledger, published):
    ledger.apply("main", reading(0.0, [stream("orders")], [group("billing")]))
    ledger.apply("main", reading(5.0, [], []))

    assert [(c.verb, c.supersedes) for c in published] == [("created", False)] * 2 + [("deleted", False)] * 2


def test_streams_and_groups_not_in_a_reading_are_deleted_with_their_last_known_item(ledger, published):
    ledger.apply("main", reading(0.0, [stream("orders", 3), stream("audit")], [group("billing")]))
    ledger.apply("main", reading(5.0, [stream("orders", 3), stream("audit")], [group("billing")]))
    published.clear()

    ledger.apply("main", reading(10.0, [stream("audit")], []))

    assert events(published) == [("stream.deleted", kafka_topic_lrn(MAIN, "orders")),
                                 ("consumer-group.deleted", kafka_consumer_group_lrn(MAIN, "billing"))]
    assert published[0].data["totalMessages"] == 3
    assert [s.name for s in ledger.streams()] == ["audit"] and ledger.groups() == []


def test_the_same_reading_given_again_changes_nothing(ledger, published):
    """The agent hands the watch's last reading every round, also when it was not read again."""
    first = reading(0.0, [stream("orders", 5)])
    ledger.apply("main", first)
    ledger.apply("main", reading(5.0, [stream("orders", 10)]))
    rates = dict(ledger.rates())
    published.clear()

    ledger.apply("main", reading(5.0, [stream("orders", 10)]))
    ledger.apply("main", first)  # older than the last: a reading that came late

    assert published == [] and ledger.rates() == rates


def test_a_failed_reading_is_never_applied_so_nothing_is_deleted_while_the_cluster_is_down(ledger, published):
    """The agent does not hand a failed reading at all: the ledger keeps what it last read."""
    ledger.apply("main", reading(0.0, [stream("orders", 5)], [group("billing")]))
    published.clear()

    assert [s.name for s in ledger.streams()] == ["orders"] and [g.groupId for g in ledger.groups()] == ["billing"]
    ledger.apply("main", reading(60.0, [stream("orders", 5)], [group("billing")]))  # it answers again

    assert [c.verb for c in published] == ["updated"]  # the rate it now has; nothing deleted, nothing created


def test_groups_that_could_not_be_read_are_kept_while_the_streams_are_applied(ledger, published):
    ledger.apply("main", reading(0.0, [stream("orders", 5)], [group("billing", 1)]))
    ledger.apply("main", reading(5.0, [stream("orders", 5)], [group("billing", 1)]))
    published.clear()

    ledger.apply("main", reading(10.0, [stream("orders", 55)], None))

    assert events(published) == [("stream.updated", kafka_topic_lrn(MAIN, "orders"))]
    assert [g.totalLag for g in ledger.groups()] == [1]
    assert ledger.rates() == {"orders": 5.0}  # 50 written over the window: the streams read at 0, 5 and 10 s


def test_another_kafka_connection_is_another_cluster_its_items_replace_the_old_ones(ledger, published):
    ledger.apply("main", reading(0.0, [stream("orders", 5)], [group("billing")]))
    published.clear()
    backup = resource_lrn("kafka-connection", "prod", "backup")

    ledger.apply("backup", reading(5.0, [stream("orders", 9)], []))

    assert events(published) == [("stream.deleted", kafka_topic_lrn(MAIN, "orders")),
                                 ("consumer-group.deleted", kafka_consumer_group_lrn(MAIN, "billing")),
                                 ("stream.created", kafka_topic_lrn(backup, "orders"))]
    assert ledger.streams()[0].messagesPerSecond is None  # no rate across two clusters' totals


def test_at_most_the_bound_of_streams_and_groups_are_followed_the_first_by_name_logged_once(caplog):
    ledger = StreamLedger("prod", max_streams=3, max_groups=2)
    changes: list[Change] = []
    ledger.feed.observe(changes.append)
    streams = [stream(f"s{i:02}") for i in reversed(range(20))]
    groups = [group(f"g{i:02}") for i in reversed(range(20))]

    with caplog.at_level(logging.WARNING, logger="backend.ledger"):
        for at in range(3):
            ledger.apply("main", reading(float(at * 5), streams, groups))

    assert [s.name for s in ledger.streams()] == ["s00", "s01", "s02"]
    assert [g.groupId for g in ledger.groups()] == ["g00", "g01"]
    assert set(ledger.rates()) == {"s00", "s01", "s02"}  # no rates kept for streams left out
    assert len([c for c in changes if c.verb == "created"]) == 5
    cut = [r.getMessage() for r in caplog.records]
    assert len(cut) == 2 and "only the first 3 streams" in cut[0] and "only the first 2 consumer groups" in cut[1]


def test_a_rate_is_records_written_per_second_over_the_window_and_none_until_two_readings():
    rates = WriteRates(window_seconds=30)

    assert rates.update({"orders": 100}, 0.0) == {"orders": None}
    assert rates.update({"orders": 600}, 5.0) == {"orders": 100.0}
    assert rates.update({"orders": 600}, 10.0) == {"orders": 50.0}  # over the window: smoothed, not 0 at once
    for at in (15.0, 20.0, 25.0, 30.0, 35.0):
        rates.update({"orders": 600}, at)
    assert rates.rates() == {"orders": 0.0}  # a whole window without writes: exactly 0


def test_a_rate_counts_only_rises_so_retention_never_makes_it_negative():
    rates = WriteRates(window_seconds=30)
    rates.update({"orders": 1000}, 0.0)
    rates.update({"orders": 200}, 5.0)  # retention deleted a segment

    assert rates.update({"orders": 300}, 10.0) == {"orders": 10.0}  # 100 written over 10 s


def test_a_rate_is_rounded_and_forgets_streams_a_reading_does_not_name():
    rates = WriteRates(window_seconds=30)
    rates.update({"orders": 0, "audit": 0}, 0.0)

    assert rates.update({"orders": 1}, 3.0) == {"orders": 0.33}
    assert rates.update({"orders": 1, "audit": 5}, 6.0) == {"orders": 0.17, "audit": None}  # audit starts over


def test_a_list_read_now_takes_each_streams_rate_from_the_last_reading(ledger):
    ledger.apply("main", reading(0.0, [stream("orders", 0)]))
    ledger.apply("main", reading(10.0, [stream("orders", 100)]))

    listed = ledger.with_rates([stream("orders", 180), stream("new")])

    assert [(s.name, s.totalMessages, s.messagesPerSecond) for s in listed] == [("orders", 180, 10.0), ("new", 0, None)]
