"""The floor of the console's first paint: the least a Textual app must do to show the same rows.

One DataTable of the environments in the JSON file given (the HQ's own list answer, saved by
bench/console.py), the same ten columns, a header titled "streamhq" and a footer with "q Quit",
so that bench/console.py spots its first frame and its first screen of rows exactly as it spots
the console's. No HQ, no HTTP, no console package: only Python, Textual and the rows.

    .venv/bin/python bench/first_paint_floor.py ENVIRONMENTS.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import DataTable, Footer, Header

MISSING = "—"  # what the console shows for a figure no agent reported (console.format.MISSING)
COLUMNS = ("NAME", "DISPLAY NAME", "TIER", "AGENT", "KAFKA", "BROKERS", "TOPICS", "IN", "OUT", "CONNECTORS")


class FloorApp(App):
    TITLE = "streamhq"
    BINDINGS = [("q", "quit", "Quit")]

    def __init__(self, environments: Path) -> None:
        super().__init__()
        self.environments = environments

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        items = json.loads(self.environments.read_bytes())["items"]
        table.add_rows([(e["name"], e["display_name"], e["tier"], "○ no agent", *[MISSING] * 6) for e in items])
        table.focus()


if __name__ == "__main__":
    FloorApp(Path(sys.argv[1])).run()
