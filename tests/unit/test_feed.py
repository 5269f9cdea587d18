"""The change feed's numbering, delivery, and Last-Event-ID replay/resync rules (backend/feed.py)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from backend.feed import ChangeFeed, Event, FellBehind, Resync, Subscription
from backend.store import EnvironmentRecord, SQLiteStore
from backend.store.changes import Change


def change(n: int) -> Change:
    return Change("environment", "updated", (f"env-{n}",), None)


def publish(feed: ChangeFeed, count: int) -> list[int]:
    return [feed.publish(change(n)).id for n in range(count)]


async def received(subscription: Subscription, count: int) -> list[Event]:
    """The events delivered to `subscription` once `count` of them have arrived (the feed hands
    them to the event loop, which queues them when it runs), with any more already queued
    behind them, so that an event too many shows in the test's assertion."""
    events = [await asyncio.wait_for(subscription.queue.get(), 5) for _ in range(count)]
    while not subscription.queue.empty():
        events.append(subscription.queue.get_nowait())
    return events


async def test_ids_start_from_the_clock_and_count_up_by_one():
    before = time.time_ns() // 1000
    feed = ChangeFeed()

    ids = publish(feed, 3)

    assert ids[0] > before
    assert ids == [ids[0], ids[0] + 1, ids[0] + 2]
    assert feed.last_id == ids[-1]


async def test_a_restarted_feed_numbers_after_the_previous_one():
    old = ChangeFeed()
    last_before_restart = publish(old, 5)[-1]

    assert ChangeFeed().last_id > last_before_restart


async def test_a_new_subscriber_misses_nothing_and_receives_later_events():
    feed = ChangeFeed()
    publish(feed, 2)

    subscription, missed = feed.subscribe()
    event = feed.publish(change(9))

    assert missed == []
    assert subscription.position == event.id - 1
    assert await asyncio.wait_for(subscription.queue.get(), 5) is event


async def test_events_published_on_other_threads_reach_the_subscriber_in_order():
    feed = ChangeFeed()
    subscription, _ = feed.subscribe()

    worker = threading.Thread(target=publish, args=(feed, 5))
    worker.start()
    worker.join()
    received = [await asyncio.wait_for(subscription.queue.get(), 5) for _ in range(5)]

    assert [e.change.key for e in received] == [(f"env-{n}",) for n in range(5)]
    assert [e.id for e in received] == sorted(e.id for e in received)


async def test_resuming_from_a_buffered_id_returns_the_events_after_it():
    feed = ChangeFeed()
    ids = publish(feed, 5)

    subscription, missed = feed.subscribe(ids[1])

    assert [e.id for e in missed] == ids[2:]
    assert subscription.position == ids[-1]


async def test_resuming_from_the_newest_id_returns_nothing():
    feed = ChangeFeed()
    ids = publish(feed, 3)

    _, missed = feed.subscribe(ids[-1])

    assert missed == []


async def test_resuming_from_just_before_the_oldest_buffered_event_returns_the_whole_buffer():
    feed = ChangeFeed(replay_events=3)
    ids = publish(feed, 5)  # ids[2:] are buffered

    _, missed = feed.subscribe(ids[1])

    assert [e.id for e in missed] == ids[2:]


async def test_resuming_from_an_evicted_id_raises_resync():
    feed = ChangeFeed(replay_events=3)
    ids = publish(feed, 5)

    with pytest.raises(Resync):
        feed.subscribe(ids[0])


async def test_resuming_from_a_future_id_raises_resync():
    feed = ChangeFeed()
    ids = publish(feed, 2)

    with pytest.raises(Resync):
        feed.subscribe(ids[-1] + 1)


async def test_resuming_from_before_a_restart_raises_resync():
    old = ChangeFeed()
    last_before_restart = publish(old, 3)[-1]
    restarted = ChangeFeed()  # empty buffer, numbering moved on

    with pytest.raises(Resync):
        restarted.subscribe(last_before_restart)


async def test_a_closed_subscription_receives_nothing_more():
    feed = ChangeFeed()
    subscription, _ = feed.subscribe()
    witness, _ = feed.subscribe()  # stays open: once it has both events, a delivery to the other would be in too

    subscription.close()
    publish(feed, 2)
    await received(witness, 2)

    assert subscription.queue.empty()


def measurement(app: str, value: int) -> Change:
    return Change("k2k", "metrics", (app,), value, supersedes=True)


async def test_resuming_replays_only_the_newest_measurement_per_key_in_order_with_state_changes():
    feed = ChangeFeed()
    start = feed.publish(change(0)).id
    feed.publish(measurement("a", 1))
    feed.publish(measurement("b", 1))
    updated = feed.publish(change(1)).id
    feed.publish(measurement("a", 2))

    _, missed = feed.subscribe(start)

    assert [(e.change.kind, e.change.key, e.change.data) for e in missed] == [
        ("k2k", ("b",), 1), ("environment", ("env-1",), None), ("k2k", ("a",), 2)]
    assert [e.id for e in missed] == sorted(e.id for e in missed)
    assert updated in [e.id for e in missed]


async def test_measurements_never_push_state_changes_out_of_the_buffer():
    feed = ChangeFeed(replay_events=3)
    start = feed.publish(change(0)).id
    for n in range(100):
        feed.publish(measurement("a", n))

    _, missed = feed.subscribe(start)

    assert [e.change.data for e in missed] == [99]


