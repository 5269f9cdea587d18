"""What the Topics list and a topic's detail do to a topic: delete it (confirmed; in production
by typing its name), and open the tail or the publish editor on it (found by name in the
registry: those screens are the tail's modules, not imported here)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.binding import Binding

from backend.streams.models import StreamDeleted
from console.format import human_bytes, plural
from console.screens.confirm import ConfirmDialog, confirm_then
from console.screens.registry import open_stream_screen


def tool_bindings(screen_id: str) -> list[Binding]:
    """`t` tail and `P` publish, as `screen_id`'s bindings (each rebindable by its own id)."""
    return [
        Binding("t", "tail", "Tail", id=f"{screen_id}.tail"),
        Binding("P", "publish", "Publish", id=f"{screen_id}.publish"),
    ]


def open_on_topic(app: App, screen: str, environment: str, topic: str) -> None:
    """Opens the stream screen `screen` (TAIL, PUBLISH) on `topic`."""
    open_stream_screen(app, screen, environment, topic)


def confirm_delete(app: App, environment: str, topic: str, *, production: bool, messages: int | None = None,
                   size: int | None = None, deleted: Callable[[StreamDeleted], None] | None = None) -> None:
    """One confirmation saying what goes with the topic; `deleted` hears the agent's answer."""
    held = f"its {plural(messages, 'message')} ({human_bytes(size)})" if messages is not None else "its records"
    message = (f"This deletes {topic!r} from {environment}'s Kafka with {held}. Consumer groups lose their "
               "positions on it, and producers writing to it start failing (or create it again).")

    def done(answer: StreamDeleted) -> None:
        app.notify(f"Topic {topic!r} deleted.", timeout=3)
        if deleted is not None:
            deleted(answer)

    confirm_then(
        app,
        ConfirmDialog(f"Delete topic {topic}?", message, type_to_confirm=topic if production else None),
        lambda: app.client.streams.delete(environment, topic),
        failed=f"Delete of {topic} failed",
        done=done,
    )

