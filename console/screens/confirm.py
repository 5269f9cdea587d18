"""ConfirmDialog: y/enter confirms, n/esc cancels. For what cannot be undone in production,
the user types the resource's name instead (a slip of one key must not delete it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from console.client import APIError, Unreachable


class ConfirmDialog(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "confirm", "Yes", id="confirm.yes"),
        Binding("n,escape", "cancel", "No", id="confirm.no"),
    ]

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical {
        width: 64; height: auto; padding: 1 2;
        border: thick $error; background: $surface;
    }
    ConfirmDialog .title { text-style: bold; margin-bottom: 1; }
    ConfirmDialog .hint { color: $text-muted; margin-top: 1; }
    ConfirmDialog Input { margin-top: 1; }
    """

    def __init__(self, title: str, message: str, *, type_to_confirm: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.message = message
        self.type_to_confirm = type_to_confirm

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Static(self.message)
            if self.type_to_confirm:
                yield Input(placeholder=self.type_to_confirm, id="typed")
                yield Static(f"Type [b]{self.type_to_confirm}[/b] and press enter; esc cancels.", classes="hint")
            else:
                yield Static("[b]y[/b] / enter: yes    [b]n[/b] / esc: no", classes="hint")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing the name, letters are text, not answers.
        return not (self.type_to_confirm and action == "confirm")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.value == self.type_to_confirm:
            self.dismiss(True)
        else:
            self.notify(f"That is not {self.type_to_confirm!r}.", severity="warning", timeout=2)

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


def confirm_then(app: App, dialog: ConfirmDialog, action: Callable[[], Awaitable[Any]], *, failed: str,
                 done: Callable[[Any], None]) -> None:
    """Asks with `dialog`; on yes runs `action` against HQ and hands its result to `done`, or
    says why it failed (the server's words, or that it is unreachable)."""
    async def answer(confirmed: bool | None) -> None:
        if not confirmed:
            return
        try:
            result = await action()
        except (APIError, Unreachable) as exc:
            app.notify(f"{failed}: {exc}", severity="error")
            return
        done(result)

    app.push_screen(dialog, answer)
