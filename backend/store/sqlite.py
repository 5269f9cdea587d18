"""SQLite implementation of the state store.

WAL journal, so readers never wait for the writer and a `kill -9` loses no committed
transaction; one writer connection behind a lock (SQLite allows one writer at a time
anyway, and serialising in-process avoids SQLITE_BUSY); readers from a bounded pool
(backend/store/readers.py), so the threads that read do not decide how many files are open.
Schema changes are numbered migrations tracked in `PRAGMA user_version`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from backend.clock import utc_now_iso
from backend.store.base import AppRecord, EnvironmentRecord, ResourceRecord, StoreConflict, TokenRecord
from backend.store.changes import (
    CREATED,
    DELETED,
    ENVIRONMENT_KIND,
    K2K_KIND,
    TOKEN_KIND,
    UPDATED,
    Change,
    Publisher,
    discard,
)
from backend.store.readers import ReaderPool

MIGRATIONS: list[str] = [
    """
    CREATE TABLE environments (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        tier TEXT NOT NULL,
        metadata TEXT NOT NULL,
        created_at TEXT NOT NULL,
        agent_key_hash TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE kafka_connections (
        environment TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE ON UPDATE CASCADE,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        PRIMARY KEY (environment, name)
    );
    CREATE TABLE tokens (
        name TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    );
    """,
    # Kafka connections, Connect clusters and Redpanda Connect instances share one shape.
    """
    CREATE TABLE environment_resources (
        environment TEXT NOT NULL REFERENCES environments(name) ON DELETE CASCADE ON UPDATE CASCADE,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        PRIMARY KEY (environment, kind, name)
    );
    INSERT INTO environment_resources (environment, kind, name, spec)
        SELECT environment, 'kafka-connection', name, spec FROM kafka_connections;
    DROP TABLE kafka_connections;
    """,
    """
    CREATE TABLE k2k_apps (
        name TEXT PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        display_name TEXT,
        description TEXT,
        created_at TEXT NOT NULL,
        generation INTEGER NOT NULL,
        spec TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT '{}'
    );
    """,
    # Bootstrap lists stored before the models bounded them (64 broker addresses, 16 worker URLs:
    # backend/environments/models.py) are cut to their first distinct entries, so every stored
    # connection reads back through today's models. Clients only ever used the first few; a list
    # of 900,000 was an attack, not a configuration.
    *(f"""
    UPDATE environment_resources
       SET spec = json_set(spec, '$.{field}', (
           SELECT json_group_array(value) FROM (
               SELECT value FROM json_each(spec, '$.{field}') GROUP BY value ORDER BY MIN(key) LIMIT {limit})))
     WHERE kind = '{kind}' AND json_array_length(spec, '$.{field}') > {limit}
    """ for kind, field, limit in (("kafka-connection", "override_broker_addresses", 64),
                                   ("connect-cluster", "urls", 16))),
]

_ENV_COLUMNS = "id, name, display_name, tier, metadata, created_at, status"
_UPDATABLE = {"display_name", "tier", "metadata", "status"}


def _environment(row: sqlite3.Row) -> EnvironmentRecord:
    return EnvironmentRecord(
        id=row["id"],
        name=row["name"],
        display_name=row["display_name"],
        tier=row["tier"],
        metadata=json.loads(row["metadata"]),
        created_at=row["created_at"],
        status=json.loads(row["status"]),
    )


def _resource(row: sqlite3.Row) -> ResourceRecord:
    return ResourceRecord(environment=row["environment"], kind=row["kind"], name=row["name"],
                          spec=json.loads(row["spec"]))


_APP_COLUMNS = "name, id, display_name, description, created_at, generation, spec, status"


def _app(row: sqlite3.Row) -> AppRecord:
    return AppRecord(name=row["name"], id=row["id"], display_name=row["display_name"],
                     description=row["description"], created_at=row["created_at"], generation=row["generation"],
                     spec=json.loads(row["spec"]), status=json.loads(row["status"]))


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.changes: list[Change] = []

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, params)

    def emit(self, change: Change) -> None:
        self.changes.append(change)


class SQLiteStore:
    def __init__(self, path: Path, publish: Publisher = discard, readers: int = 8) -> None:
        self.path = path
        self._publish = publish
        path.parent.mkdir(parents=True, exist_ok=True)
        self._write_lock = threading.Lock()
        self.readers = ReaderPool(self._connect, readers)
        self._writer = self._connect()
        path.chmod(0o600)  # holds connection secrets
        self._migrate()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def _migrate(self) -> None:
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @contextmanager
    def _write(self) -> Iterator[_Transaction]:
        """One transaction on the writer: commits on success, rolls back on any error, and
        publishes its changes after the commit while still holding the writer lock, so the
        feed's order is the commit order."""
        with self._write_lock:
            tx = _Transaction(self._writer)
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield tx
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")
            for change in tx.changes:
                self._publish(change)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        # Fetched in full before the connection goes back, so no statement keeps a read
        # snapshot open (an open snapshot stops the WAL from being checkpointed).
        with self.readers.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def _query_one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        rows = self._query(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        self.readers.close()
        with self._write_lock:
            self._writer.close()

    # environments

    def list_environments(self) -> list[EnvironmentRecord]:
        rows = self._query(f"SELECT {_ENV_COLUMNS} FROM environments ORDER BY name")
        return [_environment(row) for row in rows]

    def get_environment(self, name: str) -> EnvironmentRecord | None:
        row = self._query_one(f"SELECT {_ENV_COLUMNS} FROM environments WHERE name = ?", (name,))
        return _environment(row) if row else None

    def create_environment(self, record: EnvironmentRecord, agent_key_hash: str) -> None:
        try:
            with self._write() as db:
                db.execute(
                    "INSERT INTO environments (id, name, display_name, tier, metadata, created_at, agent_key_hash,"
                    " status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.id,
                        record.name,
                        record.display_name,
                        record.tier,
                        json.dumps(record.metadata),
                        record.created_at,
                        agent_key_hash,
                        json.dumps(record.status),
                    ),
                )
                db.emit(Change(ENVIRONMENT_KIND, CREATED, (record.name,), record))
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(f"environment {record.name!r} exists") from exc

    def update_environment(self, name: str, **changes: Any) -> EnvironmentRecord | None:
        unknown = set(changes) - _UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        encoded = {k: json.dumps(v) if k in ("metadata", "status") else v for k, v in changes.items()}
        with self._write() as db:
            if encoded:
                assignments = ", ".join(f"{column} = ?" for column in encoded)
                db.execute(f"UPDATE environments SET {assignments} WHERE name = ?", (*encoded.values(), name))
            row = db.execute(f"SELECT {_ENV_COLUMNS} FROM environments WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            record = _environment(row)
            # The agent's status alone is a measurement: only the newest per environment is worth
            # replaying, so a round of statuses never pushes users' edits out of the feed's buffer.
            # Same event name, so clients tell no difference.
            db.emit(Change(ENVIRONMENT_KIND, UPDATED, (name,), record, supersedes=set(changes) == {"status"}))
        return record

    def delete_environment(self, name: str) -> bool:
        with self._write() as db:
            deleted = db.execute("DELETE FROM environments WHERE name = ?", (name,)).rowcount > 0
            if deleted:
                db.emit(Change(ENVIRONMENT_KIND, DELETED, (name,), None))
        return deleted

    def set_agent_key_hash(self, name: str, agent_key_hash: str) -> bool:
        with self._write() as db:
            return db.execute(
                "UPDATE environments SET agent_key_hash = ? WHERE name = ?", (agent_key_hash, name)
            ).rowcount > 0

    def environment_for_agent_key(self, agent_key_hash: str) -> str | None:
        row = self._query_one(
            "SELECT name FROM environments WHERE agent_key_hash = ?", (agent_key_hash,)
        )
        return row["name"] if row else None

    # environment resources

    def list_resources(self, environment: str | None, kind: str) -> list[ResourceRecord]:
        """Of one environment, or of every environment when `environment` is None."""
        sql = "SELECT environment, kind, name, spec FROM environment_resources WHERE kind = ?"
        params: tuple[str, ...] = (kind,)
        if environment is not None:
            sql, params = f"{sql} AND environment = ?", (kind, environment)
        rows = self._query(f"{sql} ORDER BY environment, name", params)
        return [_resource(row) for row in rows]

    def get_resource(self, environment: str, kind: str, name: str) -> ResourceRecord | None:
        row = self._query_one(
            "SELECT environment, kind, name, spec FROM environment_resources"
            " WHERE environment = ? AND kind = ? AND name = ?",
            (environment, kind, name),
        )
        return _resource(row) if row else None

    def put_resource(self, record: ResourceRecord) -> bool:
        """Creates or replaces; returns True when it created."""
        key = (record.environment, record.kind, record.name)
        with self._write() as db:
            existed = db.execute(
                "SELECT 1 FROM environment_resources WHERE environment = ? AND kind = ? AND name = ?", key
            ).fetchone()
            try:
                db.execute(
                    "INSERT INTO environment_resources (environment, kind, name, spec) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (environment, kind, name) DO UPDATE SET spec = excluded.spec",
                    (*key, json.dumps(record.spec)),
                )
            except sqlite3.IntegrityError as exc:  # the environment went away meanwhile
                raise StoreConflict(f"environment {record.environment!r} does not exist") from exc
            verb = UPDATED if existed else CREATED
            db.emit(Change(record.kind, verb, (record.environment, record.name), record))
        return existed is None

    def delete_resource(self, environment: str, kind: str, name: str) -> bool:
        with self._write() as db:
            deleted = db.execute(
                "DELETE FROM environment_resources WHERE environment = ? AND kind = ? AND name = ?",
                (environment, kind, name),
            ).rowcount > 0
            if deleted:
                db.emit(Change(kind, DELETED, (environment, name), None))
        return deleted

    # K2K apps

    def list_apps(self) -> list[AppRecord]:
        return [_app(row) for row in self._query(f"SELECT {_APP_COLUMNS} FROM k2k_apps ORDER BY name")]

    def get_app(self, name: str) -> AppRecord | None:
        row = self._query_one(f"SELECT {_APP_COLUMNS} FROM k2k_apps WHERE name = ?", (name,))
        return _app(row) if row else None

    def insert_app(self, record: AppRecord) -> None:
        try:
            with self._write() as db:
                db.execute(
                    f"INSERT INTO k2k_apps ({_APP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.name, record.id, record.display_name, record.description, record.created_at,
                     record.generation, json.dumps(record.spec), json.dumps(record.status)),
                )
                db.emit(Change(K2K_KIND, CREATED, (record.name,), record))
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(f"k2k app {record.name!r} exists") from exc

    def replace_app(self, record: AppRecord, expected_generation: int) -> None:
        """Writes the user's document (not the status) if nobody changed it since `expected_generation`."""
        with self._write() as db:
            replaced = db.execute(
                "UPDATE k2k_apps SET display_name = ?, description = ?, generation = ?, spec = ?"
                " WHERE name = ? AND generation = ?",
                (record.display_name, record.description, record.generation, json.dumps(record.spec),
                 record.name, expected_generation),
            ).rowcount
            if not replaced:
                raise StoreConflict(f"k2k app {record.name!r} changed or went away")
            row = db.execute(f"SELECT {_APP_COLUMNS} FROM k2k_apps WHERE name = ?", (record.name,)).fetchone()
            db.emit(Change(K2K_KIND, UPDATED, (record.name,), _app(row)))

    def update_app_status(self, name: str, status: dict[str, Any]) -> AppRecord | None:
        with self._write() as db:
            db.execute("UPDATE k2k_apps SET status = ? WHERE name = ?", (json.dumps(status), name))
            row = db.execute(f"SELECT {_APP_COLUMNS} FROM k2k_apps WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            record = _app(row)
            db.emit(Change(K2K_KIND, UPDATED, (name,), record))
        return record

    def delete_app(self, name: str) -> AppRecord | None:
        with self._write() as db:
            row = db.execute(f"SELECT {_APP_COLUMNS} FROM k2k_apps WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM k2k_apps WHERE name = ?", (name,))
            db.emit(Change(K2K_KIND, DELETED, (name,), None))
        return _app(row)

    # tokens

    def add_token(self, name: str, kind: str, token_hash: str) -> None:
        try:
            with self._write() as db:
                db.execute(
                    "INSERT INTO tokens (name, kind, token_hash, created_at) VALUES (?, ?, ?, ?)",
                    (name, kind, token_hash, utc_now_iso()),
                )
        except sqlite3.IntegrityError as exc:
            raise StoreConflict(f"token {name!r} exists") from exc

    def replace_token(self, name: str, kind: str, token_hash: str) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO tokens (name, kind, token_hash, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, token_hash = excluded.token_hash,"
                " created_at = excluded.created_at",
                (name, kind, token_hash, utc_now_iso()),
            )
            db.emit(Change(TOKEN_KIND, UPDATED, (name,), None))

    def token_for_hash(self, token_hash: str) -> TokenRecord | None:
        row = self._query_one(
            "SELECT name, kind, created_at FROM tokens WHERE token_hash = ?", (token_hash,)
        )
        return TokenRecord(name=row["name"], kind=row["kind"], created_at=row["created_at"]) if row else None

    def has_token_of_kind(self, kind: str) -> bool:
        return self._query_one("SELECT 1 FROM tokens WHERE kind = ? LIMIT 1", (kind,)) is not None
