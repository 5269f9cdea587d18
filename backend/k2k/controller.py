"""The K2K controller: makes the running workers match each app's spec, and says how it went.

Locally, each app runs `spec.configOverrides.workers` processes of `streamhq worker` (one per
slot; a slot is also the worker's static group member id). The controller writes the app's
worker config (0600: it holds credentials), starts the workers, restarts a worker that exits
(backoff 1 s doubling to 60 s, reset after a minute of running), restarts all of them when the
spec's generation changes, stops them for `paused` and on delete, and keeps `status`
(state, message, pods, observedGeneration) in the store, written only when it changes.

Apps with a `deploymentNamespaceLRN` run in Kubernetes from `streamhq k2k manifest`; the
controller starts nothing for them and reports their state, pods and manifest resources as
the workers' heartbeats show them (backend.k2k.kubernetes).

Before it starts an app's workers, the controller makes sure the source and target are two
clusters (backend.k2k.clusters), off its own thread, since a cluster that does not answer
would hold up every app's round: one cluster id fails the app, and while a cluster does not
answer the app waits in `deploying` with the reason."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from backend.clock import utc_now_iso
from backend.k2k import kubernetes, manifest
from backend.k2k.clusters import Verdict, compare
from backend.k2k.metrics import MetricsCollector
from backend.k2k.models import AppState, K2KSpec
from backend.k2k.references import SpecProblem, worker_config
from backend.replicator.config import WorkerConfig, consumer_group
from backend.replicator.worker import EXIT_CONFIG
from backend.store import AppRecord, Store
from backend.store.changes import Publisher

log = logging.getLogger(__name__)

BACKOFF_MAX = 60.0
STEADY_SECONDS = 60.0  # running this long resets a worker's backoff
STOP_GRACE = 20.0
NAMESPACE = "local"
PR_SET_PDEATHSIG = 1
RECHECK_SECONDS = 10.0  # asking again for the ids of clusters that did not answer


def _stop_with_hq() -> None:
    """In the worker, before exec: SIGTERM it when the HQ thread that started it goes away
    (Linux PR_SET_PDEATHSIG), so no worker outlives its HQ and runs unsupervised; the next
    HQ starts it again from the committed positions."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def worker_command() -> list[str]:
    """`streamhq worker`, from the same installation as this server."""
    beside = Path(sys.executable).with_name("streamhq")
    return [str(beside) if beside.exists() else shutil.which("streamhq") or "streamhq", "worker"]


@dataclass
class Slot:
    """One worker process of an app."""

    name: str
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    not_before: float = 0.0
    last_exit: int | None = None
    last_termination: dict[str, str] | None = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class ClusterCheck:
    """Whether one source and target pair is two clusters, as the controller's pool answers it."""

    source: dict[str, Any]
    target: dict[str, Any]
    answer: Future[Verdict]
    started: float


@dataclass
class Runtime:
    directory: Path
    config: WorkerConfig | None = None
    slots: dict[str, Slot] = field(default_factory=dict)
    problem: str | None = None  # why the app cannot run (a spec reference gone, one cluster for both)
    waiting: str | None = None  # why its workers do not start yet
    check: ClusterCheck | None = None


