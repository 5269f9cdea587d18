"""What the K2K apps list and a K2K app's detail both do to an app."""

from __future__ import annotations

from textual.screen import Screen

from backend.k2k.models import K2KApp
from console.client import APIError, Unreachable


def toggle_pause(screen: Screen, app: K2KApp) -> None:
    """p: pause a running app, resume a paused one (a merge patch of spec.paused)."""
    name, paused = app.metadata.name, app.spec.paused

    async def flip() -> None:
        try:
            await screen.app.client.patch_k2k(name, {"spec": {"paused": not paused}})
        except (APIError, Unreachable) as exc:
            screen.notify(f"{'Resume' if paused else 'Pause'} failed: {exc}", severity="error", timeout=6)
            return
        screen.notify(f"{name}: {'resuming' if paused else 'pausing'}…", timeout=3)

    screen.run_worker(flip(), group="pause")
