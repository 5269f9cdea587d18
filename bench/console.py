"""Console benchmark against a real HQ: first paint of the Environments list with 1,000 environments,
peak RSS of the console process, and the delay of a live update from a PATCH to the screen.

First paint is measured two ways: in-process (`App.run_test` at 160x45, the embedded HQ started as
`streamhq` starts it) and as a real `streamhq --home DIR` process in a detached 160x45 tmux session,
read back with `tmux capture-pane`. Beside the real process, in the same run and alternating with it, the
floor: bench/first_paint_floor.py, a minimal Textual app showing one DataTable of the same rows (the HQ's
list answer, saved to a file) with no HQ, spotted on screen the same way. Live updates are measured
in-process (PATCH over the HQ API, poll the DataTable cell) and, as seen on a terminal, in tmux against
`streamhq serve` (an embedded HQ's session token never leaves its process, so nothing outside it can PATCH it).

In-process, a few console and Textual methods are wrapped (class-wide, in this process, only while measuring)
to record when they ran, which splits each figure into its steps. ResourceTable coalesces live changes: `upsert`
only queues one, and a `_sync` a moment later writes it into the DataTable; a live update counts as shown when the
first screen render that re-renders the table's lines after that `_sync` has returned.

The environments are created over the HQ API. This prints figures; it asserts nothing. About a minute.

    .venv/bin/python bench/console.py [--environments 1000] [--runs 5] [--updates 50] [--moves 10]
                                      [--screen-updates 20] [--tmux-first-paint-only]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/console.py`, this file's directory heads sys.path and this file would shadow the
# `console` package; the project root goes there instead.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import inspect
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import DataTable

from bench.hq import STREAMHQ, hq_server
from console.app import StreamHQApp
from console.cli import start_embedded
from console.client import HQClient
from console.config import ConsoleConfig
from console.format import MISSING
from console.screens.environments import EnvironmentsScreen
from console.widgets.resource_table import ResourceTable

SIZE = (160, 45)
TIERS = ("development", "staging", "production")
TARGET_FIRST_PAINT = 1.5  # seconds, from the issue
TARGET_FLOOR_RATIO = 2.0  # the real process's first screen of rows at most this many times the floor's
FLOOR_APP = Path(__file__).resolve().with_name("first_paint_floor.py")
TARGET_LIVE_UPDATE = 0.250


def env_name(n: int) -> str:
    return f"env-{n:04d}"


# --- figures ------------------------------------------------------------------------------------------------------


@dataclass
class Series:
    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    def pct(self, p: float) -> float:
        ordered = sorted(self.values)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def median(self) -> float:
        return statistics.median(self.values)


@dataclass
class LiveSeries:
    event: Series = field(default_factory=Series)  # PATCH sent -> ResourceTable.upsert returned (change queued)
    cell: Series = field(default_factory=Series)  # PATCH sent -> the _sync that wrote the DataTable cell returned
    frame: Series = field(default_factory=Series)  # PATCH sent -> the next screen update after that has run
    render: Series = field(default_factory=Series)  # DataTable.render_lines in that screen render
    patch: Series = field(default_factory=Series)  # the PATCH round trip alone
    upsert: Series = field(default_factory=Series)  # ResourceTable.upsert for the event
    sync: Series = field(default_factory=Series)  # the ResourceTable._sync that applied it


@dataclass
class Figures:
    # first paint, in-process; times since start unless they say "call"
    inproc_rows_seen: Series = field(default_factory=Series)  # pilot poll sees table.row_count == N
    inproc_cpu: Series = field(default_factory=Series)  # process CPU time (all threads) until then
    inproc_embedded: Series = field(default_factory=Series)  # start_embedded() returned
    inproc_listed: Series = field(default_factory=Series)  # HQClient.list_environments returned
    inproc_replaced: Series = field(default_factory=Series)  # ResourceTable.replace_all returned: N rows in table
    inproc_measured: Series = field(default_factory=Series)  # DataTable._update_dimensions returned
    inproc_painted: Series = field(default_factory=Series)  # the screen render of the table after that returned
    inproc_list_call: Series = field(default_factory=Series)
    inproc_replace_call: Series = field(default_factory=Series)
    inproc_measure_call: Series = field(default_factory=Series)
    inproc_paint_call: Series = field(default_factory=Series)
    list_alone: Series = field(default_factory=Series)
    list_bytes: int = 0
    # first paint, process in tmux
    tmux_first_frame: Series = field(default_factory=Series)
    tmux_rows: Series = field(default_factory=Series)
    tmux_cpu: Series = field(default_factory=Series)  # the process's CPU time (user + system) until then
    tmux_to_last: Series = field(default_factory=Series)  # ctrl+end -> the last environment on screen
    tmux_floor_first_frame: Series = field(default_factory=Series)  # bench/first_paint_floor.py, same run
    tmux_floor_rows: Series = field(default_factory=Series)
    tmux_floor_cpu: Series = field(default_factory=Series)
    tmux_hwm_kib: list[int] = field(default_factory=list)
    tmux_rss_kib: list[int] = field(default_factory=list)
    # live updates
    live: LiveSeries = field(default_factory=LiveSeries)
    moves: LiveSeries = field(default_factory=LiveSeries)  # sorted by DISPLAY NAME, the renamed row moves
    screen_live: Series = field(default_factory=Series)  # tmux, `--server`: PATCH sent -> new value on screen
    remote_hwm_kib: int | None = None
    remote_rows: float | None = None


def machine() -> str:
    model = platform.processor() or "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{model}, {os.cpu_count()} cores ({usable} usable); Python {platform.python_version()};"
            f" {platform.system()} {platform.release()}")


Calls = list[tuple[float, float]]


@contextmanager
def recording(cls: type, name: str, calls: Calls) -> Iterator[None]:
    """Appends (start, end) perf_counter times of every call of `cls.name` made inside the block. Used on a few
    console and Textual methods to split the figures up; a no-op if the method is not there."""
    original = cls.__dict__.get(name)
    if original is None:
        yield
        return
    if inspect.iscoroutinefunction(original):

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                calls.append((started, time.perf_counter()))
    else:

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                calls.append((started, time.perf_counter()))

    setattr(cls, name, timed)
    try:
        yield
    finally:
        setattr(cls, name, original)


def first_after(calls: Calls, moment: float) -> tuple[float, float] | None:
    """The first recorded call that started at or after `moment`."""
    return next((call for call in calls if call[0] >= moment), None)


def shown_after(table_renders: Calls, screen_renders: Calls, moment: float) -> tuple[float, float] | None:
    """The first screen render, after `moment`, that re-rendered the table's lines: (its end, the table's part).
    Textual runs screen updates that have nothing to draw too; those do not count."""
    lines = first_after(table_renders, moment)
    if lines is None:
        return None
    render = next((r for r in screen_renders if r[0] <= lines[0] and r[1] >= lines[1]), None)
    return (render[1], lines[1] - lines[0]) if render else None


# --- the HQ -------------------------------------------------------------------------------------------------------


async def create_environments(url: str, token: str, count: int, listing: Path, clients: int = 16) -> float:
    """POSTs `count` environments and saves the list answer to `listing` (the floor app's rows);
    returns the seconds the POSTs took."""
    queue = list(range(count))
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:

        async def worker() -> None:
            while queue:
                n = queue.pop()
                response = await http.post("/v1/environments", json={
                    "name": env_name(n), "display_name": f"Environment {n}", "tier": TIERS[n % 3],
                    "metadata": {"team": f"team-{n % 17}", "region": f"region-{n % 5}"}})
                if response.status_code != 201:
                    raise SystemExit(f"POST /v1/environments: {response.status_code} {response.text}")

        await asyncio.gather(*(worker() for _ in range(clients)))
        seconds = time.perf_counter() - started
        listing.write_bytes((await http.get("/v1/environments")).raise_for_status().content)
    return seconds


# --- in-process: App.run_test ---------------------------------------------------------------------------------------


def environments_table(app: StreamHQApp) -> ResourceTable | None:
    screen = app.screen
    if not isinstance(screen, EnvironmentsScreen):
        return None
    try:
        return screen.table
    except NoMatches:
        return None


async def poll(condition: Callable[[], bool], what: str, *, pilot: Any = None, every: float = 0.001,
               timeout: float = 30.0) -> float:
    """Waits until `condition()`; returns the perf_counter time it was seen to hold. With `pilot` each wait is
    `pilot.pause(every)`, which also lets every widget drain its queue and forces a screen update; without, a
    plain sleep that leaves the app's own timing alone."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        if pilot is not None:
            await pilot.pause(every)
        else:
            await asyncio.sleep(every)
    return time.perf_counter()


def has_rows(app: StreamHQApp, count: int) -> bool:
    table = environments_table(app)
    return table is not None and table.row_count == count


async def inproc_first_paint(home: Path, count: int, figures: Figures) -> None:
    """One cold start as `streamhq --home` does it (embedded HQ, then the app), until all rows are shown."""
    lists: Calls = []
    replaces: Calls = []
    measures: Calls = []
    table_renders: Calls = []
    screen_renders: Calls = []
    with (recording(HQClient, "list_environments", lists),
          recording(ResourceTable, "replace_all", replaces),
          recording(DataTable, "_update_dimensions", measures),  # Textual, on idle: measures every new row's cells
          recording(DataTable, "render_lines", table_renders),  # Textual: renders the visible lines of the table
          recording(Screen, "_compositor_refresh", screen_renders)):  # Textual: renders what changed, for the terminal
        started, cpu_started = time.perf_counter(), time.process_time()
        server, client = start_embedded(home)
        embedded = time.perf_counter()
        try:
            app = StreamHQApp(client, ConsoleConfig.load(), settle_heap=True)  # as `streamhq` runs it
            async with app.run_test(size=SIZE) as pilot:
                seen = await poll(lambda: has_rows(app, count), f"{count} rows", pilot=pilot, every=0.01)
                cpu = time.process_time() - cpu_started
                await pilot.pause()
        finally:
            server.stop()
    listed = lists[0][1]
    replaced = first_after(replaces, listed)
    measured = first_after(measures, replaced[1]) if replaced else None
    painted = shown_after(table_renders, screen_renders, measured[1]) if measured else None
    if not (replaced and measured and painted):
        raise SystemExit("could not follow the first paint through the console (did the code change?)")
    figures.inproc_rows_seen.add(seen - started)
    figures.inproc_cpu.add(cpu)
    figures.inproc_embedded.add(embedded - started)
    figures.inproc_listed.add(listed - started)
    figures.inproc_replaced.add(replaced[1] - started)
    figures.inproc_measured.add(measured[1] - started)
    figures.inproc_painted.add(painted[0] - started)
    figures.inproc_list_call.add(lists[0][1] - lists[0][0])
    figures.inproc_replace_call.add(replaced[1] - replaced[0])
    figures.inproc_measure_call.add(measured[1] - measured[0])
    figures.inproc_paint_call.add(painted[1])


async def list_alone(home: Path, repeats: int, figures: Figures) -> None:
    """HQClient.list_environments with nothing else running in the process but the embedded HQ."""
    server, client = start_embedded(home)
    try:
        await client.list_environments()
        for _ in range(repeats):
            started = time.perf_counter()
            await client.list_environments()
            figures.list_alone.add(time.perf_counter() - started)
        figures.list_bytes = len((await client.http.get("/v1/environments")).content)
    finally:
        await client.aclose()
        server.stop()


async def inproc_live_updates(home: Path, count: int, updates: int, moves: int, figures: Figures) -> None:
    """PATCH display names through the embedded HQ's API while the list is shown; time until the DataTable cell
    holds the new value, and until the next screen update has rendered it."""
    server, client = start_embedded(home)
    # The benchmark is another API client of the same HQ: same socket, the session's bearer token.
    http = httpx.Client(transport=httpx.HTTPTransport(uds=str(home / "hq.sock")), base_url="http://streamhq",
                        headers={"Authorization": client.http.headers["authorization"]}, timeout=30)
    upserts: Calls = []
    syncs: Calls = []
    table_renders: Calls = []
    screen_renders: Calls = []

    def patch(name: str, display_name: str) -> float:
        started = time.perf_counter()
        response = http.patch(f"/v1/environments/{name}", json={"display_name": display_name})
        if response.status_code != 200:
            raise SystemExit(f"PATCH {name}: {response.status_code} {response.text}")
        return time.perf_counter() - started

    try:
        app = StreamHQApp(client, ConsoleConfig.load(), settle_heap=True)  # as `streamhq` runs it
        with (recording(ResourceTable, "upsert", upserts),
              recording(ResourceTable, "_sync", syncs),
              recording(DataTable, "render_lines", table_renders),
              recording(Screen, "_compositor_refresh", screen_renders)):
            async with app.run_test(size=SIZE) as pilot:
                await poll(lambda: has_rows(app, count), f"{count} rows", pilot=pilot, every=0.01)
                await poll(lambda: app.feed_state == "live", "the live feed", pilot=pilot, every=0.01)
                await pilot.pause()
                table = environments_table(app)
                assert table is not None

                async def one(name: str, value: str, out: LiveSeries) -> None:
                    await pilot.pause(0.05)
                    started = time.perf_counter()
                    sent = asyncio.create_task(asyncio.to_thread(patch, name, value))
                    await poll(lambda: str(table.get_cell(name, "display_name")) == value, f"{name} renamed")
                    # The recordings, not the poll, say when each step happened: the poll may run late.
                    upsert = first_after(upserts, started)
                    assert upsert is not None
                    # upsert queues the change; the first _sync after it writes it into the DataTable (a console
                    # without _sync applied it in upsert itself). The poll above saw the cell, so it has run.
                    applied = first_after(syncs, upsert[1]) if "_sync" in ResourceTable.__dict__ else upsert
                    assert applied is not None
                    shown_from = applied[1]
                    out.event.add(upsert[1] - started)
                    out.cell.add(applied[1] - started)
                    # A row off screen is written in place and draws nothing until scrolled to.
                    top = table.scroll_offset.y
                    if top <= table.get_row_index(name) < top + table.size.height - 1:
                        await poll(lambda: shown_after(table_renders, screen_renders, shown_from) is not None,
                                   "a screen render of the table")
                        shown = shown_after(table_renders, screen_renders, shown_from)
                        assert shown is not None
                        out.frame.add(shown[0] - started)
                        out.render.add(shown[1])
                    out.patch.add(await sent)
                    out.upsert.add(upsert[1] - upsert[0])
                    out.sync.add(applied[1] - applied[0])

                for i in range(updates):
                    name = env_name(i * 37 % count)  # spread over the list, on and off screen
                    await one(name, f"Renamed {i:02d} {secrets.token_hex(3)}", figures.live)

                # Sorted by DISPLAY NAME, a rename moves the row: ResourceTable re-points the row order.
                table.action_cycle_sort()
                table.action_cycle_sort()
                table.move_cursor(row=0, animate=False)  # the renamed rows sort to the top: in view
                await pilot.pause()
                for i in range(moves):
                    name = env_name((i * 53 + 500) % count)
                    await one(name, f"Aaa moved {i:02d} {secrets.token_hex(3)}", figures.moves)
    finally:
        http.close()
        server.stop()


# --- a real process in tmux -----------------------------------------------------------------------------------------


class Tmux:
    """A private tmux server (own socket, no user config) with one detached 160x45 session."""

    def __init__(self, workdir: Path, name: str) -> None:
        conf = workdir / "tmux.conf"
        conf.write_text('set -g default-terminal "tmux-256color"\nset -g status off\n')
        # Its own socket file in `workdir` (removed with it): the user's tmux server is never touched.
        self.base = ["tmux", "-S", str(workdir / f"tmux-{name}.sock"), "-f", str(conf)]
        self.pid: int | None = None

    def start(self, command: list[str], env: dict[str, str]) -> int:
        extra = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        out = subprocess.run([*self.base, "new-session", "-d", "-s", "bench", "-x", str(SIZE[0]), "-y", str(SIZE[1]),
                              "-P", "-F", "#{pane_pid}", *extra, *command],
                             capture_output=True, text=True, check=True).stdout
        self.pid = int(out.strip())
        return self.pid

    def screen(self) -> list[str]:
        return subprocess.run([*self.base, "capture-pane", "-p", "-t", "bench"],
                              capture_output=True, text=True).stdout.splitlines()

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "bench", *keys], check=True)

    def wait(self, condition: Callable[[list[str]], bool], what: str, *, poll: float = 0.01,
             timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while True:
            lines = self.screen()
            if condition(lines):
                return time.perf_counter()
            if time.perf_counter() > deadline:
                raise SystemExit(f"timed out waiting for {what}; the screen:\n" + "\n".join(lines))
            time.sleep(poll)

    def memory_kib(self) -> tuple[int, int]:
        """(VmHWM, VmRSS) of the pane's process, in KiB."""
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines())
        return int(status["VmHWM"].split()[0]), int(status["VmRSS"].split()[0])

    def close(self) -> None:
        if self.pid is not None and psutil.pid_exists(self.pid):
            try:
                self.keys("q")
                psutil.Process(self.pid).wait(timeout=5)
            except (subprocess.CalledProcessError, psutil.Error):
                pass
        subprocess.run([*self.base, "kill-server"], capture_output=True)
        if self.pid is not None and psutil.pid_exists(self.pid):
            with suppress(psutil.Error):
                psutil.Process(self.pid).kill()


