"""Sandbox: brings the parts up (reusing what already runs), reports them, takes them down,
and stops or restarts one Connect worker on request (a Connect cluster lost mid-test).

State lives in `<home>/sandbox/`: one directory per part (config, data, log) and
`state.json` with each part's ports and process, so that a later `up` reuses a healthy part
and restarts a dead one on the same data. Several processes may hold a Sandbox of one home
(test sessions sharing a running sandbox): `status()` reads state.json again, so a worker
another process restarted is reported with its new process."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from backend.sandbox.components import BenthosStreams, Component, ConnectWorker, KafkaCluster
from backend.sandbox.downloads import benthos_binary, kafka_libs
from backend.sandbox.processes import SandboxError, stop

CLUSTERS = ("source", "target")
# One Connect cluster per Kafka cluster, keyed by that Kafka's name. The source's part keeps the
# name it had when it was the only one, so a sandbox made before keeps its connectors.
CONNECT_PARTS = {"source": "connect", "target": "connect-target"}
START_TIMEOUT = 180.0  # a cold JVM on a busy 2-core machine


class Sandbox:
    def __init__(self, home: Path, *, log=print) -> None:
        # Absolute: the JVMs run with their own directory as cwd and get these paths as arguments.
        self.root = home.resolve() / "sandbox"
        self.log = log
        self.clusters = {name: KafkaCluster(name, self.root / name) for name in CLUSTERS}
        self.connects = {kafka: ConnectWorker(part, self.root / part) for kafka, part in CONNECT_PARTS.items()}
        for kafka, worker in self.connects.items():
            worker.kafka = self.clusters[kafka]
        self.redpanda_connect = BenthosStreams("redpanda-connect", self.root / "redpanda-connect")
        self.redpanda_connect_problem: str | None = None
        self._load()

    @property
    def connect(self) -> ConnectWorker:
        """The Connect worker on `source`, the one most tests need."""
        return self.connects["source"]

    @property
    def _state_file(self) -> Path:
        return self.root / "state.json"

    def _load(self) -> None:
        try:
            state = json.loads(self._state_file.read_text())
        except (FileNotFoundError, ValueError):
            state = {}
        for name, cluster in self.clusters.items():
            cluster.state = state.get("clusters", {}).get(name) or {}
        connect_states = state.get("connects") or {"source": state.get("connect")}  # an older state.json: one
        for kafka, worker in self.connects.items():
            worker.state = connect_states.get(kafka) or {}
        self.redpanda_connect.state = state.get("redpanda_connect") or {}
        self.redpanda_connect_problem = state.get("redpanda_connect_problem")

    def _save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        state = {
            "clusters": {name: cluster.state for name, cluster in self.clusters.items()},
            "connects": {kafka: worker.state for kafka, worker in self.connects.items()},
            # For a checkout from before `connects` sharing this home: it then reuses the source's
            # worker instead of starting a second one into the same Connect group.
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
            with ThreadPoolExecutor(len(self.connects)) as pool:
                list(pool.map(lambda w: self._ensure(w, libs), self.connects.values()))
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

    def _stop(self, component: Component) -> None:
        if component.process:
            self.log(f"Stopping {component.name}…")
            stop(component.process)
            component.state.pop("process", None)

    def stop_connect(self, kafka: str) -> None:
        """Stops the Connect worker on Kafka cluster `kafka` (`source` or `target`); returns once
        its process is gone, so its REST port refuses connections."""
        self._load()  # what other holders of this home changed since, kept when saving below
        try:
            self._stop(self.connects[kafka])
        finally:
            self._save()

    def start_connect(self, kafka: str) -> dict[str, Any]:
        """Starts that worker again, on the same port and storage topics (its connectors come
        back); returns its summary once it is healthy, at once when it already runs."""
        self._load()
        worker = self.connects[kafka]
        try:
            self._ensure(worker, kafka_libs(self.log))
        finally:
            self._save()
        return worker.summary()

    def status(self) -> dict[str, Any]:
        """What `streamhq sandbox status --json` prints; a part that is not running (no process, or
        its port refuses) is null.
        `connect` is the worker on `source` (as it was before there were two); `connects` has
        both, keyed by the Kafka cluster each works on."""
        self._load()
        connects = {kafka: w.summary() if w.listening() else None for kafka, w in self.connects.items()}
        return {
            "clusters": {name: c.summary() if c.listening() else None for name, c in self.clusters.items()},
            "connect": connects["source"],
            "connects": connects,
            "redpanda_connect": self.redpanda_connect.summary() if self.redpanda_connect.listening() else None,
            **({"redpanda_connect_problem": self.redpanda_connect_problem} if self.redpanda_connect_problem else {}),
        }

    def down(self) -> None:
        """Stops every process this sandbox started; data stays for the next `up`."""
        try:
            for component in (self.redpanda_connect, *self.connects.values(), *self.clusters.values()):
                self._stop(component)
        finally:
            self._save()
