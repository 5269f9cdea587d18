"""HelpScreen (`?`): every key of the screen below it, with its binding id for the keymap."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 90; height: 80%; padding: 1 2;
        border: thick $primary; background: $surface;
    }
    HelpScreen .title { text-style: bold; }
    HelpScreen .hint { color: $text-muted; margin-bottom: 1; }
    HelpScreen DataTable { height: 1fr; }
    """

    def __init__(self, screen_name: str, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.screen_name = screen_name
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Keys · {self.screen_name}", classes="title")
            yield Static("Rebind any key in config.yaml under keymap:, by its id (e.g. environments.delete: ctrl+d).",
                         classes="hint")
            yield DataTable(cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("KEY", "ACTION", "ID")
        table.add_rows(self.rows)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)


def binding_rows(app, screen) -> list[tuple[str, str, str]]:
    """(key, description, id) for each binding active on `screen`, as the user has them mapped."""
    rows: dict[tuple[str, str], tuple[str, str, str]] = {}
    for active in screen.active_bindings.values():
        binding: Binding = active.binding
        if not active.enabled or not binding.description:
            continue
        key = app.get_key_display(binding)
        rows.setdefault((binding.id or binding.action, key), (key, binding.description, binding.id or ""))
    def group(row: tuple[str, str, str]) -> int:
        prefix = row[2].split(".")[0]
        return 3 if not prefix else {"table": 1, "filter": 1, "app": 2}.get(prefix, 0)

    return sorted(rows.values(), key=lambda r: (group(r), r[2], r[0]))
