"""The HQ server as the benchmarks run it: `streamhq serve` in its own process, as users do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

STREAMHQ = str(Path(sys.executable).with_name("streamhq"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def hq_server(home: Path, token: str, log: Path | None = None,
              *serve_args: str) -> Iterator[tuple[str, psutil.Process]]:
    """Starts it on a free loopback port with `token` as admin token (output to `log`, if
    given, and more `serve` flags in `serve_args`); yields (URL, process) once /health answers;
    stops it afterwards."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("ab") if log else open(os.devnull, "wb") as out:
        process = subprocess.Popen([STREAMHQ, "serve", "--home", str(home), "--port", str(port), *serve_args],
                                   stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, "STREAMHQ_ADMIN_TOKEN": token})
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                details = f"; its log:\n{log.read_text(errors='replace')}" if log else ""
                raise SystemExit(f"the HQ server did not start{details}")
            time.sleep(0.05)
        yield url, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
