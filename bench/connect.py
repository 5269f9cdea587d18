"""Kafka Connect at fleet size: HQ's connector list through the proxy beside the calls it stands for, and how
long a state change on a worker takes to reach HQ's connector feed.

Brings up the sandbox (two real Apache Kafka clusters with a Kafka Connect worker on each; `Sandbox(home).up()` in
a temp home, or the one already running at --sandbox DIR, which is left up), runs the real HQ as users do
(`streamhq serve`, its built-in agent on), and registers one environment holding both Connect clusters. Creates
--connectors FileStreamSource connectors PAUSED (KIP-980's `initial_state`, so one worker holds a hundred without
running them), alternately on each cluster, straight on the workers. Then, one request at a time, in --rounds
turns so that load from outside hits all three alike:

  hq:      GET /api/v1/environments/{env}/proxy/api/kafka-connect/connectors (every connector of both clusters)
  hop:     GET /api/v1/environments/{env}/proxy/api/agent (the proxy's hop into the agent app, no Connect)
  direct:  GET /connectors?expand=status&expand=info on each worker, both at once (what HQ sends)
  n+1:     what a simple client does: GET /connectors on each worker, then GET …/status and GET …/config of each
           connector, one request after the other

and prints p50/p99 of each with the ratios the targets name (hq <= 1.5 x direct; hq >= 5 x faster than n+1).
Last, --changes times, one connector is resumed or paused on its worker (PUT …/resume|pause, straight to it), and
the time until the `connector.updated` event with its new state arrives is taken as an SSE client of
`…/proxy/api/kafka-connect/live/sse` sees it, beside the time until the worker's own status says so; target <= the
agent's poll interval + 250 ms. The connectors are deleted at the end. All HTTP goes through httpx, one keep-alive
client per server, so the ratios compare the servers rather than the clients. About two minutes.

    .venv/bin/python bench/connect.py [--connectors 200] [--requests 300] [--n1-samples 20] [--rounds 3]
                                      [--changes 10] [--sandbox DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/connect.py`, this file's directory heads sys.path (where bench/console.py would shadow the
# `console` package); the project root goes there instead.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from backend.sandbox import Sandbox
from backend.settings import Settings
from bench.agent import pct
from bench.api import machine
from bench.hq import hq_server

ENVIRONMENT = "connect-bench"
PREFIX = "bench-connect-"
SOURCE_CLASS = "org.apache.kafka.connect.file.FileStreamSourceConnector"
TIMEOUT = httpx.Timeout(60.0)


@dataclass
class Timings:
    name: str
    seconds: list[float] = field(default_factory=list)

    def line(self, what: str) -> str:
        return (f"{self.name:<8} {len(self.seconds):>7} {pct(self.seconds, 50) * 1000:>9.1f} "
                f"{pct(self.seconds, 99) * 1000:>9.1f} {max(self.seconds) * 1000:>9.1f}  {what}")


# --- setup on the workers -----------------------------------------------------------------------------------------


async def worker_call(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """A request to a worker, sent again while it answers 409 for a rebalance (many creates in a row start
    rebalances); any other answer is returned."""
    deadline = time.monotonic() + 60
    while True:
        response = await http.request(method, path, **kwargs)
        if response.status_code != 409 or "rebalance" not in response.text or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.2)


async def on_all(items: list[Any], act: Callable[[Any], Awaitable[None]], concurrency: int = 4) -> None:
    queue = list(reversed(items))

    async def run() -> None:
        while queue:
            await act(queue.pop())

    await asyncio.gather(*(run() for _ in range(concurrency)))


async def delete_bench_connectors(workers: dict[str, httpx.AsyncClient]) -> int:
    """Deletes every connector this bench makes (a crashed run's too); returns how many there were."""
    doomed = [(http, name) for http in workers.values()
              for name in (await worker_call(http, "GET", "/connectors")).json() if name.startswith(PREFIX)]

    async def delete(item: tuple[httpx.AsyncClient, str]) -> None:
        http, name = item
        answer = await worker_call(http, "DELETE", f"/connectors/{name}")
        if answer.status_code not in (204, 404):
            raise SystemExit(f"DELETE /connectors/{name}: {answer.status_code} {answer.text}")

    await on_all(doomed, delete)
    return len(doomed)


async def create_connectors(workers: dict[str, httpx.AsyncClient], count: int, empty_file: Path) -> dict[str, str]:
    """`count` paused FileStreamSources, alternately on each cluster; returns name -> cluster. The file is empty,
    so a resumed one reads nothing and produces nothing."""
    clusters = sorted(workers)
    placed = {f"{PREFIX}{n:04d}": clusters[n % len(clusters)] for n in range(count)}

    async def create(name: str) -> None:
        answer = await worker_call(workers[placed[name]], "POST", "/connectors", json={
            "name": name, "initial_state": "PAUSED",
            "config": {"connector.class": SOURCE_CLASS, "tasks.max": "1", "file": str(empty_file),
                       "topic": f"{PREFIX}topic"}})
        if answer.status_code != 201:
            raise SystemExit(f"POST /connectors {name}: {answer.status_code} {answer.text}")

    await on_all(list(placed), create)
    for cluster, http in workers.items():  # created is not yet listed with a state: wait until all are PAUSED
        expected = {name for name, c in placed.items() if c == cluster}
        deadline = time.monotonic() + 120
        while True:
            listed = (await worker_call(http, "GET", "/connectors", params=[("expand", "status")])).json()
            paused = {name for name, entry in listed.items()
                      if name in expected and entry["status"]["connector"]["state"] == "PAUSED"}
            if paused == expected:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{cluster}: {len(paused)} of {len(expected)} connectors PAUSED after 120 s")
            await asyncio.sleep(0.25)
    return placed


# --- the three ways to list ---------------------------------------------------------------------------------------


EXPANDED = [("expand", "status"), ("expand", "info")]


async def hq_list(hq: httpx.AsyncClient) -> int:
    answer = await hq.get(f"/api/v1/environments/{ENVIRONMENT}/proxy/api/kafka-connect/connectors")
    if answer.status_code != 200:
        raise SystemExit(f"HQ's connector list: {answer.status_code} {answer.text[:300]}")
    return len(answer.json()["data"])


async def hq_hop(hq: httpx.AsyncClient) -> int:
    """The agent's smallest route through the same proxy: what the hop into the agent app costs alone."""
    answer = await hq.get(f"/api/v1/environments/{ENVIRONMENT}/proxy/api/agent")
    if answer.status_code != 200:
        raise SystemExit(f"HQ's proxy: {answer.status_code} {answer.text[:300]}")
    return 0


async def direct_list(workers: dict[str, httpx.AsyncClient]) -> int:
    answers = await asyncio.gather(*(http.get("/connectors", params=EXPANDED) for http in workers.values()))
    return sum(len(answer.json()) for answer in answers)


async def n_plus_one_list(workers: dict[str, httpx.AsyncClient]) -> int:
    listed = 0
    for http in workers.values():
        for name in (await http.get("/connectors")).json():
            status = await http.get(f"/connectors/{name}/status")
            config = await http.get(f"/connectors/{name}/config")
            if status.status_code != 200 or config.status_code != 200:
                raise SystemExit(f"{name}: status {status.status_code}, config {config.status_code}")
            listed += 1
    return listed


async def timed(timings: Timings, samples: int, listing: Callable[[], Awaitable[int]], expected: int) -> None:
    for _ in range(samples):
        started = time.perf_counter()
        listed = await listing()
        timings.seconds.append(time.perf_counter() - started)
        if listed < expected:
            raise SystemExit(f"{timings.name}: {listed} connectors listed, {expected} expected")


# --- the feed -----------------------------------------------------------------------------------------------------


class FeedReader:
    """The environment's connector feed as a console reads it: every event, with its arrival time."""

    def __init__(self, hq: httpx.AsyncClient) -> None:
        self.hq = hq
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.refused: str | None = None  # why the feed is not there (a build without it)
        self.ready = asyncio.Event()
        self.arrived = asyncio.Condition()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        path = f"/api/v1/environments/{ENVIRONMENT}/proxy/api/kafka-connect/live/sse"
        async with self.hq.stream("GET", path, timeout=httpx.Timeout(10.0, read=None)) as response:
            if response.status_code != 200:
                self.refused = f"the connector feed answered {response.status_code}"
                self.ready.set()
                return
            name = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name:
                    if name == "ready":
                        self.ready.set()
                        continue
                    async with self.arrived:
                        self.events.append((time.perf_counter(), name, json.loads(line.removeprefix("data: "))))
                        self.arrived.notify_all()

    async def first(self, since: float, matches: Callable[[str, dict[str, Any]], bool], timeout: float) -> float:
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(lambda: any(
                at >= since and matches(name, data) for at, name, data in self.events)), timeout)
            return next(at for at, name, data in self.events if at >= since and matches(name, data))