ROW = re.compile(r"\s*env-\d{4}\s")


def rows_painted(lines: list[str]) -> bool:
    """The first screen of rows is complete: the row just above the footer is there with all its columns
    (tmux may be caught halfway through a frame; the frame is drawn top to bottom). The rows come from one
    list request and one `replace_all`, so any row on screen means the table holds all of them."""
    footer = next((i for i, line in enumerate(lines) if "q Quit" in line), None)
    if not footer:
        return False
    last = lines[footer - 1]
    return bool(ROW.match(last)) and last.count(MISSING) >= 6  # KAFKA..CONNECTORS: API-made envs have no agent


def tmux_first_paint(home: Path, workdir: Path, run: int, count: int, figures: Figures) -> None:
    tmux = Tmux(workdir, f"paint{run}")
    try:
        started = time.perf_counter()
        tmux.start([STREAMHQ, "--home", str(home)], {"STREAMHQ_CONFIG_DIR": os.environ["STREAMHQ_CONFIG_DIR"],
                                                     "COLORTERM": "truecolor"})
        first = tmux.wait(lambda lines: any("streamhq" in line for line in lines), "the first frame")
        rows = tmux.wait(rows_painted, "the first screen of rows")
        hwm, rss = tmux.memory_kib()
        cpu = sum(psutil.Process(tmux.pid).cpu_times()[:2])
        last = env_name(count - 1)
        jump = time.perf_counter()
        tmux.keys("C-End")
        shown = tmux.wait(lambda lines: any(ROW.match(line) and last in line for line in lines), f"{last}")
    finally:
        tmux.close()
    figures.tmux_first_frame.add(first - started)
    figures.tmux_rows.add(rows - started)
    figures.tmux_cpu.add(cpu)
    figures.tmux_to_last.add(shown - jump)
    figures.tmux_hwm_kib.append(hwm)
    figures.tmux_rss_kib.append(rss)


