"""The built-in agent at scale: what 200 environments watched by one HQ cost the HQ process, and how old
the `status` it serves is.

Brings up the sandbox (two real Apache Kafka clusters; `Sandbox(home).up()`) in a temp home, runs the real
HQ as users do (`streamhq serve` in its own process), measures it idle with no environments, then creates the
environments over the API, each with a kafka-connection to one of the two clusters (alternating source and
target, SCRAM-SHA-512 listener), and keeps the sandbox's demo order stream (a producer and a consumer
group) flowing on `source` so that rates are non-zero. Then, with every environment's agent connected:

  quiet:  HQ CPU (% of one core, from cpu_times deltas), RSS, threads, with no request reaching the HQ,
          and the environment events its live feed sends meanwhile (events/s: what every console receives);
  polled: the same while GET /v1/environments runs every 0.5 s; each answer gives, for every environment,
          its staleness = (the moment the answer arrived - status.agent.updated_at).

The agent's rounds are recovered from the distinct updated_at values seen: their period, and how long
each round takes to write every environment's status. This prints figures; it asserts nothing. About 2 minutes.

    .venv/bin/python bench/agent.py [--environments 200] [--seconds 60] [--quiet-seconds 20]
                                    [--idle-seconds 10] [--poll 0.5] [--no-producer]

With --no-producer the environments are idle (nothing changes on either cluster), which is where
the feed's events/s shows what the agent publishes for nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/agent.py`, this file's directory heads sys.path (where bench/console.py would shadow
# the `console` package); the project root goes there instead, and bench/api.py is imported as bench.api.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import os
import secrets
import shutil
import statistics
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

import httpx
import psutil

from backend.sandbox import Sandbox
from backend.sandbox.demo import DEMO_TOPIC, OrderStream
from backend.settings import Settings
from bench.api import machine
from bench.hq import hq_server

CONNECTION = "main"


# --- figures ------------------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def memory_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return int(status["VmRSS"].split()[0]), int(status["VmHWM"].split()[0])


@dataclass
class Usage:
    """One phase of the HQ process: CPU samples (wall, cpu seconds), memory, threads."""

    name: str
    samples: list[tuple[float, float]] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    hwm_kib: int = 0
    threads: list[int] = field(default_factory=list)

    def sample(self, process: psutil.Process) -> None:
        times = process.cpu_times()
        self.samples.append((time.perf_counter(), times.user + times.system))
        rss, self.hwm_kib = memory_kib(process.pid)
        self.rss_kib.append(rss)
        self.threads.append(process.num_threads())

    @property
    def seconds(self) -> float:
        return self.samples[-1][0] - self.samples[0][0]

    @property
    def cpu(self) -> float:
        """Mean CPU over the phase, as a fraction of one core."""
        return (self.samples[-1][1] - self.samples[0][1]) / self.seconds

    def peak_cpu(self, window: float = 1.0) -> float:
        """The busiest `window` seconds (at the sampling's resolution)."""
        best = 0.0
        for i, (started, cpu_started) in enumerate(self.samples):
            end = next((s for s in self.samples[i + 1:] if s[0] - started >= window), None)
            if end is None:
                break
            best = max(best, (end[1] - cpu_started) / (end[0] - started))
        return best


def measure_quietly(name: str, process: psutil.Process, seconds: float, every: float = 0.25) -> Usage:
    usage = Usage(name)
    deadline = time.perf_counter() + seconds
    usage.sample(process)
    while time.perf_counter() < deadline:
        time.sleep(every)
        usage.sample(process)
    return usage


class FeedCounter:
    """The environments' live feed, read as a console does (on a thread of its own): each event's
    name and arrival time."""

    def __init__(self, url: str, token: str) -> None:
        self.events: list[tuple[float, str]] = []
        self._thread = threading.Thread(target=self._read, args=(url, token), daemon=True)
        self._thread.start()

    def _read(self, url: str, token: str) -> None:
        try:
            with httpx.stream("GET", f"{url}/v1/environments/live/sse", headers={"Authorization": f"Bearer {token}"},
                              timeout=None) as response:
                for line in response.iter_lines():
                    if line.startswith("event: ") and line != "event: ready":
                        self.events.append((time.perf_counter(), line.removeprefix("event: ")))
        except httpx.TransportError:  # the HQ stopped at the end of the run
            return

    def between(self, started: float, ended: float) -> Counter[str]:
        return Counter(name for at, name in list(self.events) if started <= at < ended)


def parse_time(value: str | None) -> float | None:
    return datetime.fromisoformat(value).timestamp() if value else None


@dataclass
class Staleness:
    reads: int = 0
    ages: list[float] = field(default_factory=list)  # answer arrived - status.agent.updated_at
    data_ages: list[float] = field(default_factory=list)  # answer arrived - status.agent.metrics.kafka.updated_at
    latencies: list[float] = field(default_factory=list)  # the GET's round trip
    body_bytes: int = 0
    connected: list[int] = field(default_factory=list)  # agent_connected environments, per answer
    without_status: list[int] = field(default_factory=list)  # no status.agent yet, per answer
    written: set[float] = field(default_factory=set)  # every distinct status.agent.updated_at seen
    cluster_reads: dict[str, set[float]] = field(default_factory=dict)  # distinct metrics.kafka.updated_at
    issues: Counter[str] = field(default_factory=Counter)
    last: list[dict[str, Any]] = field(default_factory=list)

    def read(self, answer: dict[str, Any], arrived: float) -> None:
        self.reads += 1
        items = answer["items"]
        self.last = items
        connected = missing = 0
        for environment in items:
            status = environment.get("status") or {}
            agent = status.get("agent")
            if status.get("agent_connected"):
                connected += 1
            if not agent:
                missing += 1
                continue
            updated = parse_time(agent["updated_at"])
            self.written.add(updated)
            self.ages.append(arrived - updated)
            data_read = parse_time(((agent.get("metrics") or {}).get("kafka") or {}).get("updated_at"))
            if data_read is not None:
                self.data_ages.append(arrived - data_read)
                self.cluster_reads.setdefault(environment["metadata"].get("cluster", "?"), set()).add(data_read)
            self.issues.update(agent.get("issues") or [])
        self.connected.append(connected)
        self.without_status.append(missing)


def rounds(written: set[float], gap: float = 1.0) -> list[tuple[float, float]]:
    """The agent's rounds, as (first, last) status write, from the distinct updated_at values seen: a round
    writes every environment one after the other, rounds are seconds apart."""
    found: list[list[float]] = []
    for moment in sorted(written):
        if found and moment - found[-1][1] <= gap:
            found[-1][1] = moment
        else:
            found.append([moment, moment])
    return [(first, last) for first, last in found]


# --- the HQ and the sandbox ---------------------------------------------------------------------------------------


def connection_body(cluster: dict[str, Any]) -> dict[str, Any]:
    return {"override_broker_addresses": [cluster["sasl_bootstrap"]],
            "auth": {"sasl_scram": {"mechanism": cluster["sasl_mechanism"], "username": cluster["username"],
                                    "password": cluster["password"]}}}


async def create_environments(url: str, token: str, count: int, clusters: dict[str, dict[str, Any]],
                              clients: int = 8) -> float:
    """POSTs `count` environments and PUTs each one's kafka-connection (even: source, odd: target)."""
    queue = list(range(count))[::-1]
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:

        async def worker() -> None:
            while queue:
                n = queue.pop()
                name, cluster = f"agent-{n:04d}", ("source", "target")[n % 2]
                created = await http.post("/v1/environments", json={
                    "name": name, "display_name": f"Agent bench {n} ({cluster})", "tier": "staging",
                    "metadata": {"cluster": cluster}})
                if created.status_code != 201:
                    raise SystemExit(f"POST /v1/environments: {created.status_code} {created.text}")
                put = await http.put(f"/v1/environments/{name}/kafka-connections/{CONNECTION}",
                                     json=connection_body(clusters[cluster]))
                if put.status_code not in (200, 201):
                    raise SystemExit(f"PUT kafka-connection of {name}: {put.status_code} {put.text}")

        await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started


def list_environments(http: httpx.Client) -> tuple[dict[str, Any], float, float, int]:
    """(answer, arrival wall time, round trip, body bytes)."""
    started = time.perf_counter()
    response = http.get("/v1/environments")
    arrived = time.time()
    if response.status_code != 200:
        raise SystemExit(f"GET /v1/environments: {response.status_code} {response.text}")
    return response.json(), arrived, time.perf_counter() - started, len(response.content)


def wait_connected(http: httpx.Client, count: int, timeout: float) -> tuple[float | None, Staleness]:
    """Polls until every environment is agent_connected; returns the seconds it took (None: timed out)."""
    seen = Staleness()
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        answer, arrived, _, _ = list_environments(http)
        seen.read(answer, arrived)
        if seen.connected[-1] == count:
            return time.perf_counter() - started, seen
        time.sleep(0.25)
    return None, seen


def poll(http: httpx.Client, process: psutil.Process, seconds: float, every: float) -> tuple[Staleness, Usage]:
    staleness, usage = Staleness(), Usage("polled")
    usage.sample(process)
    started = time.perf_counter()
    tick = started
    while time.perf_counter() - started < seconds:
        answer, arrived, latency, size = list_environments(http)
        staleness.read(answer, arrived)
        staleness.latencies.append(latency)
        staleness.body_bytes = size
        usage.sample(process)
        tick += every
        time.sleep(max(0.0, tick - time.perf_counter()))
    usage.sample(process)
    return staleness, usage


# --- report -------------------------------------------------------------------------------------------------------


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f} MiB"


