"""Console benchmark against a real HQ: first paint of the Environments list with 1,000 environments,
peak RSS of the console process, and the delay of a live update from a PATCH to the screen.

First paint is measured two ways: in-process (`App.run_test` at 160x45, the embedded HQ started as
`streamhq` starts it) and as a real `streamhq --home DIR` process in a detached 160x45 tmux session,
read back with `tmux capture-pane`. Live updates are measured in-process (PATCH over the HQ API, poll
the DataTable cell) and, as seen on a terminal, in tmux against `streamhq serve` (an embedded HQ's
session token never leaves its process, so nothing outside it can PATCH it).

The environments are created over the HQ API. This prints figures; it asserts nothing.

    .venv/bin/python bench/console.py [--environments 1000] [--runs 5] [--updates 50]
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
import os
import platform
import re
import secrets
import shutil
import socket
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
from textual.widgets import DataTable

from console.app import StreamHQApp
from console.cli import start_embedded
from console.config import ConsoleConfig
from console.format import MISSING
from console.screens.environments import EnvironmentsScreen
from console.widgets.resource_table import ResourceTable

STREAMHQ = str(Path(sys.executable).with_name("streamhq"))
SIZE = (160, 45)
TIERS = ("development", "staging", "production")
TARGET_FIRST_PAINT = 1.5  # seconds, from the issue
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
class Figures:
    # first paint, in-process
    inproc_embedded: Series = field(default_factory=Series)  # start_embedded()
    inproc_get: Series = field(default_factory=Series)  # HQClient.list_environments: GET + parse
    inproc_replace_all: Series = field(default_factory=Series)  # ResourceTable.replace_all (clear + add_row x N)
    inproc_dimensions: Series = field(default_factory=Series)  # DataTable._update_dimensions on idle (measure cells)
    inproc_rows: Series = field(default_factory=Series)  # start -> table.row_count == N
    inproc_sized: Series = field(default_factory=Series)  # start -> table.virtual_size covers all N rows
    # first paint, process in tmux
    tmux_first_frame: Series = field(default_factory=Series)
    tmux_rows: Series = field(default_factory=Series)
    tmux_to_last: Series = field(default_factory=Series)  # ctrl+end -> the last environment on screen
    tmux_hwm_kib: list[int] = field(default_factory=list)
    tmux_rss_kib: list[int] = field(default_factory=list)
    # live updates
    live_cell: Series = field(default_factory=Series)  # PATCH sent -> DataTable cell holds the new value
    live_patch: Series = field(default_factory=Series)  # PATCH round trip alone
    live_upsert: Series = field(default_factory=Series)  # ResourceTable.upsert per event
    sorted_cell: Series = field(default_factory=Series)  # same, sorted by DISPLAY NAME, the row moves
    sorted_sized: Series = field(default_factory=Series)  # ... until the table is re-measured (frame can paint)
    sorted_upsert: Series = field(default_factory=Series)
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


@contextmanager
def timing(cls: type, name: str, sink: Callable[[float], None]) -> Iterator[None]:
    """Records each call's duration of `cls.name` while inside the block (a no-op if there is no such method)."""
    original = cls.__dict__.get(name)
    if original is None:
        yield
        return

    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            sink(time.perf_counter() - started)

    setattr(cls, name, timed)
    try:
        yield
    finally:
        setattr(cls, name, original)


# --- the HQ -------------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def hq_server(home: Path, token: str) -> Iterator[str]:
    """`streamhq serve` in its own process, as users run it; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([STREAMHQ, "serve", "--home", str(home), "--port", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
                raise SystemExit("the HQ server did not start")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def create_environments(url: str, token: str, count: int, clients: int = 16) -> float:
    """POSTs `count` environments; returns the seconds it took."""
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
    return time.perf_counter() - started


# --- in-process: App.run_test ---------------------------------------------------------------------------------------


def environments_table(app: StreamHQApp) -> ResourceTable | None:
    screen = app.screen
    if not isinstance(screen, EnvironmentsScreen):
        return None
    try:
        return screen.table
    except NoMatches:
        return None


async def wait_for(pilot: Any, condition: Callable[[], bool], what: str, *, poll: float = 0.01,
                   timeout: float = 30.0) -> float:
    """Polls with `pilot.pause(poll)` until `condition()`; returns the perf_counter time it first held."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await pilot.pause(poll)
    return time.perf_counter()