async def worker_shows(http: httpx.AsyncClient, name: str, state: str) -> float:
    """When the worker's own status first says `state` (asked every 10 ms: the floor beside the feed)."""
    while True:
        answer = await http.get(f"/connectors/{name}/status")
        if answer.status_code == 200 and answer.json()["connector"]["state"] == state:
            return time.perf_counter()
        await asyncio.sleep(0.01)


async def state_changes(hq: httpx.AsyncClient, workers: dict[str, httpx.AsyncClient], placed: dict[str, str],
                        changes: int, interval: float) -> tuple[Timings, Timings] | str:
    """(feed, worker) timings, or why there are none."""
    feed, floor = Timings("feed"), Timings("worker")
    reader = FeedReader(hq)
    await asyncio.wait_for(reader.ready.wait(), 30)
    if reader.refused:
        return reader.refused
    name = sorted(placed)[0]
    http = workers[placed[name]]
    try:
        for n in range(changes):
            action, state = ("resume", "RUNNING") if n % 2 == 0 else ("pause", "PAUSED")
            await asyncio.sleep(random.uniform(0, interval))  # at a random point of the agent's poll cycle
            started = time.perf_counter()
            shown = asyncio.create_task(worker_shows(http, name, state))
            answer = await http.put(f"/connectors/{name}/{action}")
            if answer.status_code != 202:
                raise SystemExit(f"PUT /connectors/{name}/{action}: {answer.status_code} {answer.text}")
            arrived = await reader.first(started, lambda event, data, state=state: event == "connector.updated"
                                         and data.get("name") == name and data.get("state") == state,
                                         interval * 4 + 10)
            floor.seconds.append(await shown - started)
            feed.seconds.append(arrived - started)
    finally:
        reader.task.cancel()
        if changes % 2:  # left RUNNING: paused again, as every other bench connector
            await http.put(f"/connectors/{name}/pause")
    return feed, floor


