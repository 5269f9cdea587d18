"""The event API (seed 004) through HQ's proxy beside confluent-kafka on the same Kafka, in one run.

Brings up the sandbox (`Sandbox(home).up()` in a temp home, or the one already running at --sandbox DIR, which is
left up), runs the real HQ as users do (`streamhq serve`, its built-in agent on) and registers one environment on the
sandbox's `source` Kafka (PLAINTEXT; --cluster target for the other). Two fresh topics of --partitions partitions:
one written through the API, one written directly. The records are the same on both sides: --records JSON objects of
--value-bytes bytes each (compact encoding), keyed by their sequence number. Then, in --rounds turns so that load
from outside hits every contender alike:

  publish   api:     POST …/proxy/api/v1/streams/{s}/events/batch, batches of --batch events, --clients concurrent
                     clients (one keep-alive connection each, bodies encoded before the clock starts)
            direct:  one long-lived confluent-kafka Producer configured as the agent's (enable.idempotence,
                     acks=all, linger.ms=5, murmur2_random), produce() each record, flush(); every delivery report
                     checked
  consume   api:     GET …/streams/{s}/events?consumerGroup=<new>&offset=earliest&limit=1000 in a loop, --consumers
                     callers (default 1) sharing the group's member, until --records distinct records came back
                     (none twice)
            direct:  a confluent-kafka Consumer of a new group, auto.offset.reset=earliest, consume(1000) in a loop,
                     json.loads of each value (the API's caller gets decoded values too), until --records records
  latency   single:  POST …/events with one record, one at a time (--singles each round)
            produce: the floor beside it: produce() one record and wait for its delivery report, one at a time
            health:  GET /health on HQ (its floor: no proxy, no agent), one at a time
            hop:     GET …/proxy/api/agent (the proxy's hop into the agent app, no Kafka), one at a time

Throughput is records / seconds from the first request to the last answer (publish) or from the first record to
the last (consume: the new group's join and assignment, the same for both, are shown apart). It prints the
ratios the targets name (batch publish >= 0.3 x direct, consume >= 0.3 x direct, API records/s > 12,000, Karapace's
figure with 50-record requests, karapace#412) and Confluent's REST proxy anchor (up to 90 % below native,
kafka-rest#199), with the machine and the 1-minute load before each figure. The topics are deleted at the end.

    .venv/bin/python bench/events.py [--records 40000] [--batch 500] [--clients 4] [--value-bytes 1024]
                                     [--partitions 6] [--rounds 3] [--singles 200] [--consumers 1]
                                     [--sandbox DIR] [--cluster source|target]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/events.py`, this file's directory heads sys.path (where bench/console.py would shadow the
# `console` package); the project root goes there instead.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import json
import os
import secrets
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from confluent_kafka import Consumer, KafkaError, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from backend.sandbox import Sandbox
from bench.agent import pct
from bench.api import machine
from bench.hq import hq_server

ENVIRONMENT = "events-bench"
PREFIX = "bench-events-"
TIMEOUT = httpx.Timeout(60.0)
KARAPACE_RECORDS_PER_SECOND = 12_000  # karapace#412, 50-record requests
REST_PROXY_SHARE = 0.1  # kafka-rest#199: up to 90 % below a native consumer
TARGET_RATIO = 0.3
# As the agent's producer (backend/streams/publish.py), so that the two sides do the same work.
PRODUCER = {"enable.idempotence": True, "acks": "all", "linger.ms": 5, "partitioner": "murmur2_random"}


def load1() -> float:
    return os.getloadavg()[0]


@dataclass
class Rate:
    """A throughput over rounds: records and seconds of each, and the 1-minute load each began with."""

    name: str
    records: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # consume: the start until the first record

    def add(self, records: int, seconds: float, load: float, wait: float | None = None) -> None:
        self.records.append(records)
        self.seconds.append(seconds)
        self.loads.append(load)
        if wait is not None:
            self.waits.append(wait)

    @property
    def per_second(self) -> float:
        return sum(self.records) / sum(self.seconds)

    def line(self, what: str) -> str:
        rounds = " ".join(f"{r / s:,.0f}" for r, s in zip(self.records, self.seconds, strict=True))
        loads = " ".join(f"{v:.1f}" for v in self.loads)
        waits = f"; first record after {' '.join(f'{w:.2f}' for w in self.waits)} s" if self.waits else ""
        return f"{self.name:<15} {self.per_second:>10,.0f}  rounds {rounds} (load {loads}){waits}  {what}"


@dataclass
class Latency:
    name: str
    seconds: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def line(self, what: str) -> str:
        loads = " ".join(f"{v:.1f}" for v in self.loads)
        return (f"{self.name:<8} {len(self.seconds):>7} {pct(self.seconds, 50) * 1000:>8.2f} "
                f"{pct(self.seconds, 99) * 1000:>8.2f} {max(self.seconds) * 1000:>8.2f}  (load {loads})  {what}")


# --- the records --------------------------------------------------------------------------------------------------


def values(count: int, size: int) -> list[bytes]:
    """`count` compact JSON objects of exactly `size` bytes (for sequence numbers below 10**9)."""
    empty = len(json.dumps({"seq": 0, "pad": ""}, separators=(",", ":"))) - 1
    return [json.dumps({"seq": n, "pad": "x" * (size - empty - len(str(n)))}, separators=(",", ":")).encode()
            for n in range(count)]


def batch_bodies(records: list[bytes], batch: int) -> list[bytes]:
    """The batch publish bodies of `records`, each value embedded as the JSON it already is."""
    bodies = []
    for start in range(0, len(records), batch):
        events = ",".join(f'{{"key":"{n}","value":{records[n].decode()}}}'
                          for n in range(start, min(start + batch, len(records))))
        bodies.append(f'{{"events":[{events}]}}'.encode())
    return bodies


# --- through the API ----------------------------------------------------------------------------------------------


def events_path(stream: str, *rest: str) -> str:
    return "/".join((f"/api/v1/environments/{ENVIRONMENT}/proxy/api/v1/streams/{stream}", *rest))


async def api_publish(url: str, token: str, stream: str, bodies: list[bytes], clients: int) -> tuple[int, float]:
    """(records published, seconds) of every body through `clients` concurrent keep-alive clients."""
    pending = list(reversed(bodies))
    published = 0
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = events_path(stream, "events", "batch")

    async def client() -> None:
        nonlocal published
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=TIMEOUT) as http:
            await http.get("/health")  # the connection opens before the clock starts
            await ready.wait()
            while pending:
                answer = await http.post(path, content=pending.pop())
                if answer.status_code != 200 or (body := answer.json())["failureCount"]:
                    raise SystemExit(f"batch publish: {answer.status_code} {answer.text[:400]}")
                published += body["successCount"]

    ready = asyncio.Event()
    tasks = [asyncio.create_task(client()) for _ in range(clients)]
    await asyncio.sleep(0.2)  # each client's connection opened (a client slower to open only starts later)
    started = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    return published, time.perf_counter() - started


async def api_consume(hq: httpx.AsyncClient, stream: str, records: int, callers: int) -> tuple[int, float, float]:
    """(records, seconds from the first record to the last, seconds until the first) for a new group, pulled by
    `callers` concurrent callers; each record must come to one caller only."""
    group = f"{PREFIX}{uuid.uuid4().hex[:8]}"
    seen: set[str] = set()
    handed = 0
    started = time.perf_counter()
    first = last = None

    async def caller() -> None:
        nonlocal handed, first, last
        while len(seen) < records:
            answer = await hq.get(events_path(stream, "events"), params={
                "consumerGroup": group, "offset": "earliest", "limit": 1000, "timeout": 5000})
            if answer.status_code != 200:
                raise SystemExit(f"consume: {answer.status_code} {answer.text[:400]}")
            events = answer.json()["events"]
            if not events and len(seen) < records:
                raise SystemExit(f"consume: an empty answer after {len(seen)} of {records} records")
            if events:
                first = first or time.perf_counter()
                handed += len(events)
                seen.update(event["eventId"] for event in events)
                last = time.perf_counter()

    await asyncio.gather(*(caller() for _ in range(callers)))
    if handed != len(seen):
        raise SystemExit(f"consume: {handed - len(seen)} records handed out twice")
    return len(seen), last - first, first - started


async def timed_calls(timings: Latency, samples: int, call: Any) -> None:
    timings.loads.append(load1())
    for _ in range(samples):
        started = time.perf_counter()
        await call()
        timings.seconds.append(time.perf_counter() - started)


def checked(answer: httpx.Response, status: int, what: str) -> None:
    if answer.status_code != status:
        raise SystemExit(f"{what}: {answer.status_code} {answer.text[:400]}")


# --- directly -----------------------------------------------------------------------------------------------------


def direct_publish(producer: Producer, stream: str, records: list[bytes]) -> tuple[int, float]:
    """(records delivered, seconds) through `producer`, a long-lived one as the agent's is."""
    failed: list[KafkaError] = []
    delivered = 0

    def report(error: KafkaError | None, _message: Any) -> None:
        nonlocal delivered
        if error is not None:
            failed.append(error)
        else:
            delivered += 1

    started = time.perf_counter()
    for n, value in enumerate(records):
        while True:
            try:
                producer.produce(stream, value, str(n).encode(), on_delivery=report)
                break
            except BufferError:
                producer.poll(0.01)
        producer.poll(0)
    producer.flush(60)
    seconds = time.perf_counter() - started
    if failed or delivered != len(records):
        raise SystemExit(f"direct produce: {delivered} delivered, {len(failed)} failed ({failed[:1]})")
    return delivered, seconds


