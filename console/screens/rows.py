"""How resources read in rows and lines, shared by the list screens and the detail screens
(neither imports the other): an agent's state, a K2K app's state, rates, an LRN's environment."""

from __future__ import annotations

from rich.text import Text

from backend.environments.models import Environment
from console.format import MISSING

STATE_STYLES = {"running": "green", "deploying": "cyan", "paused": "yellow", "failed": "bold red",
                "deleting": "magenta", "unknown": "dim",
                # a Kubernetes app's Deployments (backend.k2k.kubernetes)
                "available": "green", "not reporting": "dim", "scaled to 0": "yellow"}


def agent_state(environment: Environment) -> Text:
    status = environment.status
    if status.agent is None:
        return Text("○ no agent", style="dim")
    if not status.agent_connected:
        return Text("○ disconnected", style="red")
    issues = len(status.agent.issues)
    return Text.assemble(("● connected", "green"), (f" ⚠{issues}", "yellow") if issues else "")


def state_text(state: str) -> Text:
    return Text(f"● {state}", style=STATE_STYLES.get(state, ""))


def environment_of(lrn: str) -> str:
    """environments:kafka-connection/{env}/{conn} -> env (the LRN itself if it is not one)."""
    parts = lrn.split("/")
    return parts[1] if len(parts) == 3 else lrn


def per_second(value: float | None) -> str:
    if value is None:
        return MISSING
    return f"{value:,.0f}/s" if value >= 10 or value == 0 else f"{value:.1f}/s"
