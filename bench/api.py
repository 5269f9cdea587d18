"""HQ API read throughput: list and single-environment GETs under concurrent clients, against
two floors: the same server's `GET /health` (no token, no store: what HTTP alone costs in this
server, measured in the same run with the same clients) for single GETs, and for the list the
same list read and serialised in-process with no HTTP at all.

Runs the real server as users do (`streamhq serve` in its own process, on loopback), fills it
with environments over the API, then drives it from one asyncio process with N concurrent
clients, each on its own keep-alive connection, twice: with httpx.AsyncClient (what the console
uses) and with a minimal HTTP/1.1 client on asyncio streams, whose own cost is small enough
that the figures are the server's rather than the client's. "client CPU" shows which is which.

    .venv/bin/python bench/api.py [--environments 1000] [--clients 20 50] [--list-requests 2000]
                                  [--single-requests 3000] [--rounds 3] [--floor-seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from backend.environments.models import EnvironmentList
from backend.environments.service import EnvironmentService
from backend.settings import Settings
from backend.store import SQLiteStore
from bench.hq import hq_server


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


Get = Callable[[int, str], Awaitable[int]]  # (worker, path) -> HTTP status


class RawHTTP:
    """GETs over plain HTTP/1.1 keep-alive connections, one per worker: no pool, no parser
    beyond the status line and Content-Length (the HQ's JSON answers always carry one)."""

    def __init__(self, url: str, token: str) -> None:
        self.host, port = url.removeprefix("http://").rsplit(":", 1)
        self.port = int(port)
        self.token = token
        self.connections: dict[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] = {}

    async def get(self, worker: int, path: str) -> int:
        if worker not in self.connections:
            self.connections[worker] = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.connections[worker]
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.token}\r\n\r\n"
                     .encode())
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.partition(b":")[2]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await reader.readexactly(length)
        return int(head[9:12])

    async def aclose(self) -> None:
        for _, writer in self.connections.values():
            writer.close()


async def drive(clients: int, total: int, get: Get, paths: Callable[[int], str]) -> list[float]:
    """`total` GETs from `clients` concurrent workers; returns each request's latency."""
    latencies: list[float] = []
    issued = 0

    async def worker(me: int) -> None:
        nonlocal issued
        while issued < total:
            path = paths(issued)
            issued += 1
            started = time.perf_counter()
            status = await get(me, path)
            latencies.append(time.perf_counter() - started)
            if not 200 <= status < 300:
                raise SystemExit(f"{path}: HTTP {status}")

    await asyncio.gather(*(worker(n) for n in range(clients)))
    return latencies


async def measured(name: str, server: psutil.Process, clients: int, total: int, get: Get,
                   paths: Callable[[int], str]) -> Figures:
    await drive(clients, clients * 2, get, paths)  # warm-up: connections open, caches hot
    server_before, client_before = sum(server.cpu_times()[:2]), time.process_time()
    started = time.perf_counter()
    latencies = await drive(clients, total, get, paths)
    seconds = time.perf_counter() - started
    return Figures(name, total, seconds, latencies,
                   server_cpu=(sum(server.cpu_times()[:2]) - server_before) / seconds,
                   client_cpu=(time.process_time() - client_before) / seconds)


@asynccontextmanager
async def httpx_client(url: str, token: str, clients: int) -> AsyncIterator[Get]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                 limits=limits, timeout=60) as http:
        async def get(_: int, path: str) -> int:
            try:
                return (await http.get(path)).status_code
            except httpx.ReadError:
                # A keep-alive connection the server closed as httpx reused it (seen on a starved
                # machine): GETs are idempotent, so once more on a fresh connection, and counted.
                RETRIED[0] += 1
                return (await http.get(path)).status_code

        yield get


@asynccontextmanager
async def raw_client(url: str, token: str, clients: int) -> AsyncIterator[Get]:
    raw = RawHTTP(url, token)
    try:
        yield raw.get
    finally:
        await raw.aclose()


CLIENTS = {"httpx": httpx_client, "raw": raw_client}
RETRIED = [0]  # httpx GETs sent again after a ReadError


