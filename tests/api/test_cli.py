"""`streamhq token create` and `streamhq serve`, run as the commands a user types."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
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
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as stderr:
        process = subprocess.Popen([STREAMHQ, "serve", "--home", str(home), "--port", str(port)],
                                   stdout=subprocess.DEVNULL, stderr=stderr, env=_env())
    try:
        until(lambda: process.poll() is not None or _answers(url), STARTUP_LIMIT,
              lambda: f"serve to answer:\n{log.read_text()}")
        assert process.poll() is None, f"serve exited:\n{log.read_text()}"
        yield url
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
