"""Console benchmark of the K2K screen: 500 apps of 20 partitions each on an embedded-style HQ
(same process, UNIX socket, as `streamhq` runs it): first paint of the K2K screen, the
process's memory, and the delay from a `k2k.metrics` event being published to the new figure
on screen while 50 metric updates per second stream in, and the delay from a key to the moved
cursor on screen while `down` is typed at 10 keys/s throughout (a key that never moves the
cursor is a dropped keystroke). Keys go in through the driver as a terminal's would, without
the test pilot's wait-for-idle between them.

Metric events are published by hand through the HQ's own metrics collector (the K2K
controller is off: 500 apps of workers do not fit this machine); they travel the real path,
change feed -> SSE -> LiveFeed -> screen. An update counts as shown when the first screen
render after the table took the new figure has returned (ResourceTable._write_cells and
Screen._compositor_refresh, which sends every frame to the terminal, layout pass or not, are
wrapped, in this process only, to note when they ran). Prints figures, asserts nothing.

    .venv/bin/python bench/console_k2k.py [--apps 500] [--partitions 20] [--seconds 20] [--rate 50]
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import statistics
import tempfile
import threading
import time

import psutil
from textual import events
from textual.screen import Screen

from backend.app import create_app
from backend.deps import services_of
from backend.k2k.models import K2KMetrics
from backend.server import ServerThread, unix_socket
from backend.settings import Settings
from backend.store import AppRecord, EnvironmentRecord, ResourceRecord
from console.app import StreamHQApp
from console.client import HQClient
from console.config import ConsoleConfig
from console.screens.k2k import K2KAppsScreen
from console.widgets.resource_table import ResourceTable

SIZE = (160, 45)
TOKEN = "bench-token"
TARGET_DELAY = 0.250
KEYS_PER_SECOND = 10


def metrics(partitions: int, rate: float) -> K2KMetrics:
    stamp = "2026-11-23T10:00:00.000Z"
    throughput = {"updated_at": stamp, "records_per_second": rate, "bytes_per_second": rate * 1000}
    return K2KMetrics.model_validate({
        "state": "running", "updated_at": stamp,
        "source_topics": [{"lrn": "kafka:topic/a/main/t", "name": "t", "throughput": throughput, "offsets": {
            "updated_at": stamp, "partitions": [{"partition": p, "log_end_offset": 1000} for p in range(partitions)]}}],
        "destination_topics": [{"lrn": "kafka:topic/b/main/t", "name": "t", "throughput": throughput, "offsets": {
            "updated_at": stamp, "partitions": [{"partition": p, "log_end_offset": 990, "lag": 10}
                                                for p in range(partitions)]}}],
    })


def seed(app, apps: int, partitions: int) -> list[str]:
    store = services_of(app).store
    for env in ("a", "b"):
        store.create_environment(EnvironmentRecord(id=env, name=env, display_name=env, tier="development",
                                                   metadata={}, created_at="2026-11-23T10:00:00Z"), f"hash-{env}")
        store.put_resource(ResourceRecord(env, "kafka-connection", "main",
                                          {"override_broker_addresses": [f"{env}.invalid:9092"], "auth": {}}))
    names = [f"app-{n:04d}" for n in range(apps)]
    for n, name in enumerate(names):
        store.insert_app(AppRecord(name=name, id=f"id-{n}", display_name=None, description=None,
                                   created_at="2026-11-23T10:00:00Z", generation=1,
                                   spec={"sourceKafkaLRN": "environments:kafka-connection/a/main",
                                         "targetKafkaLRN": "environments:kafka-connection/b/main", "topics": ["t"]}))
        services_of(app).k2k.controller.metrics.record(name, metrics(partitions, 1.0))
    return names


def shown_delays(sent, written, renders) -> tuple[list[float], int]:
    """Publish -> first render after the table held that figure; figures overwritten before any
    render are counted apart (the table coalesces bursts on purpose)."""
    delays, superseded = [], 0
    for name, publications in sent.items():
        entered = {text: at for at, text in written.get(name, [])}
        for at, text in publications:
            if text not in entered:
                superseded += 1
                continue
            render = first_render_after(renders, entered[text])
            if render is not None:
                delays.append(render - at)
    return delays, superseded


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def watch_table_and_renders() -> tuple[dict[str, list[tuple[float, str]]], list[float], dict[int, float]]:
    """(per app: when each new IN figure entered the table; the end time of every screen render;
    per cursor row: when the cursor first reached it)."""
    written: dict[str, list[tuple[float, str]]] = {}
    renders: list[float] = []
    reached: dict[int, float] = {}
    # Not Screen._refresh_layout: a frame that only repaints changed cells makes no layout pass.
    write_cells, refresh = ResourceTable._write_cells, Screen._compositor_refresh
    cursor = ResourceTable.watch_cursor_coordinate

    def noting_update(self, keys):
        result = write_cells(self, keys)
        now = time.perf_counter()
        for key in keys:
            written.setdefault(key, []).append((now, self.get_cell(key, "in").plain))
        return result

    def noting_refresh(self, *a, **kw):
        result = refresh(self, *a, **kw)
        renders.append(time.perf_counter())
        return result

    def noting_cursor(self, old, new):
        reached.setdefault(new.row, time.perf_counter())
        return cursor(self, old, new)

    ResourceTable._write_cells = noting_update
    Screen._compositor_refresh = noting_refresh
    ResourceTable.watch_cursor_coordinate = noting_cursor
    return written, renders, reached


def first_render_after(renders: list[float], at: float) -> float | None:
    return next((r for r in renders if r >= at), None)


async def run(args: argparse.Namespace) -> None:
    home = Path(tempfile.mkdtemp(prefix="bench-k2k-"))
    app = create_app(Settings(home=home, session_token=TOKEN, builtin_agent=False, k2k_controller=False))
    server = ServerThread(app, unix_socket(home / "hq.sock")).start()
    names = seed(app, args.apps, args.partitions)
    collector = services_of(app).k2k.controller.metrics
    process = psutil.Process()
    console = StreamHQApp(HQClient("bench", TOKEN, uds=str(home / "hq.sock")), ConsoleConfig(path=home / "c.yaml"),
                          settle_heap=True)  # as `streamhq` runs it
    async with console.run_test(size=SIZE) as pilot:
        started = time.perf_counter()
        pilot.app.show_k2k()
        while not (isinstance(pilot.app.screen, K2KAppsScreen) and pilot.app.screen.is_mounted
                   and pilot.app.screen.query(ResourceTable) and pilot.app.screen.table.row_count == args.apps):
            await pilot.pause(0.005)
        first_paint = time.perf_counter() - started
        screen: K2KAppsScreen = pilot.app.screen
        await pilot.pause(0.5)
        rss_after_paint = process.memory_info().rss

        # 50 updates/s of visible apps (the ones on screen), each with a rate never shown before.
        written, renders, reached = watch_table_and_renders()
        sent: dict[str, list[tuple[float, str]]] = {}
        stop = threading.Event()

        def publish() -> None:
            n = 0
            while not stop.is_set():
                name = names[n % 30]
                rate = 1000.0 + n
                sent.setdefault(name, []).append((time.perf_counter(), f"{rate:,.0f}/s"))
                collector.record(name, metrics(args.partitions, rate))
                n += 1
                time.sleep(1 / args.rate)

        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        deadline = time.perf_counter() + args.seconds
        start_row = screen.table.cursor_row
        typed: list[float] = []
        while time.perf_counter() < deadline and start_row + len(typed) < args.apps - 1:
            typed.append(time.perf_counter())
            pilot.app._driver.send_message(events.Key("down", None))
            await asyncio.sleep(1 / KEYS_PER_SECOND)
        stop.set()
        await pilot.pause(1.0)  # let the last keys land
        key_presses, moved = len(typed), screen.table.cursor_row - start_row
        key_delays = [render - at for n, at in enumerate(typed)
                      if (row_at := reached.get(start_row + n + 1)) is not None
                      and (render := first_render_after(renders, row_at)) is not None]
        delays, superseded = shown_delays(sent, written, renders)
        peak = process.memory_info().rss
    server.stop()
    print(f"K2K screen, {args.apps} apps x {args.partitions} partitions, {SIZE[0]}x{SIZE[1]}, in-process "
          "(HQ thread + console, as `streamhq` runs embedded)")
    print(f"  first paint (:k2k to {args.apps} rows)  {first_paint * 1000:7.0f} ms")
    print(f"  process RSS after paint / end      {rss_after_paint / 2**20:7.0f} MiB / {peak / 2**20:.0f} MiB")
    if delays:
        print(f"  metrics event -> screen ({args.rate}/s)  p50 {statistics.median(delays) * 1000:.0f} ms  "
              f"p99 {percentile(delays, 0.99) * 1000:.0f} ms  (n={len(delays)}; target p99 < "
              f"{TARGET_DELAY * 1000:.0f} ms: {'met' if percentile(delays, 0.99) < TARGET_DELAY else 'missed'})")
    print(f"  updates superseded by a newer one before a render: {superseded} (coalesced, as designed)")
    print(f"  keys typed during updates ({KEYS_PER_SECOND}/s)  {key_presses}, cursor moved {moved} rows "
          f"({'none dropped' if moved == key_presses else f'{key_presses - moved} dropped'})")
    if key_delays:
        print(f"  key -> moved cursor on screen      p50 {statistics.median(key_delays) * 1000:.0f} ms  "
              f"p99 {percentile(key_delays, 0.99) * 1000:.0f} ms  (n={len(key_delays)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", type=int, default=500)
    parser.add_argument("--partitions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rate", type=float, default=50, help="metric updates per second")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