# --- the run ------------------------------------------------------------------------------------------------------


async def measure(url: str, token: str, connect_urls: dict[str, str], workdir: Path,
                  args: argparse.Namespace) -> dict[str, Any]:
    found: dict[str, Any] = {"notes": []}
    workers = {cluster: httpx.AsyncClient(base_url=u, timeout=TIMEOUT) for cluster, u in connect_urls.items()}
    hq = httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    try:
        found["leftovers"] = await delete_bench_connectors(workers)
        empty = workdir / "empty.txt"
        empty.write_text("")
        started = time.perf_counter()
        placed = await create_connectors(workers, args.connectors, empty)
        found["create_seconds"] = time.perf_counter() - started
        found["sizes"] = {c: len((await w.get("/connectors", params=EXPANDED)).content) for c, w in workers.items()}
        probe = await hq.get(f"/api/v1/environments/{ENVIRONMENT}/proxy/api/kafka-connect/connectors")
        hq_ready = probe.status_code == 200
        if hq_ready:  # the agent's first reading of each cluster may still be on its way
            deadline = time.monotonic() + 60
            while await hq_list(hq) < args.connectors and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
            found["hq_size"] = len((await hq.get(
                f"/api/v1/environments/{ENVIRONMENT}/proxy/api/kafka-connect/connectors")).content)
        elif probe.status_code == 404:
            found["notes"].append("HQ's connector routes are not on this build (the list answered 404):"
                                  " only the direct and N+1 figures")
        else:
            raise SystemExit(f"HQ's connector list: {probe.status_code} {probe.text[:300]}")
        listings = {"hq": (lambda: hq_list(hq), args.requests, args.connectors),
                    "hop": (lambda: hq_hop(hq), args.requests, 0),
                    "direct": (lambda: direct_list(workers), args.requests, args.connectors),
                    "n+1": (lambda: n_plus_one_list(workers), args.n1_samples, args.connectors)}
        if not hq_ready:
            listings = {name: listing for name, listing in listings.items() if name in ("direct", "n+1")}
        timings = {name: Timings(name) for name in listings}
        for _ in range(2):  # warm-up: connections open, the JIT and HQ's plugin cache warm
            for listing, _, _ in listings.values():
                await listing()
        for turn in range(args.rounds):
            for name, (listing, samples, expected) in listings.items():
                share = samples // args.rounds + (1 if turn < samples % args.rounds else 0)
                await timed(timings[name], share, listing, expected)
        found["timings"] = [t for t in timings.values() if t.seconds]
        if args.changes:
            changes = await state_changes(hq, workers, placed, args.changes, args.interval)
            if isinstance(changes, str):
                found["notes"].append(f"{changes}: no state-change figures")
            else:
                found["changes"] = changes
    finally:
        found["deleted"] = await delete_bench_connectors(workers)
        for client in (hq, *workers.values()):
            await client.aclose()
    return found