async def test_a_deletion_drops_the_measurements_of_what_it_deleted():
    feed = ChangeFeed()
    start = feed.publish(change(0)).id
    feed.publish(measurement("a", 1))
    feed.publish(Change("k2k", "deleted", ("a",), None))

    _, missed = feed.subscribe(start)

    assert [e.name for e in missed] == ["k2k.deleted"]


async def test_live_subscribers_receive_every_measurement():
    feed = ChangeFeed(replay_events=1)
    subscription, _ = feed.subscribe()
    for n in range(3):
        feed.publish(measurement("a", n))

    assert [e.change.data for e in await received(subscription, 3)] == [0, 1, 2]


async def test_a_measurement_of_a_deleted_key_is_dropped_until_it_is_created_again():
    feed = ChangeFeed()
    start = feed.publish(change(0)).id
    subscription, _ = feed.subscribe()
    feed.publish(Change("k2k", "deleted", ("a",), None))
    assert feed.publish(measurement("a", 1)) is None  # a metrics round that finished after the delete
    feed.publish(Change("k2k", "created", ("a",), None))
    feed.publish(measurement("a", 2))

    live = await received(subscription, 3)
    _, missed = feed.subscribe(start)

    assert [(e.name, e.change.data) for e in live] == [("k2k.deleted", None), ("k2k.created", None),
                                                        ("k2k.metrics", 2)]
    assert [(e.name, e.change.data) for e in missed] == [(e.name, e.change.data) for e in live]


async def test_subscribers_receive_events_in_id_order_while_threads_publish_at_once():
    feed = ChangeFeed(replay_events=100_000, subscriber_queue_events=8_000)
    subscription, _ = feed.subscribe()

    def publisher(n: int) -> None:
        for i in range(2_000):
            feed.publish(measurement(f"app-{n}", i) if n % 2 else change(i))

    threads = [threading.Thread(target=publisher, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids = [e.id for e in await received(subscription, 8_000)]
    assert len(ids) == 8_000
    assert ids == sorted(ids)


async def test_agent_statuses_supersede_each_other_and_never_push_edits_out(tmp_path):
    """The store publishes an environment's status alone as a superseding `environment.updated`,
    and an edit as one that stays: a client resuming gets every edit and the newest status."""
    feed = ChangeFeed(replay_events=3)
    store = SQLiteStore(tmp_path / "hq.db", publish=feed.publish)
    store.create_environment(EnvironmentRecord(id="1", name="dev", display_name="Dev", tier="development",
                                               metadata={}, created_at="2026-01-01T00:00:00Z"), "key-hash")
    start = feed.last_id
    store.update_environment("dev", display_name="Development")
    for n in range(10):
        store.update_environment("dev", status={"round": n})
    store.update_environment("dev", tier="staging")
    for n in range(10, 20):
        store.update_environment("dev", status={"round": n})
    store.close()

    _, missed = feed.subscribe(start)

    assert [e.name for e in missed] == ["environment.updated"] * 3
    assert [(e.change.data.display_name, e.change.data.tier, e.change.data.status) for e in missed] == [
        ("Development", "development", {}), ("Development", "staging", {"round": 9}),
        ("Development", "staging", {"round": 19})]


async def until_delivered(feed: ChangeFeed) -> None:
    """Lets the loop run the deliveries already scheduled: a marker published last arrives last."""
    marker, _ = feed.subscribe()
    feed.publish(change(-1))
    await asyncio.wait_for(marker.next_event(), 5)
    marker.close()


async def test_a_subscriber_that_keeps_up_gets_a_full_queue_of_events():
    feed = ChangeFeed(subscriber_queue_events=8)
    subscription, _ = feed.subscribe()

    ids = publish(feed, 8)

    assert [(await asyncio.wait_for(subscription.next_event(), 5)).id for _ in ids] == ids
    assert not subscription.dropped


async def test_a_subscriber_that_falls_a_queue_behind_is_dropped_told_to_resync_and_holds_nothing():
    feed = ChangeFeed(subscriber_queue_events=8)
    stalled, _ = feed.subscribe()

    worker = threading.Thread(target=publish, args=(feed, 10_000))  # publishers never wait for readers
    worker.start()
    worker.join()
    await until_delivered(feed)

    assert stalled.dropped
    assert stalled.queue.qsize() == 1  # only the word that it fell behind
    assert feed.subscriber_count == 0
    assert stalled.dropped_at >= stalled.position + 8
    with pytest.raises(FellBehind):
        await asyncio.wait_for(stalled.next_event(), 5)


async def test_a_dropped_subscriber_is_dropped_only_once_however_much_more_is_published():
    feed = ChangeFeed(subscriber_queue_events=2)
    stalled, _ = feed.subscribe()
    publish(feed, 3)
    await until_delivered(feed)
    dropped_at = stalled.dropped_at

    publish(feed, 100)
    await until_delivered(feed)

    assert stalled.dropped_at == dropped_at
    assert stalled.queue.qsize() == 1


async def test_the_feed_remembers_a_bounded_number_of_deletions_the_newest_first():
    feed = ChangeFeed(replay_events=100)
    for n in range(10_000):  # distinct names, as environments created and deleted all day have
        feed.publish(Change("k2k", "deleted", (f"app-{n}",), None))

    assert feed.remembered_deletions == 100
    assert feed.publish(measurement("app-9999", 1)) is None  # the newest deletions still count