def open_worker_log(path: Path) -> BinaryIO:
    """A worker's log for appending, private (0600) like the rest of the home: its lines name
    hosts, topics and users. One that an older version left world-readable is made private too."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab")


def _last_line(log_file: Path) -> str:
    try:
        with log_file.open("rb") as f:
            f.seek(max(0, f.seek(0, 2) - 4096))
            lines = [line for line in f.read().decode(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


class K2KController:
    def __init__(self, store: Store, home: Path, publish: Publisher, *, interval: float = 1.0,
                 metrics_interval: float = 3.0) -> None:
        self.store = store
        self.root = home / "k2k"
        self.interval = interval
        self.metrics = MetricsCollector(store, publish, metrics_interval)
        self.runtimes: dict[str, Runtime] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._checks = ThreadPoolExecutor(max_workers=2, thread_name_prefix="k2k-cluster-check")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="k2k-controller", daemon=True)
        self._thread.start()
        self.metrics.start()

    def stop(self) -> None:
        self._stopping.set()
        self.metrics.stop()
        if self._thread is not None:
            self._thread.join(timeout=STOP_GRACE + 5)
        self._checks.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for runtime in self.runtimes.values():
                self._stop_slots(runtime, list(runtime.slots))

    def workers_alive(self, name: str) -> int:
        with self._lock:
            runtime = self.runtimes.get(name)
            return sum(slot.alive() for slot in runtime.slots.values()) if runtime else 0

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.reconcile()
            except Exception:  # one bad round must not stop the controller
                log.exception("k2k reconcile round failed")
            self._stopping.wait(self.interval)

    def reconcile(self) -> None:
        records = {r.name: r for r in self.store.list_apps()}
        with self._lock:
            for name in list(self.runtimes):
                if name not in records:
                    runtime = self.runtimes.pop(name)
                    self._stop_slots(runtime, list(runtime.slots))
            for record in records.values():
                runtime = self.runtimes.setdefault(record.name, Runtime(self.root / record.name))
                self._reconcile_app(record, runtime)
        self.metrics.track(records, {name: r.config for name, r in self.runtimes.items()})

    def _reconcile_app(self, record: AppRecord, runtime: Runtime) -> None:
        spec = K2KSpec.model_validate(record.spec)
        runtime.waiting = None
        try:
            config = worker_config(self.store, record)
            runtime.problem = None
        except SpecProblem as exc:
            config, runtime.problem = None, exc.title
        runs = config is not None and spec.deploymentNamespaceLRN is None and not spec.paused
        if runs:
            verdict = self._two_clusters(runtime, config)
            if verdict.same:
                runtime.problem = (f"The source and target are the same Kafka cluster ({verdict.reason}): the app "
                                   "would copy each topic onto itself. Point one of them at another cluster.")
            elif verdict.same is None:
                runtime.waiting = f"no worker starts until source and target are known to differ: {verdict.reason}"
            runs = verdict.same is False
        if config != runtime.config or not runs:
            self._stop_slots(runtime, list(runtime.slots))
            runtime.slots.clear()
        runtime.config = config
        if runs:
            self._write_config(runtime, config)
            wanted = [f"{record.name}-{i}" for i in range(config.workers)]
            for name in wanted:
                slot = runtime.slots.setdefault(name, Slot(name))
                self._keep_running(runtime, slot, config)
        self._write_status(record, spec, runtime)

    def _two_clusters(self, runtime: Runtime, config: WorkerConfig) -> Verdict:
        """The verdict on the config's source and target, asked once per pair (again, after a while,
        while a cluster does not answer); `same` is None until it is known."""
        check = runtime.check
        stale = check is not None and check.answer.done() and check.answer.result().same is None \
            and time.monotonic() - check.started > RECHECK_SECONDS
        if check is None or (check.source, check.target) != (config.source, config.target) or stale:
            check = runtime.check = ClusterCheck(config.source, config.target,
                                                 self._checks.submit(compare, config.source, config.target),
                                                 time.monotonic())
        if not check.answer.done():
            return Verdict(None, "asking both clusters for their id")
        return check.answer.result()

    def _write_config(self, runtime: Runtime, config: WorkerConfig) -> None:
        runtime.directory.mkdir(parents=True, exist_ok=True)
        path = runtime.directory / "config.json"
        text = json.dumps(config.model_dump(), indent=2)
        if not path.exists() or path.read_text() != text:
            path.touch(mode=0o600)
            path.write_text(text)

    def _keep_running(self, runtime: Runtime, slot: Slot, config: WorkerConfig) -> None:
        if slot.alive():
            if time.monotonic() - slot.started_at > STEADY_SECONDS:
                slot.failures = 0
            return
        if slot.process is not None:  # it exited without being asked to
            code = slot.process.returncode
            slot.process, slot.last_exit = None, code
            line = _last_line(self._log(runtime, slot))
            slot.last_termination = {"message": f"exit code {code}: {line}" if line else f"exit code {code}",
                                     "time": utc_now_iso()}
            slot.failures += 1
            slot.not_before = time.monotonic() + min(BACKOFF_MAX, 2.0 ** (slot.failures - 1))
        if time.monotonic() < slot.not_before:
            return
        command = [*worker_command(), "--app", config.app, "--config", str(runtime.directory / "config.json"),
                   "--worker-id", slot.name.rsplit("-", 1)[1]]
        with open_worker_log(self._log(runtime, slot)) as out:
            slot.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            cwd=runtime.directory, preexec_fn=_stop_with_hq)
        slot.started_at = time.monotonic()

    def _log(self, runtime: Runtime, slot: Slot) -> Path:
        return runtime.directory / f"{slot.name}.log"

    def _stop_slots(self, runtime: Runtime, names: list[str]) -> None:
        """SIGTERM (workers commit what they copied), then SIGKILL after the grace period."""
        slots = [runtime.slots[n] for n in names if runtime.slots[n].alive()]
        for slot in slots:
            slot.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for slot in slots:
            try:
                slot.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                slot.process.kill()
                slot.process.wait()
            slot.process = None

    # status

    def _write_status(self, record: AppRecord, spec: K2KSpec, runtime: Runtime) -> None:
        in_sync = runtime.config is not None and runtime.config.generation == record.generation
        resources: list[dict[str, Any]] = []
        if spec.deploymentNamespaceLRN is not None and runtime.config is not None:
            rendered = manifest.documents(record.name, spec, runtime.config)
            namespace = rendered[0]["metadata"]["namespace"]
            reported = kubernetes.reported_pods(self.metrics.heartbeats(record.name), runtime.config, namespace)
            state, message = kubernetes.state(reported, runtime.config, namespace, spec.paused, record.name)
            pods = list(reported.values())
            resources = kubernetes.managed_resources(rendered, reported, spec.paused)
            in_sync = in_sync and state in (AppState.running, AppState.paused)
        else:
            state, message = self._state(spec, runtime)
            pods = [self._pod(slot) for slot in runtime.slots.values()]
        previous = record.status
        status: dict[str, Any] = {
            "state": state.value,
            "statusMessage": message,
            "observedGeneration": record.generation if in_sync else previous.get("observedGeneration", 0),
            "deployment": {"inSync": in_sync and state != AppState.failed, "managedResources": resources,
                           "pods": pods},
            "kafka": {"consumerGroup": consumer_group(record.name)},
        }
        unchanged = {k: v for k, v in previous.items() if k not in ("updatedAt", "statusLastTransitionAt")}
        if unchanged == status:
            return
        stamp = utc_now_iso()
        status["updatedAt"] = stamp
        status["statusLastTransitionAt"] = (stamp if previous.get("state") != state.value
                                            else previous.get("statusLastTransitionAt", stamp))
        self.store.update_app_status(record.name, status)

    def _state(self, spec: K2KSpec, runtime: Runtime) -> tuple[AppState, str]:
        if runtime.problem:
            return AppState.failed, runtime.problem
        if spec.paused:
            return AppState.paused, "paused: no worker runs; positions are kept on the target"
        if runtime.waiting:
            return AppState.deploying, runtime.waiting
        slots = list(runtime.slots.values())
        broken = [s for s in slots if not s.alive() and s.last_exit == EXIT_CONFIG]
        if broken:
            return AppState.failed, (broken[0].last_termination or {}).get("message", "worker failed")
        crashing = [s for s in slots if not s.alive() and s.failures >= 3]
        if crashing:
            return AppState.failed, (f"{crashing[0].name} keeps exiting (restart #{crashing[0].failures} pending): "
                                     f"{(crashing[0].last_termination or {}).get('message', '')}")
        beats = self.metrics.heartbeats(runtime.config.app if runtime.config else "")
        # A slot is up once its current process says so (an older heartbeat is not enough).
        ready = [s for s in slots if s.alive() and beats.get(s.name.rsplit("-", 1)[1], {}).get("pid") == s.process.pid
                 and beats[s.name.rsplit("-", 1)[1]].get("state") == "running"]
        if slots and len(ready) == len(slots):
            return AppState.running, f"{len(slots)} worker{'s' if len(slots) > 1 else ''} copying"
        return AppState.deploying, f"{len(ready)} of {len(slots)} workers up"

    def _pod(self, slot: Slot) -> dict[str, Any]:
        if slot.alive():
            state, reason = "running", None
        elif slot.last_exit == EXIT_CONFIG:
            state, reason = "failed", "the app's settings stop it; fix them and it restarts"
        else:
            state, reason = "waiting", "restarting after backoff" if slot.failures else "starting"
        pod: dict[str, Any] = {"name": slot.name, "namespace": NAMESPACE, "state": state, "reason": reason}
        if slot.last_termination:
            pod["lastTermination"] = slot.last_termination
        return pod