async def fill(url: str, token: str, names: list[str], clients: int) -> int:
    """Creates the environments over the API; returns the size of the list answer in bytes."""
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        async def create(_: int, name: str) -> int:
            body = {"name": name, "tier": "staging", "metadata": {"team": f"team-{len(name) % 7}"}}
            return (await http.post("/v1/environments", json=body)).status_code

        await drive(clients, len(names), create, lambda n: names[n])
        listed = await http.get("/v1/environments")
    assert len(listed.json()["items"]) == len(names), "the server holds other environments"
    return len(listed.content)


async def over_http(url: str, token: str, server: psutil.Process,
                    args: argparse.Namespace) -> tuple[list[Figures], int]:
    names = [f"bench-env-{n:05d}" for n in range(args.environments)]
    list_size = await fill(url, token, names, max(args.clients))
    paired = (  # measured in turns, `--rounds` times, so that load from outside hits both alike
        ("health", args.single_requests, lambda n: "/health"),
        ("single", args.single_requests, lambda n: f"/v1/environments/{names[n % len(names)]}"),
    )
    listed = ("list", args.list_requests, lambda n: "/v1/environments")
    figures = []
    for clients in args.clients:
        for client_name, client in CLIENTS.items():
            phases = [*(phase for _ in range(args.rounds) for phase in paired), listed]
            for phase, total, paths in phases:
                # A fresh client per phase: uvicorn drops connections idle for 5 s, which the slow
                # tail of the list phase can leave behind, and a reused one would race that close.
                async with client(url, token, clients) as get:
                    figures.append(await measured(f"{phase} ({client_name}, {clients} clients)", server,
                                                  clients, total, get, paths))
    return figures, list_size


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
    load = os.getloadavg()
    print(f"machine: {machine()}")
    print(f"load:    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15-minute load average at the end)")
    print(f"setup:   {args.environments} environments, list answer {list_size / 1024:.0f} KiB;"
          f" {' and '.join(map(str, args.clients))} concurrent keep-alive clients in one asyncio process;"
          " server: `streamhq serve` (one uvicorn process) on loopback")
    print()
    header = (f"{'GET':<30} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
              f" {'server CPU':>11} {'client CPU':>11}")
    print(header)
    print("-" * len(header))
    for f in figures:
        print(f"{f.name:<30} {f.requests:>9} {f.per_second:>8.1f} {f.percentile(50) * 1000:>8.1f}"
              f" {f.percentile(99) * 1000:>8.1f} {f.server_cpu:>11.0%} {f.client_cpu:>11.0%}")
    print(f"{'floor (in-process list)':<30} {floor_figures.requests:>9} {floor_figures.per_second:>8.1f}"
          "  lists/s: EnvironmentService(store).list() + EnvironmentList(...).model_dump_json()")
    print()
    if RETRIED[0]:
        print(f"httpx GETs retried after a closed keep-alive connection: {RETRIED[0]}")
    print("Ratios are the server's where its CPU is near 100 % and the client's is not: the httpx runs are")
    print("bound by httpx itself (client CPU near one core), so read the raw client's.")
    for which in dict.fromkeys(f.name.partition(" ")[2] for f in figures):
        healths = [f for f in figures if f.name == f"health {which}"]
        singles = [f for f in figures if f.name == f"single {which}"]
        ratios = sorted(s.per_second / h.per_second for h, s in zip(healths, singles, strict=True))
        print(f"single GET / GET /health {which}: {statistics.median(ratios):.2f} (median of {len(ratios)} turns,"
              f" {ratios[0]:.2f}-{ratios[-1]:.2f}; target >= 0.7)")
    for f in figures:
        phase, _, which = f.name.partition(" ")
        if phase == "list":
            print(f"list / in-process floor {which}: {f.per_second / floor_figures.per_second:.2f}"
                  f" ({f.per_second:.1f} / {floor_figures.per_second:.1f} lists/s; target >= 1.0)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=1000)
    parser.add_argument("--clients", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--list-requests", type=int, default=2000)
    parser.add_argument("--single-requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3, help="turns of /health and single GETs, alternating")
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
