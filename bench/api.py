"""HQ API read throughput: list and single-environment GETs under concurrent clients, against
"the floor" — the same list read and serialised in-process with no HTTP at all.

Runs the real server as users do (`streamhq serve` in its own process, on loopback), fills it
with environments over the API, then drives it with asyncio + httpx clients.

    .venv/bin/python bench/api.py [--environments 1000] [--clients 50] [--list-requests 1000]
                                  [--single-requests 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from backend.environments.models import EnvironmentList
from backend.environments.service import EnvironmentService
from backend.settings import Settings
from backend.store import SQLiteStore

STREAMHQ = str(Path(sys.executable).with_name("streamhq"))


@dataclass
class Figures:
    name: str
    requests: int
    seconds: float
    latencies: list[float]  # seconds, one per request; empty for in-process runs
    server_cpu: float | None = None  # server CPU seconds / wall seconds (1.0 = one core busy)
    client_cpu: float | None = None

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def machine() -> str:
    model = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        model = platform.processor() or model
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{model}, {os.cpu_count()} cores ({usable} usable); Python {platform.python_version()};"
            f" {platform.system()} {platform.release()}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def hq_server(home: Path, token: str) -> Iterator[tuple[str, psutil.Process]]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "STREAMHQ_ADMIN_TOKEN": token}
    process = subprocess.Popen([STREAMHQ, "serve", "--home", str(home), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the HQ server did not start")
            time.sleep(0.05)
        yield url, psutil.Process(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def drive(clients: int, total: int, request: Callable[[int], Awaitable[httpx.Response]]) -> list[float]:
    """`total` requests from `clients` concurrent workers; returns each request's latency."""
    latencies: list[float] = []
    issued = 0

    async def worker() -> None:
        nonlocal issued
        while issued < total:
            n = issued
            issued += 1
            started = time.perf_counter()
            response = await request(n)
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 300:
                raise SystemExit(f"{response.request.method} {response.request.url}: {response.status_code}")

    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies


async def measured(name: str, server: psutil.Process, clients: int, total: int,
                   request: Callable[[int], Awaitable[httpx.Response]]) -> Figures:
    server_before, client_before = sum(server.cpu_times()[:2]), time.process_time()
    started = time.perf_counter()
    latencies = await drive(clients, total, request)
    seconds = time.perf_counter() - started
    return Figures(name, total, seconds, latencies,
                   server_cpu=(sum(server.cpu_times()[:2]) - server_before) / seconds,
                   client_cpu=(time.process_time() - client_before) / seconds)


async def over_http(url: str, token: str, server: psutil.Process, args: argparse.Namespace) -> tuple[list[Figures], int]:
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                 limits=limits, timeout=60) as http:
        names = [f"bench-env-{n:05d}" for n in range(args.environments)]
        await drive(args.clients, len(names), lambda n: http.post(
            "/v1/environments", json={"name": names[n], "tier": "staging", "metadata": {"team": f"team-{n % 17}"}}))

        list_size = len((await http.get("/v1/environments")).content)
        await drive(args.clients, args.clients * 2, lambda n: http.get("/v1/environments"))  # warm-up
        lists = await measured("GET /v1/environments (list)", server, args.clients, args.list_requests,
                               lambda n: http.get("/v1/environments"))
        singles = await measured("GET /v1/environments/{name}", server, args.clients, args.single_requests,
                                 lambda n: http.get(f"/v1/environments/{names[n % len(names)]}"))
    return [lists, singles], list_size


def floor(home: Path, seconds: float) -> Figures:
    """The same list, read from the same database and serialised, with no HTTP in between."""
    store = SQLiteStore(Settings(home=home).database)
    service = EnvironmentService(store)
    try:
        EnvironmentList(items=service.list()).model_dump_json()  # warm-up
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            EnvironmentList(items=service.list()).model_dump_json()
            count += 1
    finally:
        store.close()
    return Figures("floor: list + serialise in-process", count, elapsed, [])


def report(figures: list[Figures], floor_figures: Figures, args: argparse.Namespace, list_size: int) -> None:
    print(f"machine: {machine()}")
    print(f"setup:   {args.environments} environments; {args.clients} concurrent clients (asyncio + httpx, one"
          f" process); server `streamhq serve` (uvicorn, one process); list body {list_size / 1024:.0f} KiB")
    print()
    header = f"{'measure':<38} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU':>10} {'client CPU':>10}"
    print(header)
    print("-" * len(header))
    for f in figures:
        print(f"{f.name:<38} {f.requests:>9} {f.per_second:>9.1f} {f.percentile(50) * 1000:>8.1f}"
              f" {f.percentile(99) * 1000:>8.1f} {f.server_cpu:>10.0%} {f.client_cpu:>10.0%}")
    print(f"{floor_figures.name:<38} {floor_figures.requests:>9} {floor_figures.per_second:>9.1f}"
          f" {'lists/s':>8}")
    print()
    lists = figures[0]
    print(f"list over HTTP / floor: {lists.per_second / floor_figures.per_second:.2f}"
          f"  ({lists.per_second:.1f} vs {floor_figures.per_second:.1f} lists/s;"
          f" mean list latency {statistics.fmean(lists.latencies) * 1000:.1f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--list-requests", type=int, default=1000)
    parser.add_argument("--single-requests", type=int, default=10_000)
    parser.add_argument("--floor-seconds", type=float, default=5.0)
    args = parser.parse_args()

    token = secrets.token_urlsafe(32)
    with tempfile.TemporaryDirectory(prefix="streamhq-bench-") as tmp:
        home = Path(tmp)
        with hq_server(home, token) as (url, server):
            figures, list_size = asyncio.run(over_http(url, token, server, args))
        floor_figures = floor(home, args.floor_seconds)  # server stopped: the floor has the machine to itself
    report(figures, floor_figures, args, list_size)


if __name__ == "__main__":
    main()
