"""`streamhq token create` and `streamhq serve`, run as the commands a user types."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from backend.settings import Settings
from tests.api.hq import running_hq
from tests.waiting import until

STREAMHQ = str(Path(sys.executable).with_name("streamhq"))
ADMIN_TOKEN = re.compile(r"shq_admin_[A-Za-z0-9_-]+")
STARTUP_LIMIT = 30.0  # a safety net against a server that never comes up, not a measurement
STOP_LIMIT = 60.0  # likewise, against one that never stops


def streamhq(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([STREAMHQ, *args], capture_output=True, text=True, timeout=60, env=_env())


def _env() -> dict[str, str]:
    """Ours, without the variables that would choose the admin token or the home for the command."""
    return {k: v for k, v in os.environ.items() if k not in ("STREAMHQ_ADMIN_TOKEN", "STREAMHQ_HOME")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """`count` different ports nothing listens on (free_port may hand the same one out twice)."""
    ports = {free_port()}
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


@contextmanager
def serving(home: Path, log: Path) -> Iterator[str]:
    """`streamhq serve` in a subprocess, its stderr in `log`; yields its URL once it answers."""
    with serving_process(home, log) as (url, _):
        yield url


@contextmanager
def serving_process(home: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`serving`, with the process too."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as stderr:
        process = subprocess.Popen([STREAMHQ, "serve", "--home", str(home), "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=_env())
    try:
        until(lambda: process.poll() is not None or _answers(url), STARTUP_LIMIT,
              lambda: f"serve to answer:\n{log.read_text()}")
        assert process.poll() is None, f"serve exited:\n{log.read_text()}"
        yield url, process
    finally:
        process.kill()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def status_with(url: str, token: str) -> int:
    return httpx.get(f"{url}/v1/environments", headers={"Authorization": f"Bearer {token}"}).status_code


def test_token_create_prints_a_token_the_server_accepts(tmp_path):
    created = streamhq("token", "create", "ci-bot", "--home", str(tmp_path))

    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("shq_sa_")
    with running_hq(Settings(home=tmp_path, admin_token=None, builtin_agent=False)) as hq:
        assert status_with(hq.url, token) == 200
        assert status_with(hq.url, token + "x") == 401


def test_token_create_refuses_a_duplicate_name(tmp_path):
    first = streamhq("token", "create", "ci-bot", "--home", str(tmp_path))

    second = streamhq("token", "create", "ci-bot", "--home", str(tmp_path))

    assert second.returncode == 1
    assert second.stdout == ""
    assert "ci-bot" in second.stderr
    with running_hq(Settings(home=tmp_path, admin_token=None, builtin_agent=False)) as hq:
        assert status_with(hq.url, first.stdout.strip()) == 200


def test_serve_prints_a_generated_admin_token_once_and_it_works(tmp_path):
    home, first_log, second_log = tmp_path / "home", tmp_path / "first.log", tmp_path / "second.log"

    with serving(home, first_log) as url:
        tokens = ADMIN_TOKEN.findall(first_log.read_text())
        assert len(tokens) == 1, first_log.read_text()
        assert status_with(url, tokens[0]) == 200
    with serving(home, second_log) as url:
        assert ADMIN_TOKEN.findall(second_log.read_text()) == []
        assert status_with(url, tokens[0]) == 200


def test_serve_stops_on_sigterm_while_a_live_feed_is_open(tmp_path):
    """A client following a feed holds its stream open for good: the server must still stop
    when told to (it waited for the client to leave, 17 minutes in one try)."""
    log = tmp_path / "serve.log"
    with serving_process(tmp_path / "home", log) as (url, process):
        token = ADMIN_TOKEN.findall(log.read_text())[0]
        opened = threading.Event()

        def follow() -> None:
            with contextlib.suppress(httpx.HTTPError), httpx.stream(
                    "GET", f"{url}/v1/environments/live/sse", headers={"Authorization": f"Bearer {token}"},
                    timeout=httpx.Timeout(5, read=None)) as stream:
                for line in stream.iter_lines():
                    if line.startswith("event: ready"):
                        opened.set()

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        until(opened.is_set, STARTUP_LIMIT, "the feed to open")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=STOP_LIMIT)
        assert process.returncode is not None
