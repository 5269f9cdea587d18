"""Starting, finding and stopping the sandbox's long-running processes.

They outlive the command that started them (`streamhq sandbox up` returns), so a process is
identified by its pid *and* its start time: after a reboot or pid reuse, a stale pid is not
mistaken for our broker."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcessRef:
    pid: int
    started: int  # /proc/<pid>/stat field 22: start time in clock ticks since boot

    @classmethod
    def of(cls, pid: int) -> ProcessRef:
        return cls(pid, _start_time(pid) or 0)

    def alive(self) -> bool:
        return _start_time(self.pid) == self.started

    def to_json(self) -> dict[str, int]:
        return {"pid": self.pid, "started": self.started}


def _start_time(pid: int) -> int | None:
    """The process's start time, or None when it is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def spawn(command: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None) -> ProcessRef:
    """Starts `command` in its own session (so it survives us and can be stopped as a group)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=cwd, env=env, start_new_session=True)
    return ProcessRef.of(process.pid)


def stop(ref: ProcessRef, grace: float = 20.0) -> None:
    """SIGTERM to the process group, then SIGKILL after `grace` seconds."""
    if not ref.alive():
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(ref.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            _reap(ref.pid)
            if not ref.alive():
                return
            time.sleep(0.1)


def _reap(pid: int) -> None:
    """Collects our own child's exit status, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(check: Callable[[], bool], timeout: float, what: str, ref: ProcessRef, log: Path) -> None:
    """Polls `check` until it holds; fails early if the process died, with its log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if not ref.alive():
            raise SandboxError(f"{what} exited during start-up.\n{tail(log)}")
        time.sleep(0.5)
    raise SandboxError(f"{what} was not healthy after {timeout:.0f}s.\n{tail(log)}")


def tail(log: Path, lines: int = 25) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return f"(no log at {log})"
    return f"Last lines of {log}:\n" + "\n".join(text)


class SandboxError(Exception):
    """Something the user must act on; the message says what."""
