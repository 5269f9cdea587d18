"""Real HTTP upstreams for tests, on free loopback ports: a tiny server that answers with what
a test asks, a port that refuses connections, and one that takes connections and never answers."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

from backend.agent.upstream import UpstreamPool

T = TypeVar("T")


@dataclass
class Seen:
    """The requests a tiny server received: method, path and headers of each."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)


# answer(method, path, headers) -> (status, body): bytes are sent as they are, anything else as JSON
Answer = Callable[[str, str, dict[str, str]], tuple[int, object]]


@contextmanager
def tiny_server(answer: Answer) -> Iterator[tuple[str, Seen]]:
    """An HTTP server answering every request with `answer`; yields its URL and what it saw."""
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        def _respond(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen.requests.append((self.command, self.path, headers))
            status, body = answer(self.command, self.path, headers)
            raw = isinstance(body, bytes)
            payload = body if raw else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if raw else "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _respond

        def log_message(self, *_: object) -> None:  # keep the test output clean
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def refusing_url() -> Iterator[str]:
    """A loopback URL whose port refuses connections: bound (so nobody else takes it), not listening."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@contextmanager
def silent_url() -> Iterator[str]:
    """A loopback URL that takes connections (the kernel completes them into the backlog) and
    never answers a request."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


def on_a_loop(upstreams: UpstreamPool, call: Callable[[], Awaitable[T]]) -> T:
    """Runs an async upstream call on a loop of its own, closing the async client (whose
    connections belong to that loop) before the loop goes."""

    async def run() -> T:
        try:
            return await call()
        finally:
            await upstreams.aclose()

    return asyncio.run(run())


@dataclass
class HoldingServer:
    """Takes every connection and holds it unanswered until `release()`."""

    url: str
    connections: list[socket.socket] = field(default_factory=list)

    def release(self) -> None:
        for connection in self.connections:
            connection.close()


@contextmanager
def holding_server() -> Iterator[HoldingServer]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    server = HoldingServer(f"http://127.0.0.1:{listener.getsockname()[1]}")

    def accept() -> None:
        while True:
            try:
                server.connections.append(listener.accept()[0])
            except OSError:  # the listener closed: the test is over
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server
    finally:
        listener.close()
        server.release()


@contextmanager
def event_stream_server(body: bytes) -> Iterator[str]:
    """A server answering every request with `body` as Server-Sent Events, then keeping the
    stream open, silent, until the test ends (as a quiet live stream does); yields its URL."""
    done = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            done.wait()

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        done.set()
        server.shutdown()
        server.server_close()
