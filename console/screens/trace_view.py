"""A stack trace, full screen and scrollable both ways (Java traces run wide), `w` to wrap its
long lines instead (as k9s's log view does), and `y` to copy it whole through the terminal
(OSC 52, so it works over SSH)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from console.widgets.status_header import StatusHeader


class TraceScreen(Screen[None]):
    BINDINGS = [
        Binding("y", "copy", "Copy", id="trace.copy"),
        Binding("w", "wrap", "Wrap", id="trace.wrap"),
        Binding("escape", "app.pop_screen", "Back", id="trace.back"),
    ]

    DEFAULT_CSS = """
    TraceScreen #what { padding: 0 1; text-style: bold; color: $error; }
    TraceScreen #body { height: 1fr; }
    TraceScreen #trace { width: auto; padding: 0 1; }
    TraceScreen #trace.wrapped { width: 100%; }
    """

    def __init__(self, what: str, trace: str) -> None:
        super().__init__(name="trace")
        self.what = what
        self.trace = trace

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Label(self.what, id="what")
        with ScrollableContainer(id="body"):
            # Text: a trace's brackets are not markup; Java indents its frames with tabs
            yield Static(Text(self.trace.expandtabs(4)), id="trace")
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.what
        self.query_one("#body").focus()

    @property
    def wrapped(self) -> bool:
        return self.query_one("#trace").has_class("wrapped")

    def action_wrap(self) -> None:
        self.query_one("#trace").toggle_class("wrapped")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.trace)
        self.notify(f"Copied the trace ({len(self.trace.splitlines())} lines).", timeout=2)