def tmux_floor_first_paint(listing: Path, workdir: Path, run: int, figures: Figures) -> None:
    tmux = Tmux(workdir, f"floor{run}")
    try:
        started = time.perf_counter()
        tmux.start([sys.executable, str(FLOOR_APP), str(listing)], {"COLORTERM": "truecolor"})
        first = tmux.wait(lambda lines: any("streamhq" in line for line in lines), "the floor's first frame")
        rows = tmux.wait(rows_painted, "the floor's first screen of rows")
        cpu = sum(psutil.Process(tmux.pid).cpu_times()[:2])
    finally:
        tmux.close()
    figures.tmux_floor_first_frame.add(first - started)
    figures.tmux_floor_rows.add(rows - started)
    figures.tmux_floor_cpu.add(cpu)


def tmux_remote_live(url: str, token: str, workdir: Path, updates: int, figures: Figures) -> None:
    """`streamhq --server URL` in tmux; PATCH a visible row's display name; time until tmux shows it."""
    tmux = Tmux(workdir, "remote")
    http = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    try:
        started = time.perf_counter()
        tmux.start([STREAMHQ, "--server", url], {"STREAMHQ_CONFIG_DIR": os.environ["STREAMHQ_CONFIG_DIR"],
                                                 "STREAMHQ_TOKEN": token, "COLORTERM": "truecolor"})
        figures.remote_rows = tmux.wait(rows_painted, "the first screen of rows") - started
        tmux.wait(lambda lines: "● live" in lines[0] if lines else False, "the live feed")
        figures.remote_hwm_kib = tmux.memory_kib()[0]
        for i in range(updates):
            name = env_name(i % 30)  # on the first screen
            value = f"Live {i:02d} {secrets.token_hex(3)}"
            sent = time.perf_counter()
            response = http.patch(f"/v1/environments/{name}", json={"display_name": value})
            if response.status_code != 200:
                raise SystemExit(f"PATCH {name}: {response.status_code} {response.text}")
            seen = tmux.wait(lambda lines, v=value: any(v in line for line in lines), f"{value!r}", poll=0.003)
            figures.screen_live.add(seen - sent)
    finally:
        http.close()
        tmux.close()


