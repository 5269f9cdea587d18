"""How resources read in rows and lines, shared by the list screens and the detail screens
(neither imports the other): an agent's state, a K2K app's or a connector's state, rates, an
LRN's environment, a connector's tasks and class."""

from __future__ import annotations

from rich.text import Text

from backend.connect.models import ConnectStatus, SimpleTask
from backend.environments.models import Environment
from console.format import MISSING

STATE_STYLES = {"running": "green", "deploying": "cyan", "paused": "yellow", "failed": "bold red",
                "deleting": "magenta", "unknown": "dim",
                # a Kubernetes app's Deployments (backend.k2k.kubernetes)
                "available": "green", "not reporting": "dim", "scaled to 0": "yellow",
                # Kafka Connect's states (upper case on the wire)
                "stopped": "yellow", "unassigned": "dim", "restarting": "cyan"}


def agent_state(environment: Environment) -> Text:
    status = environment.status
    if status.agent is None:
        return Text("○ no agent", style="dim")
    if not status.agent_connected:
        return Text("○ disconnected", style="red")
    issues = len(status.agent.issues)
    return Text.assemble(("● connected", "green"), (f" ⚠{issues}", "yellow") if issues else "")


def state_text(state: str) -> Text:
    return Text(f"● {state}", style=STATE_STYLES.get(state.lower(), ""))


def connector_state(state: ConnectStatus | None) -> Text:
    return state_text(state.value) if state else Text(MISSING, style="dim")


def task_counts(tasks: list[SimpleTask]) -> tuple[int, int, int]:
    """(running, total, failed) of a connector's tasks."""
    running = sum(task.state is ConnectStatus.RUNNING for task in tasks)
    failed = sum(task.state is ConnectStatus.FAILED for task in tasks)
    return running, len(tasks), failed


def tasks_text(counts: tuple[int, int, int]) -> Text:
    running, total, failed = counts
    text = Text(f"{running}/{total}", style="" if running == total else "yellow")
    if failed:
        text.append(f" ✗{failed}", style="bold red")
    return text


def short_class(class_name: str | None) -> str:
    """org.apache.kafka.connect.file.FileStreamSourceConnector -> FileStreamSourceConnector"""
    return class_name.rpartition(".")[2] if class_name else MISSING


def environment_of(lrn: str) -> str:
    """environments:kafka-connection/{env}/{conn} -> env (the LRN itself if it is not one)."""
    parts = lrn.split("/")
    return parts[1] if len(parts) == 3 else lrn


def per_second(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:,.0f}/s" if value >= 10 or value == 0 else f"{value:.1f}/s"
