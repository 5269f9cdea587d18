"""OffsetsGrid: the frame of every offsets editor (a K2K app's, a consumer group's, a
connector's). One row per partition; type an expression and press enter to set the selected rows (space selects, `a`
selects all; with nothing selected, the row under the cursor); an entry the expression does not
fit is marked and blocks the apply; ctrl+s shows the old → new diff and applies once it is
confirmed. What the rows are, what an expression means and how it is applied is each editor's."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import ClassVar, Protocol

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from console.screens.confirm import ConfirmDialog
from console.widgets.status_header import StatusHeader

DIFF_LINES_SHOWN = 12
STATE_WAIT_SECONDS = 60.0


async def wait_until(reached: Callable[[], Awaitable[bool]], what: str, seconds: float = STATE_WAIT_SECONDS) -> None:
    """Asks `reached` every half second until it says yes: offsets are set only once the app or
    connector has really stopped, which its owner does in its own time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if await reached():
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{what} within {seconds:.0f}s")


class GridEntry(Protocol):
    """One row: a partition's current position and what the user asked for."""

    expression: str
    error: str | None
    selected: bool

    @property
    def key(self) -> str: ...

    @property
    def changed(self) -> bool: ...


class OffsetsGrid(Screen):
    BINDINGS = [
        Binding("space", "toggle", "Select", id="offsets.select"),
        Binding("a", "select_all", "Select all", id="offsets.select_all"),
        Binding("slash", "expression", "Expression", show=False, id="offsets.expression"),
        Binding("ctrl+s", "apply", "Apply", id="offsets.apply"),
        Binding("escape", "leave", "Back", id="offsets.back"),
    ]

    DEFAULT_CSS = """
    OffsetsGrid #title { padding: 0 1; height: auto; }
    OffsetsGrid DataTable { height: 1fr; }
    OffsetsGrid Input { dock: bottom; margin-bottom: 1; border: tall $primary; }
    """

    MUTATING: ClassVar[frozenset[str]] = frozenset({"apply"})  # refused in read-only mode
    COLUMNS: ClassVar[tuple[str, ...]] = ()  # after the selection mark
    PLACEHOLDER: ClassVar[str] = ""
    NOUN: ClassVar[str] = "position"  # what the confirmation counts
    GRID_KEYS: ClassVar[str] = " a"  # keys of the grid that do not start an expression

    entries: dict[str, GridEntry]

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(id="title")
        yield DataTable(id="grid", cursor_type="row")
        yield Input(placeholder=self.PLACEHOLDER, id="expression",
                    select_on_focus=False)  # else the first key, typed on the grid, is overwritten
        yield Footer()

    def on_mount(self) -> None:
        grid = self.query_one("#grid", DataTable)
        grid.add_columns(" ", *self.COLUMNS)
        grid.focus()
        self.start()

    # what each editor says

    def start(self) -> None:
        """Shows the entries (or starts reading them)."""
        raise NotImplementedError

    def row(self, entry: GridEntry) -> tuple[object, ...]:
        """The cells of an entry, after the selection mark."""
        raise NotImplementedError

    async def assign(self, entries: list[GridEntry], expression: str) -> None:
        """Sets each entry's new value (or its error) from the expression typed."""
        raise NotImplementedError

    def diff(self) -> list[str]:
        raise NotImplementedError

    def apply_note(self) -> str:
        """What else applying does (pausing first, say), shown under the diff."""
        return ""

    async def apply(self) -> None:
        raise NotImplementedError

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MUTATING and self.app.read_only)

    # the grid

    def refresh_grid(self) -> None:
        grid = self.query_one("#grid", DataTable)
        cursor = grid.cursor_row
        grid.clear()
        for entry in self.entries.values():
            grid.add_row("✓" if entry.selected else " ", *self.row(entry), key=entry.key)
        if grid.row_count:
            grid.move_cursor(row=min(cursor, grid.row_count - 1))

    def current(self) -> GridEntry | None:
        grid = self.query_one("#grid", DataTable)
        if not grid.row_count:
            return None
        return self.entries.get(grid.coordinate_to_cell_key(grid.cursor_coordinate).row_key.value or "")

    # selecting

    def action_toggle(self) -> None:
        if entry := self.current():
            entry.selected = not entry.selected
            self.refresh_grid()
            self.query_one("#grid", DataTable).action_cursor_down()

    def action_select_all(self) -> None:
        everything = not all(e.selected for e in self.entries.values())
        for entry in self.entries.values():
            entry.selected = everything
        self.refresh_grid()

    def action_expression(self) -> None:
        self.query_one("#expression", Input).focus()

    def on_key(self, event) -> None:
        # Typing an expression needs no key first: a printable key on the grid starts it.
        # Keys typed (or pasted) quickly all arrive here before the focus moves: once an expression
        # is started, the grid's own keys are part of it too, and each key is appended.
        grid = self.query_one("#grid", DataTable)
        field = self.query_one("#expression", Input)
        started = bool(field.value)
        if grid.has_focus and event.character and event.is_printable and (
                started or event.character not in self.GRID_KEYS):
            field.focus()
            field.value += event.character
            field.cursor_position = len(field.value)
            event.stop()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        expression = event.value.strip()
        if not expression:
            return
        targets = [e for e in self.entries.values() if e.selected] or [e for e in [self.current()] if e]
        await self.assign(targets, expression)
        for entry in targets:
            entry.selected = False  # done with: the next expression starts a new selection
        event.input.value = ""
        self.refresh_grid()
        self.query_one("#grid", DataTable).focus()

    # applying

    def action_apply(self) -> None:
        invalid = [e for e in self.entries.values() if e.error]
        if invalid:
            self.notify(f"{len(invalid)} entr{'y is' if len(invalid) == 1 else 'ies are'} invalid: fix or "
                        "re-enter them first.", severity="error", timeout=5)
            return
        lines = self.diff()
        if not lines:
            self.notify(f"Nothing to apply: no {self.NOUN} changes.", timeout=3)
            return
        message = "\n".join(lines[:DIFF_LINES_SHOWN])
        if len(lines) > DIFF_LINES_SHOWN:
            message += f"\n… and {len(lines) - DIFF_LINES_SHOWN} more"
        if note := self.apply_note():
            message += f"\n\n{note}"

        async def answered(confirmed: bool | None) -> None:
            if confirmed:
                await self.apply()

        self.app.push_screen(ConfirmDialog(f"Set {len(lines)} {self.NOUN}{'s' if len(lines) > 1 else ''}?", message),
                             answered)

    def action_leave(self) -> None:
        if any(e.changed or e.error for e in self.entries.values()):
            def answered(discard: bool | None) -> None:
                if discard:
                    self.dismiss()

            self.app.push_screen(ConfirmDialog("Discard the edits?", "\n".join(self.diff()) or "Invalid entries."),
                                 answered)
            return
        self.dismiss()