def report(args: argparse.Namespace, load: tuple[float, ...], found: dict[str, Any], sandbox_seconds: float) -> None:
    print(f"machine: {machine()}")
    print(f"load:    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15-minute load average when the run began)")
    sizes = ", ".join(f"{c} {size / 1024:.0f} KiB" for c, size in found["sizes"].items())
    print(f"setup:   sandbox {'reused' if args.sandbox else f'up in {sandbox_seconds:.1f} s'}; {args.connectors}"
          f" FileStreamSource connectors created PAUSED in {found['create_seconds']:.1f} s, alternately on the two"
          f" Connect clusters ({found['leftovers']} left over from an earlier run deleted first); expanded list"
          f" per worker: {sizes}" + (f"; HQ's list {found['hq_size'] / 1024:.0f} KiB" if "hq_size" in found else ""))
    print("         one request at a time; HQ is `streamhq serve` (one process, built-in agent) on loopback")
    for note in found["notes"]:
        print(f"note:    {note}")
    print()
    header = f"{'list':<8} {'samples':>7} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}  what"
    print(header)
    print("-" * len(header))
    what = {"hq": "GET …/proxy/api/kafka-connect/connectors through HQ",
            "hop": "GET …/proxy/api/agent through HQ (the proxy hop alone, no Connect)",
            "direct": "GET /connectors?expand=status&expand=info on both workers at once",
            "n+1": "GET /connectors, then …/status and …/config per connector, one by one"}
    by_name = {t.name: t for t in found["timings"]}
    for t in found["timings"]:
        print(t.line(what[t.name]))
    if "hq" in by_name:
        hq, direct, n1 = by_name["hq"], by_name["direct"], by_name["n+1"]
        for p in (50, 99):
            to_direct = pct(hq.seconds, p) / pct(direct.seconds, p)
            faster = pct(n1.seconds, p) / pct(hq.seconds, p)
            print(f"p{p}: HQ / direct {to_direct:.2f} x (target <= 1.5: {'met' if to_direct <= 1.5 else 'MISSED'});"
                  f" N+1 / HQ {faster:.1f} x (target >= 5: {'met' if faster >= 5 else 'MISSED'})")
        rest = pct(hq.seconds, 50) - pct(by_name["hop"].seconds, 50) - pct(direct.seconds, 50)
        print(f"p50 of HQ's list less the hop's and the direct calls': {rest * 1000:.1f} ms (the agent's reading,"
              " mapping and serialising of the answer, and the client's parse of it)")
    else:
        n1, direct = by_name["n+1"], by_name["direct"]
        print(f"p50: N+1 / direct {pct(n1.seconds, 50) / pct(direct.seconds, 50):.1f} x (no HQ figures in this run)")
    if "changes" in found:
        feed, floor = found["changes"]
        target = args.interval + 0.25
        print()
        print(f"{'change':<8} {'samples':>7} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}  what")
        print(floor.line("PUT …/pause|resume on the worker -> its own status says so"))
        print(feed.line("the same -> the connector.updated event on HQ's connector feed (SSE client)"))
        print(f"         each, in order: {' '.join(f'{v:.2f}' for v in feed.seconds)} s")
        print(f"state change -> feed, max {max(feed.seconds):.2f} s against the agent's poll interval"
              f" {args.interval:g} s + 250 ms = {target:.2f} s: {'met' if max(feed.seconds) <= target else 'MISSED'}")
    after = os.getloadavg()
    print()
    print(f"Load average at the end: {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}; {found['deleted']} bench connectors"
          " deleted. Two brokers and two Connect workers share the machine with the HQ and this client.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connectors", type=int, default=200)
    parser.add_argument("--requests", type=int, default=300, help="HQ and direct lists each")
    parser.add_argument("--n1-samples", type=int, default=20, help="N+1 listings (each 1 + 2 x connectors GETs)")
    parser.add_argument("--rounds", type=int, default=3, help="turns of the three listings, one after another")
    parser.add_argument("--changes", type=int, default=10, help="pauses and resumes timed to the feed")
    parser.add_argument("--sandbox", type=Path, help="a sandbox home already up (`streamhq sandbox up --home DIR`)")
    args = parser.parse_args()
    args.interval = Settings().agent_interval_seconds  # `streamhq serve` runs the default; it has no flag for it

    load = os.getloadavg()
    token = secrets.token_urlsafe(32)
    workdir = Path(tempfile.mkdtemp(prefix="streamhq-bench-connect-"))
    sandbox_log: list[str] = []
    box = Sandbox(args.sandbox or workdir / "sandbox-home", log=sandbox_log.append)
    try:
        started = time.perf_counter()
        status = box.up()
        sandbox_seconds = time.perf_counter() - started
        connect_urls = {cluster: worker["url"] for cluster, worker in status["connects"].items() if worker}
        if len(connect_urls) != 2:
            raise SystemExit(f"the sandbox's Connect workers are not both up: {status['connects']}\n"
                             + "\n".join(sandbox_log))
        with hq_server(workdir / "hq", token, workdir / "hq.log") as (url, _), httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            api.post("/v1/environments", json={"name": ENVIRONMENT, "tier": "development"}).raise_for_status()
            api.put(f"/v1/environments/{ENVIRONMENT}/kafka-connections/sandbox",
                    json={"override_broker_addresses": [status["clusters"]["source"]["bootstrap"]]}).raise_for_status()
            for cluster, connect_url in connect_urls.items():
                api.put(f"/v1/environments/{ENVIRONMENT}/connect-clusters/{cluster}",
                        json={"urls": [connect_url]}).raise_for_status()
            found = asyncio.run(measure(url, token, connect_urls, workdir, args))
    finally:
        try:
            if not args.sandbox:
                box.down()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    report(args, load, found, sandbox_seconds)


if __name__ == "__main__":
    main()
