"""The rendered cache (backend/rendered.py) against a real SQLite store and change feed: it never
answers older than a write its caller made, its first load misses no concurrent write, and the
authenticator forgets a replaced token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.auth import Authenticator, hash_secret
from backend.environments.service import rendered_collections, to_environment
from backend.feed import ChangeFeed
from backend.rendered import RenderedCache
from backend.store import EnvironmentRecord, ResourceRecord, SQLiteStore

THREADS, ROUNDS = 8, 40


def environment(name: str) -> EnvironmentRecord:
    return EnvironmentRecord(id=f"id-{name}", name=name, display_name=name, tier="development", metadata={},
                             created_at="2026-01-01T00:00:00.000Z")


@pytest.fixture
def feed() -> ChangeFeed:
    return ChangeFeed(replay_events=100_000)


@pytest.fixture
def store(tmp_path: Path, feed: ChangeFeed) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "hq.db", publish=feed.publish)
    yield store
    store.close()


@pytest.fixture
def cache(store: SQLiteStore, feed: ChangeFeed) -> RenderedCache:
    cache = RenderedCache(*rendered_collections(store))
    feed.observe(cache.apply)
    return cache


def store_listing(store: SQLiteStore) -> bytes:
    items = b",".join(to_environment(r).model_dump_json().encode() for r in store.list_environments())
    return b'{"items":[' + items + b"]}"


def test_each_writer_reads_its_own_write_and_the_end_state_is_the_stores(store, cache):
    environments = cache["environment"]
    start = threading.Barrier(THREADS + 1)
    stale: list[str] = []

    def writer(thread: int) -> None:
        name = f"writer-{thread}"
        store.create_environment(environment(name), f"hash-{thread}")
        start.wait()
        for n in range(ROUNDS):
            store.update_environment(name, display_name=f"{name}-{n}")
            if json.loads(environments.get((name,)))["display_name"] != f"{name}-{n}":
                stale.append(f"{name}-{n}")
            environments.listing()  # listings built while others write must not outlive their writes

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for worker in workers:
        worker.start()
    start.wait()
    environments.listing()  # the first load, while the writers write
    for worker in workers:
        worker.join()

    assert stale == []
    assert environments.listing() == store_listing(store)


def test_a_collection_loaded_after_writes_holds_them(store, cache):
    store.create_environment(environment("early"), "hash-early")
    store.update_environment("early", display_name="Changed before the load")

    assert json.loads(cache["environment"].get(("early",)))["display_name"] == "Changed before the load"
    assert cache["environment"].get(("absent",)) is None


def test_deleting_an_environment_drops_its_resources_and_listing(store, cache):
    for name in ("keep", "gone"):
        store.create_environment(environment(name), f"hash-{name}")
        store.put_resource(ResourceRecord(environment=name, kind="kafka-connection", name="main", spec={}))
    connections = cache["kafka-connection"]
    assert connections.get(("gone", "main")) is not None
    assert connections.listing(("gone",)).startswith(b'{"items":[{')

    store.delete_environment("gone")

    assert connections.get(("gone", "main")) is None
    assert connections.listing(("gone",)) == b'{"items":[]}'
    assert connections.get(("keep", "main")) is not None
    assert not cache["environment"].contains(("gone",))


def test_a_replaced_token_stops_authenticating(store, feed):
    authenticator = Authenticator(store, session_token=None)
    feed.observe(authenticator.observe)
    store.replace_token("admin", "admin", hash_secret("old-token"))
    assert authenticator.principal("old-token") == "admin"  # now remembered

    store.replace_token("admin", "admin", hash_secret("new-token"))

    assert authenticator.principal("old-token") is None
    assert authenticator.principal("new-token") == "admin"


def test_a_token_added_after_a_miss_authenticates(store):
    authenticator = Authenticator(store, session_token=None)
    assert authenticator.principal("late-token") is None

    store.add_token("late", "service_account", hash_secret("late-token"))  # e.g. by `streamhq token create`

    assert authenticator.principal("late-token") == "late"
