"""CommandLine (`:`): k9s-style commands with aliases, typed at the bottom of the screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]
    help: str
    run: Callable[[str], str | None]  # gets the argument; returns an error message, or None


class CommandLine(ModalScreen[None]):
    BINDINGS = [Binding("escape", "close", "Close", id="command.close")]

    DEFAULT_CSS = """
    CommandLine { align: left bottom; background: transparent; }
    CommandLine > Vertical { height: auto; background: $panel; }
    CommandLine Input { border: none; height: 1; padding: 0 1; background: $panel; }
    CommandLine #command-error { color: $error; padding: 0 1; display: none; }
    CommandLine #command-help { color: $text-muted; padding: 0 1; }
    """

    def __init__(self, commands: list[Command]) -> None:
        super().__init__()
        self.commands = {name: command for command in commands for name in command.names}
        self.listing = "  ".join(f":{c.names[0]}" for c in commands)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(id="command-error")
            yield Static(self.listing, id="command-help")
            yield Input(placeholder="command (tab completes, esc closes)", id="command",
                        suggester=SuggestFromList(sorted(self.commands), case_sensitive=False))

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        word, _, argument = event.value.strip().lstrip(":").partition(" ")
        command = self.commands.get(word.lower())
        if command is None:
            self._error(f"Unknown command {word!r}." if word else "Type a command.")
            return
        error = command.run(argument.strip())
        if error:
            self._error(error)
        else:
            self.dismiss(None)

    def _error(self, message: str) -> None:
        line = self.query_one("#command-error", Static)
        line.update(message)
        line.display = True

    def action_close(self) -> None:
        self.dismiss(None)
