"""Soak: minutes of mixed writes, reads and live subscribers (some of them stalled) against
`streamhq serve`, printing the server's RSS, open file descriptors and threads at the start,
every 30 s and at the end, so that a leak shows as a number that grows.

Not a timed test: it passes or fails by what the figures do, read by a person. The load, all
from one asyncio process on loopback:
- writers: environments created, patched, given a kafka-connection (to addresses where nothing
  listens, so the built-in agent probes and fails every round) and deleted; K2K apps between
  two such unreachable clusters created, patched and deleted (the controller starts and stops
  their workers);
- readers: environment and K2K lists and single GETs;
- subscribers: environment streams that read every event, and raw sockets that subscribe, read
  their `ready` frame and never read again, replaced by new ones every sample.

    .venv/bin/python bench/soak.py [--minutes 2] [--readers 4] [--subscribers 3] [--stalled 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import socket
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from bench.api import machine
from bench.hq import hq_server

SAMPLE_SECONDS = 30.0
APPS = "/api/v0/apps/k2k"
# Loopback addresses nothing listens on, on different hosts so that HQ does not ask them for
# their cluster ids to tell whether an app's source and target are one cluster.
UNREACHABLE_SOURCE = "127.0.0.2:19092"
UNREACHABLE_TARGET = "127.0.0.3:19093"
LIVE_ENVIRONMENTS = 10  # each writer keeps at most this many of its environments at once


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the load began
    rss_mib: float
    fds: int
    threads: int
    workers: int  # K2K worker processes the server runs

    def line(self, label: str) -> str:
        return (f"{label:<8} {self.at:>6.0f} s  RSS {self.rss_mib:>6.1f} MiB  fds {self.fds:>4}"
                f"  threads {self.threads:>3}  K2K workers {self.workers}")


def sample(server: psutil.Process, started: float) -> Sample:
    return Sample(time.monotonic() - started, server.memory_info().rss / 2**20, server.num_fds(),
                  server.num_threads(), len(server.children()))


class Load:
    def __init__(self, client: httpx.AsyncClient, url: str, token: str, deadline: float) -> None:
        self.client = client
        self.url = url
        self.token = token
        self.deadline = deadline
        self.statuses: Counter[tuple[str, int]] = Counter()  # (operation, status) -> answers
        self.failures: Counter[str] = Counter()  # operation -> transport errors
        self.events_read = 0
        self.stalled_opened = 0

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    async def call(self, operation: str, method: str, path: str, **kwargs) -> httpx.Response | None:
        try:
            response = await self.client.request(method, path, **kwargs)
        except httpx.HTTPError:
            self.failures[operation] += 1
            return None
        self.statuses[(operation, response.status_code)] += 1
        return response

    # writers

    async def environments(self, writer: int) -> None:
        alive: list[str] = []
        for n in itertools.count():
            if not self.running():
                break
            name = f"soak-{writer}-{n}"
            if (await self.call("env create", "POST", "/v1/environments", json={"name": name})) is not None:
                alive.append(name)
            await self.call("env patch", "PATCH", f"/v1/environments/{name}", json={"display_name": f"Soak {n}"})
            await self.call("connection put", "PUT", f"/v1/environments/{name}/kafka-connections/main",
                            json={"override_broker_addresses": [UNREACHABLE_SOURCE]})
            if len(alive) > LIVE_ENVIRONMENTS:
                await self.call("env delete", "DELETE", f"/v1/environments/{alive.pop(0)}")
        for name in alive:
            await self.call("env delete", "DELETE", f"/v1/environments/{name}")

    async def apps(self) -> None:
        for n in itertools.count():
            if not self.running():
                break
            name = f"soak-app-{n}"
            await self.call("k2k create", "POST", APPS, json={
                "apiVersion": "v1", "kind": "K2KApp", "metadata": {"name": name},
                "spec": {"sourceKafkaLRN": "environments:kafka-connection/soak-source/main",
                         "targetKafkaLRN": "environments:kafka-connection/soak-target/main", "topics": ["orders"]}})
            await self.call("k2k patch", "PATCH", f"{APPS}/{name}", json={"spec": {"topics": ["orders", "refunds"]}})
            await asyncio.sleep(2)  # lets the controller start its worker before the delete stops it
            await self.call("k2k delete", "DELETE", f"{APPS}/{name}")

    # readers

    async def reads(self) -> None:
        while self.running():
            listed = await self.call("env list", "GET", "/v1/environments")
            items = listed.json()["items"] if listed is not None and listed.status_code == 200 else []
            for environment in items[:5]:
                await self.call("env get", "GET", f"/v1/environments/{environment['name']}")
            await self.call("k2k list", "GET", APPS)

    # subscribers

    async def subscriber(self) -> None:
        """Reads every event, reconnecting when the server ends the stream (a resync)."""
        while self.running():
            try:
                async with self.client.stream("GET", "/v1/environments/live/sse", timeout=10) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("event: "):
                            self.events_read += 1
                        if not self.running():
                            return
            except httpx.HTTPError:
                self.failures["sse"] += 1

    async def stalled(self, count: int) -> None:
        """`count` raw subscribers that stop reading after `ready`, replaced every sample."""
        while self.running():
            sockets = [await self.stalled_subscriber() for _ in range(count)]
            await asyncio.sleep(min(SAMPLE_SECONDS, max(0.0, self.deadline - time.monotonic())))
            for sock in sockets:
                sock.close()

    async def stalled_subscriber(self) -> socket.socket:
        loop = asyncio.get_running_loop()
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # so that the server's writes back up soon
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, int(port)))
        await loop.sock_sendall(sock, (f"GET /v1/environments/live/sse HTTP/1.1\r\nHost: {host}\r\n"
                                       f"Authorization: Bearer {self.token}\r\n\r\n").encode())
        received = b""
        while b"event: ready" not in received:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)
            if not chunk:
                break
            received += chunk
        self.stalled_opened += 1
        return sock


async def setup(client: httpx.AsyncClient) -> None:
    for environment, address in (("soak-source", UNREACHABLE_SOURCE), ("soak-target", UNREACHABLE_TARGET)):
        (await client.post("/v1/environments", json={"name": environment})).raise_for_status()
        (await client.put(f"/v1/environments/{environment}/kafka-connections/main",
                          json={"override_broker_addresses": [address]})).raise_for_status()


async def soak(url: str, token: str, server: psutil.Process, args: argparse.Namespace) -> tuple[list[Sample], Load]:
    limits = httpx.Limits(max_connections=args.readers + args.subscribers + 8)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30,
                                 limits=limits) as client:
        await setup(client)
        started = time.monotonic()
        load = Load(client, url, token, started + args.minutes * 60)
        samples = [sample(server, started)]
        print(samples[0].line("start"), flush=True)
        tasks = [asyncio.create_task(coroutine) for coroutine in (
            *(load.environments(n) for n in range(2)), load.apps(), *(load.reads() for _ in range(args.readers)),
            *(load.subscriber() for _ in range(args.subscribers)), load.stalled(args.stalled))]
        while load.running():
            await asyncio.sleep(min(SAMPLE_SECONDS, max(0.0, load.deadline - time.monotonic())))
            if load.running():
                samples.append(sample(server, started))
                print(samples[-1].line("sample"), flush=True)
        await asyncio.gather(*tasks)
        samples.append(sample(server, started))
        print(samples[-1].line("end"), flush=True)
    return samples, load


def report(samples: list[Sample], load: Load, args: argparse.Namespace, loadavg: tuple[float, ...]) -> None:
    first, last = samples[0], samples[-1]
    print()
    print(f"machine: {machine()}; nproc {os.cpu_count()}")
    print(f"load:    {loadavg[0]:.2f} {loadavg[1]:.2f} {loadavg[2]:.2f} (1/5/15-minute load average when it began)")
    print(f"setup:   {args.minutes:g} min; 2 environment writers, 1 K2K writer, {args.readers} readers,"
          f" {args.subscribers} reading subscribers, {args.stalled} stalled subscribers replaced every"
          f" {SAMPLE_SECONDS:.0f} s ({load.stalled_opened} opened in all)")
    answers = sum(load.statuses.values())
    server_errors = sum(n for (_, status), n in load.statuses.items() if status >= 500)
    print(f"answers: {answers} ({server_errors} 5xx, {sum(load.failures.values())} transport errors);"
          f" {load.events_read} events read by the reading subscribers")
    for (operation, status), n in sorted(load.statuses.items()):
        print(f"         {operation:<15} {status}  {n}")
    print(f"growth:  RSS {last.rss_mib - first.rss_mib:+.1f} MiB, fds {last.fds - first.fds:+d},"
          f" threads {last.threads - first.threads:+d} (start -> end)")
    if len(samples) > 2:  # the first sample has the pools and caches warm: what grows after it is the leak
        warm = samples[1]
        print(f"         RSS {last.rss_mib - warm.rss_mib:+.1f} MiB, fds {last.fds - warm.fds:+d},"
              f" threads {last.threads - warm.threads:+d} (first sample at {warm.at:.0f} s -> end)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--subscribers", type=int, default=3)
    parser.add_argument("--stalled", type=int, default=5)
    args = parser.parse_args()

    token = secrets.token_urlsafe(32)
    loadavg = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="streamhq-soak-") as tmp:
        home = Path(tmp)
        with hq_server(home, token, log=home / "serve.log") as (url, server):
            samples, load = asyncio.run(soak(url, token, server, args))
    report(samples, load, args, loadavg)


if __name__ == "__main__":
    main()