async def inproc_first_paint(home: Path, count: int, figures: Figures) -> None:
    """One cold start: embedded HQ + app, until the table holds all rows and has been measured."""
    get_times: list[float] = []
    replace_times: list[float] = []
    dimension_times: list[float] = []
    started = time.perf_counter()
    server, client = start_embedded(home)
    embedded = time.perf_counter() - started
    list_environments = client.list_environments

    async def timed_list() -> Any:
        t = time.perf_counter()
        try:
            return await list_environments()
        finally:
            get_times.append(time.perf_counter() - t)

    client.list_environments = timed_list  # type: ignore[method-assign]
    try:
        app = StreamHQApp(client, ConsoleConfig.load())
        with (timing(ResourceTable, "replace_all", replace_times.append),
              timing(DataTable, "_update_dimensions", dimension_times.append)):
            async with app.run_test(size=SIZE) as pilot:

                def rows() -> bool:
                    table = environments_table(app)
                    return table is not None and table.row_count == count

                def sized() -> bool:
                    table = environments_table(app)
                    return table is not None and table.virtual_size.height > count

                rows_at = await wait_for(pilot, rows, f"{count} rows")
                sized_at = await wait_for(pilot, sized, "the table's measured size")
    finally:
        server.stop()
    figures.inproc_embedded.add(embedded)
    figures.inproc_get.add(sum(get_times))
    figures.inproc_replace_all.add(sum(replace_times))
    figures.inproc_dimensions.add(max(dimension_times, default=0.0))
    figures.inproc_rows.add(rows_at - started)
    figures.inproc_sized.add(sized_at - started)


async def inproc_live_updates(home: Path, count: int, updates: int, moves: int, figures: Figures) -> None:
    """PATCH display names through the embedded HQ's API while the list is shown; time until the cell changes."""
    server, client = start_embedded(home)
    # The benchmark is another API client of the same HQ: same socket, the session's bearer token.
    http = httpx.Client(transport=httpx.HTTPTransport(uds=str(home / "hq.sock")), base_url="http://streamhq",
                        headers={"Authorization": client.http.headers["authorization"]}, timeout=30)
    upserts: list[float] = []

    def patch(name: str, display_name: str) -> float:
        t = time.perf_counter()
        response = http.patch(f"/v1/environments/{name}", json={"display_name": display_name})
        if response.status_code != 200:
            raise SystemExit(f"PATCH {name}: {response.status_code} {response.text}")
        return time.perf_counter() - t

    try:
        app = StreamHQApp(client, ConsoleConfig.load())
        with timing(ResourceTable, "upsert", upserts.append):
            async with app.run_test(size=SIZE) as pilot:
                await wait_for(pilot, lambda: (t := environments_table(app)) is not None and t.row_count == count,
                               f"{count} rows")
                await wait_for(pilot, lambda: app.feed_state == "live", "the live feed")
                await pilot.pause()
                table = environments_table(app)
                assert table is not None

                async def one(name: str, value: str, cell: Series, upsert: Series, sized: Series | None) -> None:
                    upserts.clear()
                    started = time.perf_counter()
                    sent = asyncio.create_task(asyncio.to_thread(patch, name, value))
                    done = await wait_for(pilot, lambda: str(table.get_cell(name, "display_name")) == value,
                                          f"{name} renamed", poll=0.002)
                    cell.add(done - started)
                    if sized is not None:  # a rebuild: wait until DataTable has re-measured the rows
                        sized.add(await wait_for(pilot, lambda: table.virtual_size.height > count, "re-measure",
                                                 poll=0.002) - started)
                    figures.live_patch.add(await sent)
                    upsert.add(sum(upserts))

                for i in range(updates):
                    name = env_name(i * 37 % count)  # spread over the list, on and off screen
                    await one(name, f"Renamed {i:02d} {secrets.token_hex(3)}", figures.live_cell,
                              figures.live_upsert, None)
                    await pilot.pause(0.02)

                # Sorted by DISPLAY NAME, a rename that moves the row makes ResourceTable rebuild every row.
                table.action_cycle_sort()
                table.action_cycle_sort()
                await pilot.pause()
                for i in range(moves):
                    name = env_name((i * 53 + 500) % count)
                    await one(name, f"Aaa moved {i:02d} {secrets.token_hex(3)}", figures.sorted_cell,
                              figures.sorted_upsert, figures.sorted_sized)
                    await pilot.pause(0.02)
    finally:
        http.close()
        server.stop()


# --- a real process in tmux -----------------------------------------------------------------------------------------


class Tmux:
    """A private tmux server (own socket, no user config) with one detached 160x45 session."""

    def __init__(self, workdir: Path, name: str) -> None:
        conf = workdir / "tmux.conf"
        conf.write_text('set -g default-terminal "tmux-256color"\nset -g status off\n')
        self.base = ["tmux", "-L", f"streamhq-bench-{os.getpid()}-{name}", "-f", str(conf)]
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
        last = env_name(count - 1)
        jump = time.perf_counter()
        tmux.keys("C-End")
        shown = tmux.wait(lambda lines: any(ROW.match(line) and last in line for line in lines), f"{last}")
    finally:
        tmux.close()
    figures.tmux_first_frame.add(first - started)
    figures.tmux_rows.add(rows - started)
    figures.tmux_to_last.add(shown - jump)
    figures.tmux_hwm_kib.append(hwm)
    figures.tmux_rss_kib.append(rss)


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
    return f"< {ms(target)}  {'met' if value < target else 'MISSED'}"