# --- report ---------------------------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def verdict(value: float, target: float) -> str:
    return f"< {ms(target)}: {'met' if value < target else 'MISSED'}"


def report(figures: Figures, args: argparse.Namespace, seed_seconds: float, load: tuple[float, ...]) -> None:
    n = args.environments
    print(f"machine: {machine()}")
    print(f"load:    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15-minute load average when the run began)")
    print(f"setup:   {n} environments created over the HQ API in {seed_seconds:.1f} s (no agents, so the metric"
          f" columns read {MISSING}); list body {figures.list_bytes / 1024:.0f} KiB; terminal {SIZE[0]}x{SIZE[1]}")
    print()
    width = 66

    def head(title: str, columns: tuple[str, ...]) -> None:
        text = f"{title:<{width}}" + "".join(f" {c:>9}" for c in columns) + "  target"
        print(text)
        print("-" * (len(text) + 18))

    def line(label: str, series: Series, target: float | None = None) -> None:
        if not series.values:  # not measured in this run
            return
        tail = f"  {verdict(series.median, target)}" if target else ""
        print(f"{label:<{width}} {ms(series.median):>9} {ms(min(series.values)):>9} {ms(max(series.values)):>9}{tail}")

    head(f"FIRST PAINT, {n} environments ({args.runs} cold starts each)", ("median", "min", "max"))
    print("(a) in-process, App.run_test: no interpreter start or imports; times since start")
    line(f"  start -> pilot poll sees table.row_count == {n}", figures.inproc_rows_seen, TARGET_FIRST_PAINT)
    line("    CPU time the process used by then (all threads: app + HQ)", figures.inproc_cpu)
    print("    timeline, from call recordings:")
    line("      start_embedded() returned (HQ thread listening)", figures.inproc_embedded)
    line("      HQClient.list_environments() returned", figures.inproc_listed)
    line(f"      ResourceTable.replace_all() returned ({n} rows in the table)", figures.inproc_replaced)
    line("      DataTable._update_dimensions() returned (cells measured)", figures.inproc_measured)
    line("      next screen render returned (rows rendered: first paint)", figures.inproc_painted, TARGET_FIRST_PAINT)
    print("    calls' own durations:")
    line("      HQClient.list_environments (GET + parse; app starts meanwhile)", figures.inproc_list_call)
    line("      the same with the app not running (GET + parse alone)", figures.list_alone)
    line(f"      ResourceTable.replace_all ({n} x DataTable.add_row)", figures.inproc_replace_call)
    line(f"      DataTable._update_dimensions ({n} rows x 10 cells)", figures.inproc_measure_call)
    line("      DataTable.render_lines in that render (the visible rows)", figures.inproc_paint_call)
    print("(b) real process in tmux, `streamhq --home DIR` (embedded HQ); times since spawn")
    line("  spawn -> first frame (Loading environments…)", figures.tmux_first_frame)
    line("  spawn -> first screen of rows, complete", figures.tmux_rows, TARGET_FIRST_PAINT)
    line("    CPU time the process used by then (user + system)", figures.tmux_cpu)
    line(f"  then ctrl+end -> {env_name(n - 1)} on screen (all rows are there)", figures.tmux_to_last)
    print("(b') the floor in tmux, same run, alternating: bench/first_paint_floor.py (Textual, one DataTable, no HQ)")
    line("  spawn -> first frame", figures.tmux_floor_first_frame)
    line("  spawn -> first screen of rows, complete", figures.tmux_floor_rows)
    line("    CPU time the process used by then (user + system)", figures.tmux_floor_cpu)
    ratio = figures.tmux_rows.median / figures.tmux_floor_rows.median
    ratios = sorted(r / f for r, f in zip(figures.tmux_rows.values, figures.tmux_floor_rows.values, strict=True))
    print(f"  first screen of rows, real process / floor: {ratio:.2f} (medians;"
          f" per run {ratios[0]:.2f}-{ratios[-1]:.2f})  <= {TARGET_FLOOR_RATIO:.1f}:"
          f" {'met' if ratio <= TARGET_FLOOR_RATIO else 'MISSED'}")
    print(f"  CPU time by then, real process / floor: {figures.tmux_cpu.median / figures.tmux_floor_cpu.median:.2f}"
          " (medians; less moved by other work on the machine than wall times)")
    print()
    mib = 1024
    hwm = figures.tmux_hwm_kib
    print(f"PEAK RSS after first paint, `streamhq --home` (console + embedded HQ), VmHWM:"
          f" {statistics.median(hwm) / mib:.1f} MiB median of {len(hwm)} ({min(hwm) / mib:.1f}-{max(hwm) / mib:.1f});"
          f" VmRSS {statistics.median(figures.tmux_rss_kib) / mib:.1f} MiB")
    if figures.remote_hwm_kib is not None:
        print(f"            `streamhq --server URL` (console alone, after first paint, feed live), VmHWM:"
              f" {figures.remote_hwm_kib / mib:.1f} MiB")
    print()
    head("LIVE UPDATE: PATCH display_name -> shown", ("n", "p50", "p99", "max"))

    def pline(label: str, series: Series, target: float | None = None) -> None:
        if not series.values:
            return
        tail = f"  {verdict(series.pct(99), target)}" if target else ""
        print(f"{label:<{width}} {len(series.values):>9} {ms(series.pct(50)):>9} {ms(series.pct(99)):>9}"
              f" {ms(max(series.values)):>9}{tail}")

    for title, live, extra in (("(a) in-process, rows stay in place (cells rewritten)", figures.live, ""),
                               ("(a) in-process, sorted by DISPLAY NAME, the row moves (rows re-pointed)",
                                figures.moves, "")):
        if not live.cell.values:
            continue
        print(title)
        pline("  PATCH sent -> change queued in the table (upsert returned)", live.event)
        pline("  PATCH sent -> the cell holds the new value (_sync returned)", live.cell)
        pline(f"  PATCH sent -> next screen render{extra} done (shown)", live.frame, TARGET_LIVE_UPDATE)
        pline("    PATCH round trip (its reply, not the event)", live.patch)
        pline("    ResourceTable.upsert for the event", live.upsert)
        pline("    ResourceTable._sync that applied it", live.sync)
        pline("    DataTable.render_lines in that render (visible rows)", live.render)
    if figures.screen_live.values:
        print("(c) real process in tmux, `streamhq --server URL` against `streamhq serve`")
        pline("  PATCH sent -> new value in tmux capture-pane", figures.screen_live, TARGET_LIVE_UPDATE)
    print()
    after = os.getloadavg()
    print(f"Targets: first paint is judged on the median, live update on p99. Load average at the end:"
          f" {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}; other work on the machine skews wall times, CPU times less.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5, help="cold starts per first-paint method")
    parser.add_argument("--updates", type=int, default=50, help="live updates measured in-process")
    parser.add_argument("--moves", type=int, default=10, help="live updates that move a row of a sorted table")
    parser.add_argument("--screen-updates", type=int, default=20, help="live updates measured on screen in tmux")
    parser.add_argument("--tmux-first-paint-only", action="store_true",
                        help="measure only the first paint in tmux and its floor (a quicker run)")
    args = parser.parse_args()
    if args.environments < 50:
        parser.error("--environments must be at least 50 (the checks look at a full screen of rows)")
    if not shutil.which("tmux"):
        raise SystemExit("tmux is needed")

    load = os.getloadavg()
    figures = Figures()
    token = secrets.token_urlsafe(32)
    workdir = Path(tempfile.mkdtemp(prefix="streamhq-bench-console-"))
    previous_config_dir = os.environ.get("STREAMHQ_CONFIG_DIR")
    os.environ["STREAMHQ_CONFIG_DIR"] = str(workdir / "config")  # no user config (theme, keymap) interferes
    home = workdir / "home"
    listing = workdir / "environments.json"
    inprocess = not args.tmux_first_paint_only
    try:
        with hq_server(home, token) as (url, _):
            seed_seconds = asyncio.run(create_environments(url, token, args.environments, listing))
            if args.screen_updates and inprocess:
                tmux_remote_live(url, token, workdir, args.screen_updates, figures)
        # The served HQ has stopped; from here on each console embeds its own HQ on the same home.
        if inprocess:
            for _ in range(args.runs):
                asyncio.run(inproc_first_paint(home, args.environments, figures))
            asyncio.run(list_alone(home, args.runs, figures))
            asyncio.run(inproc_live_updates(home, args.environments, args.updates, args.moves, figures))
        for run in range(args.runs):
            tmux_floor_first_paint(listing, workdir, run, figures)
            tmux_first_paint(home, workdir, run, args.environments, figures)
    finally:
        if previous_config_dir is None:
            os.environ.pop("STREAMHQ_CONFIG_DIR", None)
        else:
            os.environ["STREAMHQ_CONFIG_DIR"] = previous_config_dir
        shutil.rmtree(workdir, ignore_errors=True)
    report(figures, args, seed_seconds, load)


if __name__ == "__main__":
    main()
