"""AgentKeyDialog: shows a freshly issued agent key, the only time it is ever shown."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from console.screens.confirm import ConfirmDialog, confirm_then


class AgentKeyDialog(ModalScreen[None]):
    BINDINGS = [
        Binding("c", "copy", "Copy key", id="agent_key.copy"),
        Binding("escape,enter", "close", "Close", id="agent_key.close"),
    ]

    DEFAULT_CSS = """
    AgentKeyDialog { align: center middle; }
    AgentKeyDialog > Vertical {
        width: 84; height: auto; padding: 1 2;
        border: thick $accent; background: $surface;
    }
    AgentKeyDialog .title { text-style: bold; margin-bottom: 1; }
    AgentKeyDialog #key { padding: 1 2; background: $panel; text-style: bold; }
    AgentKeyDialog .hint { color: $text-muted; margin-top: 1; }
    """

    def __init__(self, environment: str, agent_key: str) -> None:
        super().__init__()
        self.environment = environment
        self.agent_key = agent_key

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Agent key of {self.environment}", classes="title")
            yield Static("This key is shown once. Store it now: HQ keeps only its hash.")
            yield Static(self.agent_key, id="key")
            yield Static("[b]c[/b]: copy to clipboard (works over SSH)    [b]enter[/b] / [b]esc[/b]: close",
                         classes="hint")

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.agent_key)
        self.notify("Agent key copied", timeout=2)

    def action_close(self) -> None:
        self.dismiss(None)


def renew_agent_key(app: App, environment: str) -> None:
    """Asks, renews, then shows the new key once. The old key stops working at once."""
    confirm_then(
        app,
        ConfirmDialog(
            f"Renew the agent key of {environment}?",
            "A new key is issued and the current one stops working at once: the environment's agent "
            "must be restarted with the new key.",
        ),
        lambda: app.client.renew_agent_key(environment),
        failed="Renewing the agent key failed",
        done=lambda renewed: app.push_screen(AgentKeyDialog(environment, renewed.agent_key)),
    )
