"""The SQLite state store: migrations, concurrent writers and the feed, crash safety."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from backend.environments.models import ConnectClusterSpec, KafkaConnectionSpec
from backend.feed import ChangeFeed, Event
from backend.store import EnvironmentRecord, ResourceRecord, SQLiteStore
from backend.store import sqlite as sqlite_store
from tests.waiting import until


def environment(name: str, **fields) -> EnvironmentRecord:
    return EnvironmentRecord(id=f"id-{name}", name=name, display_name=fields.pop("display_name", name),
                             tier="development", metadata={}, created_at="2025-01-01T00:00:00.000Z", **fields)


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("PRAGMA user_version").fetchone()[0]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "streamhq.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(db_path)
    yield store
    store.close()


def test_a_new_database_gets_every_migration(db_path):
    SQLiteStore(db_path).close()

    assert user_version(db_path) == len(sqlite_store.MIGRATIONS)


def test_reopening_keeps_the_data(db_path):
    first = SQLiteStore(db_path)
    first.create_environment(environment("kept"), "hash")
    first.close()

    reopened = SQLiteStore(db_path)
    try:
        assert [e.name for e in reopened.list_environments()] == ["kept"]
    finally:
        reopened.close()
    assert user_version(db_path) == len(sqlite_store.MIGRATIONS)


def test_a_new_migration_runs_once_on_an_existing_database(db_path, monkeypatch):
    SQLiteStore(db_path).close()
    probe = "CREATE TABLE probe (n INTEGER); INSERT INTO probe VALUES (1)"
    monkeypatch.setattr(sqlite_store, "MIGRATIONS", [*sqlite_store.MIGRATIONS, probe])

    for _ in range(2):
        SQLiteStore(db_path).close()

    assert user_version(db_path) == len(sqlite_store.MIGRATIONS)
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT count(*) FROM probe").fetchone()[0] == 1


def test_kafka_connections_of_a_version_1_database_become_environment_resources(db_path, monkeypatch):
    with monkeypatch.context() as first_release:
        first_release.setattr(sqlite_store, "MIGRATIONS", sqlite_store.MIGRATIONS[:1])
        old = SQLiteStore(db_path)
        old.create_environment(environment("prod"), "hash")
        old.close()
    # The first release wrote its Kafka connections to a table the current store no longer has.
    with sqlite3.connect(db_path) as db:
        db.execute("INSERT INTO kafka_connections VALUES ('prod', 'main', '{\"auth\": {}}')")

    upgraded = SQLiteStore(db_path)
    try:
        assert upgraded.get_resource("prod", "kafka-connection", "main").spec == {"auth": {}}
    finally:
        upgraded.close()


def test_bootstrap_lists_stored_before_the_bounds_are_cut_to_what_the_models_take(db_path, monkeypatch):
    """A connection stored with 5,000 addresses (the models took any number then) reads back
    through today's models: its first 64 distinct addresses, in order; short lists are untouched."""
    addresses = ["b:1", "a:1", "b:1", *(f"h{n}:9092" for n in range(5_000))]
    with monkeypatch.context() as before_the_bounds:
        before_the_bounds.setattr(sqlite_store, "MIGRATIONS", sqlite_store.MIGRATIONS[:3])
        old = SQLiteStore(db_path)
        old.create_environment(environment("prod"), "hash")
        old.put_resource(ResourceRecord("prod", "kafka-connection", "many",
                                        {"override_broker_addresses": addresses, "auth": {}}))
        old.put_resource(ResourceRecord("prod", "kafka-connection", "few",
                                        {"override_broker_addresses": ["x:1", "x:1"], "auth": {}}))
        old.put_resource(ResourceRecord("prod", "connect-cluster", "connect",
                                        {"urls": [f"http://w{n}:8083" for n in range(100)], "auth": {}}))
        old.close()

    upgraded = SQLiteStore(db_path)
    try:
        many = upgraded.get_resource("prod", "kafka-connection", "many").spec
        assert many["override_broker_addresses"] == ["b:1", "a:1", *(f"h{n}:9092" for n in range(62))]
        KafkaConnectionSpec.model_validate(many)
        assert upgraded.get_resource("prod", "kafka-connection", "few").spec["override_broker_addresses"] == [
            "x:1", "x:1"]
        urls = upgraded.get_resource("prod", "connect-cluster", "connect").spec["urls"]
        assert urls == [f"http://w{n}:8083" for n in range(16)]
        ConnectClusterSpec.model_validate(upgraded.get_resource("prod", "connect-cluster", "connect").spec)
    finally:
        upgraded.close()


def test_the_database_file_is_private(store, db_path):
    assert db_path.stat().st_mode & 0o077 == 0


THREADS, WRITES_PER_THREAD = 16, 50


