"""Sandbox: brings the parts up (reusing what already runs), reports them, takes them down.

State lives in `<home>/sandbox/`: one directory per part (config, data, log) and
`state.json` with each part's ports and process, so that a later `up` reuses a healthy part
and restarts a dead one on the same data."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from backend.sandbox.components import BenthosStreams, Component, ConnectWorker, KafkaCluster
from backend.sandbox.downloads import benthos_binary, kafka_libs
from backend.sandbox.processes import SandboxError, stop

CLUSTERS = ("source", "target")
START_TIMEOUT = 180.0  # a cold JVM on a busy 2-core machine


class Sandbox:
    def __init__(self, home: Path, *, log=print) -> None:
        # Absolute: the JVMs run with their own directory as cwd and get these paths as arguments.
        self.root = home.resolve() / "sandbox"
        self.log = log
        state = self._load()
        self.clusters = {name: KafkaCluster(name, self.root / name, state.get("clusters", {}).get(name, {}))
                         for name in CLUSTERS}
        self.connect = ConnectWorker("connect", self.root / "connect", state.get("connect") or {})
        self.connect.kafka = self.clusters["source"]
        self.redpanda_connect = BenthosStreams("redpanda-connect", self.root / "redpanda-connect",
                                               state.get("redpanda_connect") or {})
        self.redpanda_connect_problem: str | None = state.get("redpanda_connect_problem")

    @property
    def _state_file(self) -> Path:
        return self.root / "state.json"

    def _load(self) -> dict[str, Any]:
        try:
            return json.loads(self._state_file.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def _save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        state = {
            "clusters": {name: cluster.state for name, cluster in self.clusters.items()},
            "connect": self.connect.state,
            "redpanda_connect": self.redpanda_connect.state or None,
            "redpanda_connect_problem": self.redpanda_connect_problem,
        }
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self._state_file)

    def up(self) -> dict[str, Any]:
        """Starts whatever is not running; returns once everything started is healthy."""
        with ThreadPoolExecutor(2) as pool:
            libs_future = pool.submit(kafka_libs, self.log)
            benthos_future = pool.submit(benthos_binary, self.log)
            libs = libs_future.result()
            try:
                self.redpanda_connect.binary = benthos_future.result()
                self.redpanda_connect_problem = None
            except SandboxError as exc:  # Redpanda Connect is optional: say why, start the rest
                self.redpanda_connect_problem = str(exc)
                self.log(f"Redpanda Connect is skipped: {exc}")
        try:
            with ThreadPoolExecutor(len(CLUSTERS)) as pool:
                list(pool.map(lambda c: self._ensure(c, libs), self.clusters.values()))
            self._ensure(self.connect, libs)
            if self.redpanda_connect.binary:
                self._ensure(self.redpanda_connect, libs)
        finally:
            self._save()
        return self.status()

    def _ensure(self, component: Component, libs: Path) -> None:
        if component.running():
            return
        if component.process:
            stop(component.process)  # alive but unhealthy, or a stale record
        self.log(f"Starting {component.describe()}…")
        component.start(libs, START_TIMEOUT)

    def status(self) -> dict[str, Any]:
        """What `streamhq sandbox status --json` prints; a part that is not running is null."""
        return {
            "clusters": {name: c.summary() if c.running() else None for name, c in self.clusters.items()},
            "connect": self.connect.summary() if self.connect.running() else None,
            "redpanda_connect": self.redpanda_connect.summary() if self.redpanda_connect.running() else None,
            **({"redpanda_connect_problem": self.redpanda_connect_problem} if self.redpanda_connect_problem else {}),
        }

    def down(self) -> None:
        """Stops every process this sandbox started; data stays for the next `up`."""
        for component in (self.redpanda_connect, self.connect, *self.clusters.values()):
            if component.process:
                self.log(f"Stopping {component.name}…")
                stop(component.process)
                component.state.pop("process", None)
        self._save()
