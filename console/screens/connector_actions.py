"""What the Connectors list and a connector's detail do to connectors, for one or many at once:
state changes, restarts, delete (confirmed once for all of them; in production by typing),
and the ways to the editor and the offsets screen. Each call goes to HQ's proxy of the
connector's own environment; the answers of many are summed up in one notice."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import App
from textual.binding import Binding

from backend.connect.models import ActionResult, ConnectorListItem, ConnectorStateAction
from console.client import APIError, Unreachable
from console.client.events import connector_environment
from console.format import plural
from console.screens.confirm import ConfirmDialog, confirm_then
from console.screens.connector_editor import open_editor as open_connector_editor
from console.screens.connector_offsets import open_offsets as open_connector_offsets

LISTED_IN_A_DIALOG = 10  # names a delete confirmation spells out; the rest are counted


@dataclass(frozen=True)
class ConnectorRef:
    environment: str
    cluster: str
    name: str

    @classmethod
    def of(cls, item: ConnectorListItem) -> ConnectorRef:
        return cls(connector_environment(item.lrn) or "", item.cluster, item.name)

    @property
    def label(self) -> str:
        return f"{self.cluster}/{self.name}"


@dataclass(frozen=True)
class _Words:
    verb: str  # "pause ... failed"
    done: str  # "Paused 3 connectors."


_WORDS = {
    ConnectorStateAction.pause: _Words("pause", "Paused"), ConnectorStateAction.resume: _Words("resume", "Resumed"),
    ConnectorStateAction.stop: _Words("stop", "Stopped"), ConnectorStateAction.start: _Words("start", "Started"),
    ConnectorStateAction.restart: _Words("restart", "Restarted"),
}
_DELETE = _Words("delete", "Deleted")
_RESTART_FAILED = _Words("restart the failed tasks of", "Restarted the failed tasks of")


def change_state(app: App, targets: Sequence[ConnectorRef], action: ConnectorStateAction, *,
                 include_tasks: bool = False, only_failed: bool = False) -> None:
    """Sends `action` to every target at once; the feed shows the new states, a notice the outcome."""
    if not targets:
        return

    async def one(target: ConnectorRef) -> ActionResult:
        return await app.client.connect.action(target.environment, target.cluster, target.name, action,
                                               include_tasks=include_tasks, only_failed=only_failed)

    async def run() -> None:
        results = await asyncio.gather(*(one(t) for t in targets), return_exceptions=True)
        _report(app, targets, results, _RESTART_FAILED if only_failed else _WORDS[action])

    app.run_worker(run(), group="connector-actions")


def restart_task(app: App, target: ConnectorRef, task: int | str) -> None:
    async def run() -> None:
        try:
            result = await app.client.connect.restart_task(target.environment, target.cluster, target.name, task)
        except (APIError, Unreachable) as exc:
            app.notify(f"Restart of task {task} of {target.label} failed: {exc}", severity="error")
            return
        app.notify(f"Task {task} of {target.label}: {result.message}", timeout=3)

    app.run_worker(run(), group="connector-actions")


def confirm_delete(app: App, targets: Sequence[ConnectorRef], production: bool) -> None:
    """One confirmation listing them all; in production the name (or how many) is typed."""
    if not targets:
        return
    shown = [f"  {t.environment} · {t.label}" for t in targets[:LISTED_IN_A_DIALOG]]
    if len(targets) > LISTED_IN_A_DIALOG:
        shown.append(f"  … and {len(targets) - LISTED_IN_A_DIALOG} more")
    what = targets[0].name if len(targets) == 1 else plural(len(targets), "connector")
    consequence = ("Its worker stops it and forgets its configuration:" if len(targets) == 1
                   else "Their workers stop them and forget their configuration:")
    message = "\n".join([consequence, *shown])

    async def delete_all() -> list[BaseException | None]:
        return await asyncio.gather(*(app.client.connect.delete(t.environment, t.cluster, t.name) for t in targets),
                                    return_exceptions=True)

    confirm_then(
        app,
        ConfirmDialog(f"Delete {what}?", message, type_to_confirm=what if production else None),
        delete_all,
        failed="Delete failed",
        done=lambda results: _report(app, targets, results, _DELETE),
    )


def _report(app: App, targets: Sequence[ConnectorRef], results: Sequence[object], words: _Words) -> None:
    failures = [(t, r) for t, r in zip(targets, results, strict=True) if isinstance(r, BaseException)]
    for target, error in failures:
        if not isinstance(error, APIError | Unreachable):
            raise error
        app.notify(f"{words.verb.capitalize()} {target.label} failed: {error}", severity="error")
    succeeded = len(targets) - len(failures)
    if not succeeded:
        return
    in_progress = any(isinstance(r, ActionResult) and r.inProgress for r in results)
    subject = targets[0].label if len(targets) == 1 else plural(succeeded, "connector")
    app.notify(f"{words.done} {subject}" + (" (the worker is still restarting it)" if in_progress else "."),
               timeout=3)


def open_editor(app: App, environment: str, cluster: str | None = None, name: str | None = None) -> None:
    """The connector editor: a new connector (no `name`) or the named one's configuration."""
    open_connector_editor(app, environment, cluster, name)


def open_offsets(app: App, target: ConnectorRef) -> None:
    open_connector_offsets(app, target.environment, target.cluster, target.name)


# The state-change keys of every screen of connectors: (key, action, description, shown in the footer).
STATE_KEYS = (
    ("p", "pause", "Pause", True),
    ("u", "resume", "Resume", True),
    ("x", "stop", "Stop", True),
    ("g", "start", "Start", False),
    ("r", "restart", "Restart", True),
    ("f", "restart_failed", "Restart failed", False),
)
STATE_ACTIONS = frozenset(action for _, action, _, _ in STATE_KEYS)


def state_bindings(screen_id: str) -> list[Binding]:
    """The state-change keys as `screen_id`'s bindings (each rebindable by its own id)."""
    return [Binding(key, action, description, id=f"{screen_id}.{action}", show=shown)
            for key, action, description, shown in STATE_KEYS]


class StateKeys:
    """The state-change actions of a screen of connectors (the list, a detail): each applies to
    the screen's `targets()`, then calls `acted()`."""

    app: App

    def targets(self) -> list[ConnectorRef]:
        raise NotImplementedError

    def acted(self) -> None:
        """After an action was sent (the list drops its marks)."""

    def _change(self, action: ConnectorStateAction, **flags: bool) -> None:
        change_state(self.app, self.targets(), action, **flags)
        self.acted()

    def action_pause(self) -> None:
        self._change(ConnectorStateAction.pause)

    def action_resume(self) -> None:
        self._change(ConnectorStateAction.resume)

    def action_stop(self) -> None:
        self._change(ConnectorStateAction.stop)

    def action_start(self) -> None:
        self._change(ConnectorStateAction.start)

    def action_restart(self) -> None:
        self._change(ConnectorStateAction.restart, include_tasks=True)

    def action_restart_failed(self) -> None:
        self._change(ConnectorStateAction.restart, include_tasks=True, only_failed=True)
