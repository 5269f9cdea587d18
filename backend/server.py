"""Running the HQ app under uvicorn: in the foreground (`streamhq serve`) or on a background
thread (the embedded console, the test suite)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

# uvicorn and FastAPI are imported where a server is made: the embedded console binds its socket
# through this module before its first frame, and the server comes after (console/cli.py).
if TYPE_CHECKING:
    from fastapi import FastAPI


def unix_socket(path: Path) -> socket.socket:
    """A listening UNIX socket that only its owner can connect to (0600 from the first
    instant: it is created under a restrictive umask, not chmod-ed afterwards)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(previous)
    sock.listen(128)
    return sock


def tcp_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on accepted sockets whose
    # proto says TCP. Without it Nagle holds each response's body behind its headers until the
    # client's delayed ACK, ~40 ms per request.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


class ServerThread:
    """uvicorn serving `app` on `sock` from a daemon thread; `start()` returns once it accepts."""

    def __init__(self, app: FastAPI, sock: socket.socket) -> None:
        import uvicorn

        self.sock = sock
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True,
                                        name="streamhq-hq")

    def start(self) -> ServerThread:
        self._thread.start()
        while not self.server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the HQ server failed to start; see the log above")
            self._thread.join(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(5)
        self.sock.close()