def report(args: argparse.Namespace, load: tuple[float, ...], timings: dict[str, float | None],
           usages: list[Usage], staleness: Staleness, log_text: str, producing: bool, events: Counter[str]) -> None:
    settings = Settings()
    print(f"machine: {machine()}")
    print(f"load:    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15-minute load average when the run began)")
    connected_after = timings["connected"]
    print(f"setup:   sandbox up in {timings['sandbox']:.1f} s; {args.environments} environments + kafka-connections"
          f" created over the API in {timings['create']:.1f} s (half on source, half on target, SCRAM-SHA-512);"
          f" all agent_connected {f'{connected_after:.1f} s' if connected_after is not None else 'NOT within 60 s'}"
          " after the last was made")
    print(f"agent:   interval {settings.agent_interval_seconds:g} s, probe timeout {settings.agent_timeout_seconds:g} s"
          f" (the defaults; `streamhq serve` has no flag for them); 2 distinct clusters, so 2 watches;"
          f" demo stream on source ({DEMO_TOPIC}, ~40 msg/s, consumed by demo-billing):"
          f" {'on' if producing else 'off'}")
    print()
    header = f"{'HQ process (`streamhq serve`)':<44} {'seconds':>7} {'CPU mean':>9} {'CPU peak 1s':>11}" \
             f" {'RSS':>10} {'VmHWM':>10} {'threads':>8}"
    print(header)
    print("-" * len(header))
    labels = {"idle": "idle, 0 environments",
              "quiet": f"{args.environments} envs, agent only (no requests)",
              "polled": f"{args.environments} envs, + GET list every {args.poll:g} s"}
    for usage in usages:
        print(f"{labels[usage.name]:<44} {usage.seconds:>7.1f} {usage.cpu:>9.1%} {usage.peak_cpu():>11.1%}"
              f" {mib(usage.rss_kib[-1]):>10} {mib(usage.hwm_kib):>10} {usage.threads[-1]:>8}")
    print("  (CPU as % of one core; RSS at the phase's end; VmHWM = peak RSS of the process so far)")
    for usage in usages:
        print(f"  {usage.name}: RSS {mib(usage.rss_kib[0])} at the start -> {mib(usage.rss_kib[-1])} at the end;"
              f" threads min {min(usage.threads)}, max {max(usage.threads)}")
    print("  (threads: main, the agent's loop and its probe pool (up to 8), anyio's worker threads for sync routes,"
          " which only exit when a later request finds them idle > 10 s)")
    quiet = next(u for u in usages if u.name == "quiet")
    print(f"  live feed during the quiet phase: {sum(events.values())} environment events in {quiet.seconds:.1f} s ="
          f" {sum(events.values()) / quiet.seconds:.1f} events/s ({dict(events) or 'none'})")
    print()
    s = staleness
    header = f"{'status staleness, per environment per read':<44} {'samples':>7} {'p50':>9} {'p99':>9} {'max':>9}"
    print(header)
    print("-" * len(header))
    for label, values in (("now - status.agent.updated_at", s.ages),
                          ("now - status.agent.metrics.kafka.updated_at", s.data_ages)):
        if values:
            print(f"{label:<44} {len(values):>7} {pct(values, 50):>8.2f}s {pct(values, 99):>8.2f}s"
                  f" {max(values):>8.2f}s")
    print(f"  {s.reads} reads over {args.seconds:g} s; GET /v1/environments ({s.body_bytes / 1024:.0f} KiB):"
          f" p50 {pct(s.latencies, 50) * 1000:.0f} ms, p99 {pct(s.latencies, 99) * 1000:.0f} ms,"
          f" max {max(s.latencies) * 1000:.0f} ms ('now' = when the answer had arrived)")
    print(f"  agent_connected per read: min {min(s.connected)}, median {statistics.median(s.connected):g},"
          f" max {max(s.connected)} of {args.environments}; reads with an environment lacking status.agent:"
          f" {sum(1 for n in s.without_status if n)}")
    found = rounds(s.written)
    complete = found[1:-1]  # the first and last may be cut by the reading window
    if len(complete) >= 2:
        periods = [b[0] - a[0] for a, b in pairwise(complete)]
        spans = [last - first for first, last in complete]
        print(f"  agent rounds seen: {len(found)}; period (first write to first write) median"
              f" {statistics.median(periods):.2f} s, min {min(periods):.2f}, max {max(periods):.2f};"
              f" writing {args.environments} statuses takes median {statistics.median(spans) * 1000:.0f} ms,"
              f" max {max(spans) * 1000:.0f} ms")
    for cluster, reads in sorted(s.cluster_reads.items()):
        found = sorted(reads)[1:]  # the first may predate the reading window
        periods = [b - a for a, b in pairwise(found)]
        if periods:
            print(f"  cluster {cluster}: {len(reads)} distinct readings (metrics.kafka.updated_at) in the window;"
                  f" period median {statistics.median(periods):.2f} s, min {min(periods):.2f}, max {max(periods):.2f}")
    if s.issues:
        print("  issues reported (environment-reads):")
        for issue, n in s.issues.most_common(5):
            print(f"    {n:>6} x {issue}")
    else:
        print("  issues reported: none")
    by_cluster: dict[str, dict[str, Any]] = {}
    for environment in s.last:
        by_cluster.setdefault(environment["metadata"].get("cluster", "?"), environment)
    for cluster, environment in sorted(by_cluster.items()):
        agent = environment["status"].get("agent") or {}
        metrics = agent.get("metrics") or {}
        data, kafka, apps = metrics.get("data") or {}, metrics.get("kafka") or {}, metrics.get("apps") or {}

        def rate(key: str, data: dict[str, Any] = data) -> str:
            value = data.get(key)
            return "-" if value is None else f"{value:,.1f}"

        print(f"  last read, {environment['name']} ({cluster}): Kafka {kafka.get('version')}, {data.get('num_topics')}"
              f" topics, {data.get('num_partitions')} partitions, {data.get('topic_data_total_bytes')} B,"
              f" in {rate('data_in_messages_per_sec')} msg/s {rate('data_in_bytes_per_sec')} B/s,"
              f" out {rate('data_out_bytes_per_sec')} B/s, {apps.get('num_consumers')} consumer groups,"
              f" roundtrip {agent.get('roundtrip_duration')} ms")
    text = log_text
    trouble = [line for line in text.splitlines() if any(w in line for w in ("Traceback", "ERROR", "Exception"))]
    print(f"  HQ log: {len(text.splitlines())} lines, {len(trouble)} with Traceback/ERROR/Exception"
          + (f"; first: {trouble[0][:160]}" if trouble else ""))
    after = os.getloadavg()
    print()
    print(f"Load average at the end: {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}. The sandbox's JVMs (two brokers,"
          " a Connect worker) and the demo stream share the machine; CPU figures are the HQ process's alone.")