def test_concurrent_writes_all_land_and_the_feed_sees_each_once_in_commit_order(db_path):
    feed = ChangeFeed(replay_events=10_000)
    published: list[Event] = []
    store = SQLiteStore(db_path, publish=lambda change: published.append(feed.publish(change)))
    store.create_environment(environment("shared"), "shared-hash")
    start = threading.Barrier(THREADS)

    def writer(thread: int) -> None:
        start.wait()
        for n in range(WRITES_PER_THREAD // 2):
            store.create_environment(environment(f"t{thread}-{n}"), f"hash-{thread}-{n}")
            store.update_environment("shared", display_name=f"t{thread}-{n}")

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    try:
        final = {e.name: e for e in store.list_environments()}
    finally:
        store.close()

    creates = {(t, n) for t in range(THREADS) for n in range(WRITES_PER_THREAD // 2)}
    assert set(final) == {"shared"} | {f"t{t}-{n}" for t, n in creates}
    events = published[1:]  # after the shared environment's creation
    assert len(events) == THREADS * WRITES_PER_THREAD
    assert sorted(e.change.key[0] for e in events if e.change.verb == "created") == sorted(
        f"t{t}-{n}" for t, n in creates
    )
    ids = [e.id for e in published]
    assert ids == list(range(ids[0], ids[0] + len(ids))), "strictly increasing, no gaps"
    # Commit order: the last update the feed announced is the state the database kept, and
    # each thread's updates appear in the order that thread made them.
    updates = [e.change.data.display_name for e in events if e.change.verb == "updated"]
    assert final["shared"].display_name == updates[-1]
    for t in range(THREADS):
        mine = [u for u in updates if u.startswith(f"t{t}-")]
        assert mine == [f"t{t}-{n}" for n in range(WRITES_PER_THREAD // 2)]


WRITER = textwrap.dedent("""
    import itertools, sys
    from pathlib import Path
    from backend.store import EnvironmentRecord, SQLiteStore

    store = SQLiteStore(Path(sys.argv[1]))
    for n in itertools.count():
        name = f"env-{n}"
        store.create_environment(EnvironmentRecord(id=name, name=name, display_name=name, tier="development",
                                                   metadata={"pad": "x" * 2000}, created_at="2025-01-01"), name)
        store.update_environment(name, metadata={"pad": "y" * 2000, "n": str(n)})
        print(name, flush=True)
""")
CONFIRMED_BEFORE_KILL = 200


def test_kill_9_mid_writes_loses_no_committed_row_and_leaves_a_sound_database(db_path):
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path)], stdout=subprocess.PIPE, text=True)
    confirmed = []
    try:
        while len(confirmed) < CONFIRMED_BEFORE_KILL:
            line = child.stdout.readline()
            assert line, "the writer died on its own"
            confirmed.append(line.strip())
    finally:
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate(timeout=10)
    confirmed += rest.split()  # printed after a commit, read after the kill: committed too

    with sqlite3.connect(db_path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    reopened = SQLiteStore(db_path)
    try:
        stored = {e.name: e for e in reopened.list_environments()}
        assert set(confirmed) <= set(stored)
        assert all(stored[name].metadata["n"] == name.removeprefix("env-") for name in confirmed)
        reopened.create_environment(environment("after-the-crash"), "fresh-hash")
        assert reopened.get_environment("after-the-crash") is not None
    finally:
        reopened.close()


def test_reads_on_many_short_lived_threads_leave_no_descriptors_behind(store):
    """Servers recycle their worker threads: each one that read once must not keep a file open."""
    process = psutil.Process()
    store.create_environment(environment("read"), "hash")
    store.list_environments()  # the pool's first connection: a steady state to measure from
    before = process.num_fds()

    for _ in range(10):  # bursts, each on threads that start, read and end
        threads = [threading.Thread(target=lambda: (store.list_environments(), store.get_environment("read")))
                   for _ in range(30)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert store.readers.open_connections <= store.readers.size
    # A connection holds the database, its WAL and its shared-memory index: three descriptors.
    assert process.num_fds() - before <= 3 * store.readers.size


def test_a_read_waits_for_a_free_connection_when_every_one_is_lent(db_path):
    store = SQLiteStore(db_path, readers=1)
    try:
        store.create_environment(environment("shared"), "hash")
        results: list[list[str]] = []
        with store.readers.connection():  # the only connection, lent out
            reader = threading.Thread(target=lambda: results.append([e.name for e in store.list_environments()]))
            reader.start()
            until(lambda: store.readers.waiting == 1, 10, "the read to wait for the lent connection", every=0.01)
            assert results == []
        reader.join()

        assert results == [["shared"]]
        assert store.readers.open_connections == 1
    finally:
        store.close()
