"""The tail on screen: 1,000 records/s into a sandbox topic (unique keys), the TailScreen following
it headless in Textual's pilot at 160x45, through a real `streamhq serve` (its built-in agent) on
the sandbox's source cluster. Reports event→screen latency (the record's CreateTime, set by the
producer as it sends, to the moment the row has been painted: the first refresh of the table
after the redraw that added it), p50/p99/max, whether any key was dropped, and how long the
console's event loop ever stalled (a 10 ms timer's largest gap: a frozen screen shows as one).

`--show` runs the same in the terminal instead (for tui-shot), until ctrl+c or `--seconds`.
Section of the events benchmark: bench/events.py can call `measure()`. It asserts nothing.

    .venv/bin/python bench/tail.py [--rate 1000] [--seconds 20] [--sandbox /work/sbx] [--show]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/tail.py`, this file's directory heads sys.path and would shadow `console`.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from backend.sandbox import Sandbox
from bench.hq import hq_server
from console import heap
from console.app import StreamHQApp
from console.client import HQClient
from console.config import ConsoleConfig
from console.screens.tail import TailScreen
from console.tail_ring import TailRow

TOKEN = "shq_admin_bench-tail-token"
ENVIRONMENT = "bench"
SIZE = (160, 45)
TICK_SECONDS = 0.01


@dataclass
class Figures:
    produced: int = 0
    shown: dict[str, float] = field(default_factory=dict)  # key -> latency (ms)
    stall_ms: float = 0.0
    elapsed: float = 0.0


def produce(bootstrap: str, topic: str, rate: int, seconds: float) -> int:
    """`rate` records a second, paced in 10 ms ticks; each key unique, each value ~100 bytes of JSON.
    Run in a process of its own (`--produce`): in the console's, its Python would take the GIL
    from the screen."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 2})
    started = time.monotonic()
    count = 0
    while time.monotonic() - started < seconds:
        due = int((time.monotonic() - started) * rate) + int(rate * TICK_SECONDS)
        while count < due:
            producer.produce(topic, key=f"key-{count:07d}",
                             value=f'{{"order":{count},"amount":{count % 997},"user":{{"id":"u{count % 50}"}}}}')
            count += 1
        producer.poll(0)
        time.sleep(TICK_SECONDS)
    producer.flush(30)
    return count


def producer_process(bootstrap: str, topic: str, rate: int, seconds: float) -> subprocess.Popen:
    """Started before the console (its fork must not copy a running app); it produces once it
    reads a line, and prints how many records it produced."""
    return subprocess.Popen([sys.executable, __file__, "--produce", bootstrap, topic, str(rate), str(seconds)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def register(url: str, bootstrap: str, topic: str) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30) as api:
        if api.get(f"/v1/environments/{ENVIRONMENT}").status_code == 404:
            api.post("/v1/environments", json={"name": ENVIRONMENT}).raise_for_status()
        api.put(f"/v1/environments/{ENVIRONMENT}/kafka-connections/main",
                json={"override_broker_addresses": [bootstrap]}).raise_for_status()
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, 3, 1)])[topic].result(30)
    deadline = time.monotonic() + 60
    while admin.list_topics(topic, timeout=10).topics[topic].error is not None:  # the metadata catches up
        if time.monotonic() > deadline:
            raise SystemExit(f"{topic} never showed in the metadata")
        time.sleep(0.2)


def _ms(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000


async def drive(app: StreamHQApp, topic: str, producer: subprocess.Popen, figures: Figures, headless: bool) -> None:
    screen = TailScreen(ENVIRONMENT, topic, "latest")

    def shown(rows: list[TailRow]) -> None:
        now = time.time() * 1000
        for row in rows:
            figures.shown.setdefault(row.event.key or "", now - _ms(row.event.timestamp))

    screen.shown_listeners.append(shown)
    await app.push_screen(screen)
    while screen.state != "live":
        await asyncio.sleep(0.05)
    heap.settle()  # as the console process does once it is up (console/heap.py)
    last_tick = time.monotonic()

    def tick() -> None:
        nonlocal last_tick
        now = time.monotonic()
        figures.stall_ms = max(figures.stall_ms, (now - last_tick - TICK_SECONDS) * 1000)
        last_tick = now

    app.set_interval(TICK_SECONDS, tick)
    started = time.monotonic()
    producer.stdin.write("go\n")
    producer.stdin.flush()
    try:
        while producer.poll() is None:
            await asyncio.sleep(0.1)
        figures.produced = int(producer.stdout.read().strip() or 0)
        deadline = time.monotonic() + 10  # the last records' way to the screen
        while len(figures.shown) < figures.produced and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        producer.kill()
        figures.elapsed = time.monotonic() - started
    if not headless:
        app.exit()


def measure(sandbox_home: Path, rate: int = 1000, seconds: float = 20.0, show: bool = False) -> Figures:
    bootstrap = Sandbox(sandbox_home).status()["clusters"]["source"]["bootstrap"]
    topic = f"bench-tail-{uuid.uuid4().hex[:8]}"
    figures = Figures()
    with tempfile.TemporaryDirectory() as home, hq_server(Path(home), TOKEN) as (url, _):
        register(url, bootstrap, topic)
        producer = producer_process(bootstrap, topic, rate, seconds)
        app = StreamHQApp(HQClient(url, TOKEN), ConsoleConfig(path=Path(home) / "console.yaml"))
        if show:
            async def start() -> None:
                await asyncio.sleep(0.3)
                await drive(app, topic, producer, figures, headless=False)

            app.call_later(lambda: app.run_worker(start()))
            app.run()
        else:
            async def headless() -> None:
                async with app.run_test(size=SIZE):
                    await drive(app, topic, producer, figures, headless=True)

            asyncio.run(headless())
    return figures


def report(figures: Figures, rate: int) -> str:
    latencies = sorted(figures.shown.values())
    if not latencies:
        return "no record reached the screen"
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    dropped = figures.produced - len(figures.shown)
    return (f"tail at {rate:,} records/s for {figures.elapsed:.1f} s: {figures.produced:,} produced, "
            f"{len(figures.shown):,} on screen, {dropped:,} keys dropped\n"
            f"event→screen latency: p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {latencies[-1]:.0f} ms\n"
            f"console event loop: largest stall {figures.stall_ms:.0f} ms beyond a 10 ms tick")


def main() -> None:
    if sys.argv[1:2] == ["--produce"]:
        bootstrap, topic, rate, seconds = sys.argv[2:6]
        sys.stdin.readline()
        print(produce(bootstrap, topic, int(rate), float(seconds)), flush=True)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--sandbox", type=Path, default=Path("/work/sbx"))
    parser.add_argument("--show", action="store_true", help="in this terminal, not headless")
    args = parser.parse_args()
    figures = measure(args.sandbox, args.rate, args.seconds, args.show)
    print(report(figures, args.rate))


if __name__ == "__main__":
    main()