# --- main ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0, help="the polled phase: staleness and CPU")
    parser.add_argument("--quiet-seconds", type=float, default=20.0, help="the agent alone, no requests")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="the HQ with no environments")
    parser.add_argument("--poll", type=float, default=0.5, help="seconds between GET /v1/environments")
    parser.add_argument("--no-producer", action="store_true", help="no demo stream on source")
    args = parser.parse_args()

    load = os.getloadavg()
    token = secrets.token_urlsafe(32)
    workdir = Path(tempfile.mkdtemp(prefix="streamhq-bench-agent-"))
    log = workdir / "hq.log"
    sandbox_log: list[str] = []
    box = Sandbox(workdir / "sandbox-home", log=sandbox_log.append)
    stream: OrderStream | None = None
    timings: dict[str, float | None] = {}
    try:
        started = time.perf_counter()
        clusters = box.up()["clusters"]
        timings["sandbox"] = time.perf_counter() - started
        if not all(clusters.values()):
            raise SystemExit(f"the sandbox's clusters are not all up: {clusters}\n" + "\n".join(sandbox_log))
        if not args.no_producer:
            stream = OrderStream(clusters["source"]["bootstrap"]).start()
        with hq_server(workdir / "hq", token, log) as (url, process):
            idle = measure_quietly("idle", process, args.idle_seconds)
            timings["create"] = asyncio.run(create_environments(url, token, args.environments, clusters))
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
                timings["connected"], _ = wait_connected(http, args.environments, 60)
                feed = FeedCounter(url, token)
                quiet_started = time.perf_counter()
                quiet = measure_quietly("quiet", process, args.quiet_seconds)
                events = feed.between(quiet_started, time.perf_counter())
                staleness, polled = poll(http, process, args.seconds, args.poll)
    finally:
        if stream is not None:
            stream.stop()
        try:
            box.down()
        finally:
            log_text = log.read_text(errors="replace") if log.exists() else ""
            shutil.rmtree(workdir, ignore_errors=True)
    report(args, load, timings, [idle, quiet, polled], staleness, log_text, stream is not None, events)


if __name__ == "__main__":
    main()