def report(figures: Figures, args: argparse.Namespace, seed_seconds: float, load: tuple[float, ...]) -> None:
    print(f"machine: {machine()}")
    print(f"load:    {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1/5/15 min load average at start)")
    print(f"setup:   {args.environments} environments created over the HQ API in {seed_seconds:.1f} s"
          f" (no agents, so metric columns are {MISSING}); terminal {SIZE[0]}x{SIZE[1]}")
    print()
    head = f"{'first paint (' + str(args.runs) + ' cold starts each)':<62} {'median':>9} {'min':>9} {'max':>9}  target"
    print(head)
    print("-" * (len(head) + 16))

    def line(label: str, series: Series, target: float | None = None) -> None:
        tail = verdict(series.median, target) if target else ""
        print(f"{label:<62} {ms(series.median):>9} {ms(min(series.values)):>9} {ms(max(series.values)):>9}  {tail}")

    print("in-process, App.run_test (no interpreter start or imports):")
    line("  start -> table.row_count == N", figures.inproc_rows, TARGET_FIRST_PAINT)
    line("  start -> table measured (virtual_size covers N rows)", figures.inproc_sized)
    line("    of which: embedded HQ start (start_embedded)", figures.inproc_embedded)
    line("    of which: HQClient.list_environments (GET + parse)", figures.inproc_get)
    line("    of which: ResourceTable.replace_all (N x add_row)", figures.inproc_replace_all)
    line("    of which: DataTable._update_dimensions (measures N x 10 cells)", figures.inproc_dimensions)
    print("real process in tmux, `streamhq --home DIR` (embedded HQ):")
    line("  spawn -> first frame (Loading environments…)", figures.tmux_first_frame)
    line("  spawn -> first screen of rows, complete", figures.tmux_rows, TARGET_FIRST_PAINT)
    line(f"  ctrl+end -> {env_name(args.environments - 1)} on screen (all rows there)", figures.tmux_to_last)
    print()
    mib = 1024
    print(f"peak RSS after first paint, `streamhq --home` (console + embedded HQ, VmHWM):"
          f" {statistics.median(figures.tmux_hwm_kib) / mib:.1f} MiB median"
          f" ({min(figures.tmux_hwm_kib) / mib:.1f}-{max(figures.tmux_hwm_kib) / mib:.1f});"
          f" VmRSS then {statistics.median(figures.tmux_rss_kib) / mib:.1f} MiB")
    if figures.remote_hwm_kib is not None:
        print(f"peak RSS, `streamhq --server URL` (console only, after first paint + live feed):"
              f" {figures.remote_hwm_kib / mib:.1f} MiB; its first screen of rows after {ms(figures.remote_rows or 0)}")
    print()
    head = f"{'live update: PATCH display_name -> shown':<62} {'n':>4} {'p50':>9} {'p99':>9} {'max':>9}  target"
    print(head)
    print("-" * (len(head) + 16))

    def pline(label: str, series: Series, target: float | None = None) -> None:
        if not series.values:
            return
        tail = verdict(series.pct(99), target) if target else ""
        print(f"{label:<62} {len(series.values):>4} {ms(series.pct(50)):>9} {ms(series.pct(99)):>9}"
              f" {ms(max(series.values)):>9}  {tail}")

    pline("in-process: PATCH sent -> DataTable cell holds the new value", figures.live_cell, TARGET_LIVE_UPDATE)
    pline("    of which: PATCH round trip (the reply, not the event)", figures.live_patch)
    pline("    of which: ResourceTable.upsert per event", figures.live_upsert)
    pline("in-process, sorted by DISPLAY NAME, row moves: -> cell", figures.sorted_cell, TARGET_LIVE_UPDATE)
    pline("    -> table re-measured (rows can paint)", figures.sorted_sized, TARGET_LIVE_UPDATE)
    pline("    of which: ResourceTable.upsert per event (full rebuild)", figures.sorted_upsert)
    pline("tmux, `streamhq --server URL`: PATCH sent -> on screen", figures.screen_live, TARGET_LIVE_UPDATE)
    print()
    print("first-paint target is checked on the median; live-update target on p99.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5, help="cold starts per first-paint method")
    parser.add_argument("--updates", type=int, default=50, help="live updates measured in-process")
    parser.add_argument("--moves", type=int, default=10, help="live updates that move a row of a sorted table")
    parser.add_argument("--screen-updates", type=int, default=20, help="live updates measured on screen in tmux")
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
    try:
        with hq_server(home, token) as url:
            seed_seconds = asyncio.run(create_environments(url, token, args.environments))
            if args.screen_updates:
                tmux_remote_live(url, token, workdir, args.screen_updates, figures)
        # The served HQ has stopped; from here on each console embeds its own HQ on the same home.
        for _ in range(args.runs):
            asyncio.run(inproc_first_paint(home, args.environments, figures))
        asyncio.run(inproc_live_updates(home, args.environments, args.updates, args.moves, figures))
        for run in range(args.runs):
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
