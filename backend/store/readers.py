"""A bounded pool of SQLite reader connections, lent to one caller for one read.

Why a pool rather than one connection per thread: the threads that read are not ours to count.
FastAPI's threadpool, uvicorn and the background loops start and end threads as they please,
and a per-thread connection outlives its thread unless something closes it (that leaked three
file descriptors per recycled thread until the server ran out of them). Closing it when its
thread ends still leaves the number of connections equal to the number of live threads; a pool
makes it a constant we choose, so the store's descriptors are the same after a million requests
as after one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class ReaderPool:
    """At most `size` connections; a read waits for a free one when all are lent out (SQLite
    reads take microseconds to milliseconds, so the wait is short)."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], size: int) -> None:
        if size < 1:
            raise ValueError("a reader pool needs at least one connection")
        self.size = size
        self._connect = connect
        self._idle: list[sqlite3.Connection] = []
        self._opened = 0
        self._waiting = 0
        self._closed = False
        self._returned = threading.Condition()

    @property
    def open_connections(self) -> int:
        """Connections open now, lent out or idle: never more than `size`."""
        return self._opened

    @property
    def waiting(self) -> int:
        """Reads waiting for a connection to come back."""
        return self._waiting

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        conn = self._check_out()
        try:
            yield conn
        finally:
            self._check_in(conn)

    def close(self) -> None:
        """Closes the idle connections now and each lent one when it comes back."""
        with self._returned:
            self._closed = True
            for conn in self._idle:
                conn.close()
            self._opened -= len(self._idle)
            self._idle.clear()
            self._returned.notify_all()

    def _check_out(self) -> sqlite3.Connection:
        with self._returned:
            self._waiting += 1
            try:
                while not self._idle and self._opened >= self.size and not self._closed:
                    self._returned.wait()
            finally:
                self._waiting -= 1
            if self._closed:
                raise sqlite3.ProgrammingError("the store is closed")
            if self._idle:
                return self._idle.pop()
            self._opened += 1
        try:
            return self._connect()  # outside the lock: opening a file must not hold up returns
        except BaseException:
            with self._returned:
                self._opened -= 1
                self._returned.notify()
            raise

    def _check_in(self, conn: sqlite3.Connection) -> None:
        with self._returned:
            if self._closed:
                conn.close()
                self._opened -= 1
                return
            self._idle.append(conn)
            self._returned.notify()