def direct_consume(bootstrap: str, stream: str, records: int) -> tuple[int, float, float]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"{PREFIX}{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([stream])
    started = time.perf_counter()
    first = None
    count = 0
    deadline = time.monotonic() + 120
    try:
        while count < records:
            if time.monotonic() > deadline:
                raise SystemExit(f"direct consume: {count} of {records} records in 120 s")
            for message in consumer.consume(1000, 1.0):
                if message.error() is not None:
                    continue
                json.loads(message.value())
                count += 1
                if first is None:
                    first = time.perf_counter()
        return count, time.perf_counter() - first, first - started
    finally:
        consumer.close()


def direct_single(producer: Producer, stream: str, value: bytes) -> None:
    done: list[KafkaError | None] = []
    producer.produce(stream, value, b"single", on_delivery=lambda error, _m: done.append(error))
    while not done:
        producer.poll(1.0)
    if done[0] is not None:
        raise SystemExit(f"direct single produce: {done[0]}")


# --- the run ------------------------------------------------------------------------------------------------------


async def measure(url: str, token: str, bootstrap: str, args: argparse.Namespace) -> dict[str, Any]:
    records = values(args.records, args.value_bytes)
    bodies = batch_bodies(records, args.batch)
    single_body = json.dumps({"key": "single", "value": json.loads(records[0])}).encode()
    api_stream, direct_stream = f"{PREFIX}api-{uuid.uuid4().hex[:6]}", f"{PREFIX}direct-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    found: dict[str, Any] = {"streams": (api_stream, direct_stream),
                             "topics": len(admin.list_topics(timeout=30).topics)}
    for future in admin.create_topics([NewTopic(s, args.partitions, 1) for s in (api_stream, direct_stream)]).values():
        future.result(30)
    headers = {"Authorization": f"Bearer {token}"}
    rates = {name: Rate(name) for name in ("publish api", "publish direct", "consume api", "consume direct")}
    latencies = {name: Latency(name) for name in ("single", "produce", "health", "hop")}
    producer = Producer({"bootstrap.servers": bootstrap, **PRODUCER})  # the agent's is made once, too
    floor = Producer({"bootstrap.servers": bootstrap, **PRODUCER})  # single records, apart from the batches
    try:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=TIMEOUT) as hq:
            deadline = time.monotonic() + 60  # the agent serves the environment once it has read it
            while (answer := await hq.get(events_path(api_stream))).status_code != 200:
                if time.monotonic() > deadline:
                    raise SystemExit(f"HQ does not describe {api_stream}: {answer.status_code} {answer.text[:300]}")
                await asyncio.sleep(0.25)
            # warm-up: the agent's producer and connections made, one batch each way
            await api_publish(url, token, api_stream, bodies[:1], 1)
            direct_publish(producer, direct_stream, records[:args.batch])
            direct_single(floor, direct_stream, records[0])
            single = lambda: hq.post(events_path(api_stream, "events"), content=single_body,  # noqa: E731
                                     headers={"Content-Type": "application/json"})
            checked(await single(), 201, "single publish")
            calls = {"single": single, "health": lambda: hq.get("/health"),
                     "hop": lambda: hq.get(f"/api/v1/environments/{ENVIRONMENT}/proxy/api/agent")}
            for _ in range(args.rounds):
                load = load1()
                rates["publish api"].add(*await api_publish(url, token, api_stream, bodies, args.clients), load)
                load = load1()
                rates["publish direct"].add(*direct_publish(producer, direct_stream, records), load)
                load = load1()
                count, seconds, wait = await api_consume(hq, api_stream, args.records, args.consumers)
                rates["consume api"].add(count, seconds, load, wait)
                load = load1()
                count, seconds, wait = direct_consume(bootstrap, direct_stream, args.records)
                rates["consume direct"].add(count, seconds, load, wait)
                for name, call in calls.items():
                    await timed_calls(latencies[name], args.singles, call)
                await timed_calls(latencies["produce"], args.singles,
                                  lambda: asyncio.to_thread(direct_single, floor, direct_stream, records[0]))
    finally:
        producer.flush(10)
        floor.flush(10)
        for future in admin.delete_topics([api_stream, direct_stream]).values():
            future.result(30)
    found["rates"], found["latencies"] = rates, latencies
    return found


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def report(args: argparse.Namespace, start_load: tuple[float, ...], found: dict[str, Any], sandbox: str) -> None:
    rates, latencies = found["rates"], found["latencies"]
    print(f"machine: {machine()}")
    print(f"load:    {start_load[0]:.2f} {start_load[1]:.2f} {start_load[2]:.2f} (1/5/15-minute load average when"
          " the run began; each figure shows the 1-minute load each of its rounds began with)")
    print(f"setup:   sandbox {sandbox}; HQ is `streamhq serve` (one process, built-in agent) on loopback;"
          f" {args.records:,} records of {args.value_bytes} B JSON a round, {args.rounds} rounds, topics of"
          f" {args.partitions} partitions (replication 1) on one broker of the sandbox's {args.cluster} cluster, which"
          f" holds {found['topics']:,} topics (the agent reads them all every round)")
    print()
    header = f"{'throughput':<15} {'records/s':>10}  per round"
    print(header)
    print("-" * len(header))
    print(rates["publish api"].line(f"batch publish through HQ, {args.batch} events a request, {args.clients} clients"))
    print(rates["publish direct"].line("confluent-kafka Producer, the agent's producer settings"))
    print(rates["consume api"].line(f"consume through HQ, {args.consumers} caller(s), limit 1000, a new group each"
                                    " round"))
    print(rates["consume direct"].line("confluent-kafka Consumer, consume(1000), json.loads of each value"))
    print()
    header = f"{'latency':<8} {'samples':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}"
    print(header)
    print("-" * len(header))
    print(latencies["single"].line("POST …/events through HQ, one record, one at a time"))
    print(latencies["produce"].line("confluent-kafka produce() + wait for the delivery report (the floor)"))
    print(latencies["health"].line("GET /health on HQ (its floor: no proxy, no agent)"))
    print(latencies["hop"].line("GET …/proxy/api/agent (the proxy's hop into the agent, no Kafka)"))
    print()
    publish = rates["publish api"].per_second / rates["publish direct"].per_second
    consume = rates["consume api"].per_second / rates["consume direct"].per_second
    print(f"batch publish: API / direct {publish:.2f} x (target >= {TARGET_RATIO}: {verdict(publish >= TARGET_RATIO)})")
    print(f"consume:       API / direct {consume:.2f} x (target >= {TARGET_RATIO}: {verdict(consume >= TARGET_RATIO)});"
          f" Confluent's REST proxy is reported at up to 90 % below native (kafka-rest#199), {REST_PROXY_SHARE} x")
    for name in ("publish api", "consume api"):
        rate = rates[name].per_second
        print(f"{name}:   {rate:,.0f} records/s against Karapace's ~{KARAPACE_RECORDS_PER_SECOND:,} with 50-record"
              f" requests (karapace#412): {rate / KARAPACE_RECORDS_PER_SECOND:.1f} x (target > 1:"
              f" {verdict(rate > KARAPACE_RECORDS_PER_SECOND)})")
    over_health = pct(latencies["single"].seconds, 50) - pct(latencies["health"].seconds, 50)
    over_both = over_health - pct(latencies["produce"].seconds, 50)
    print(f"single publish p50 less /health's p50: {over_health * 1000:.2f} ms; less the direct produce's p50 too:"
          f" {over_both * 1000:.2f} ms (the proxy, the agent's route and the client's parse)")
    after = os.getloadavg()
    print()
    print(f"Load average at the end: {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}; topics {', '.join(found['streams'])}"
          " deleted. The broker, HQ and this client share the machine.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=40_000, help="records each contender writes and reads a round")
    parser.add_argument("--batch", type=int, default=500, help="events per batch publish")
    parser.add_argument("--clients", type=int, default=4, help="concurrent batch publishers")
    parser.add_argument("--consumers", type=int, default=1, help="concurrent callers of the API consume")
    parser.add_argument("--value-bytes", type=int, default=1024)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--singles", type=int, default=200, help="single publishes (and each floor) a round")
    parser.add_argument("--sandbox", type=Path, help="a sandbox home already up (`streamhq sandbox up --home DIR`)")
    parser.add_argument("--cluster", choices=("source", "target"), default="source",
                        help="the sandbox cluster the environment holds (the agent reads all its topics every round)")
    args = parser.parse_args()

    start_load = os.getloadavg()
    token = secrets.token_urlsafe(32)
    workdir = Path(tempfile.mkdtemp(prefix="streamhq-bench-events-"))
    sandbox_log: list[str] = []
    box = Sandbox(args.sandbox or workdir / "sandbox-home", log=sandbox_log.append)
    try:
        started = time.perf_counter()
        status = box.up()
        sandbox = "reused" if args.sandbox else f"up in {time.perf_counter() - started:.1f} s"
        source = status["clusters"].get(args.cluster)
        if not source:
            raise SystemExit(f"the sandbox's {args.cluster} Kafka is not up\n" + "\n".join(sandbox_log))
        with hq_server(workdir / "hq", token, workdir / "hq.log") as (url, _), httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
            api.post("/v1/environments", json={"name": ENVIRONMENT, "tier": "development"}).raise_for_status()
            api.put(f"/v1/environments/{ENVIRONMENT}/kafka-connections/sandbox",
                    json={"override_broker_addresses": [source["bootstrap"]]}).raise_for_status()
            found = asyncio.run(measure(url, token, source["bootstrap"], args))
    finally:
        try:
            if not args.sandbox:
                box.down()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    report(args, start_load, found, sandbox)


if __name__ == "__main__":
    main()
