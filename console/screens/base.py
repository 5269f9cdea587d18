"""ResourceScreen: the frame shared by every screen built around one ResourceTable.

`/` filters the table as you type (enter keeps the filter, escape clears it), escape on the
table clears an active filter too (k9s's habit; with none, escape is the screen's: back), `y`
copies the selected row's name (OSC 52, so it works over SSH), a TableTitle over the table
counts its rows, and actions listed in `MUTATING` are hidden and refused in read-only mode."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from console.widgets.resource_table import ResourceTable
from console.widgets.table_title import TableTitle


class FilterBar(Input):
    BINDINGS = [Binding("escape", "clear", "Clear filter", id="filter.clear")]

    DEFAULT_CSS = """
    FilterBar {
        /* In the flow under the table, not docked: docked at the bottom it sat under the Footer */
        display: none;
        border: none;
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    FilterBar.-active {
        display: block;
    }
    """

    def __init__(self) -> None:
        # compact: a bordered Input in a 1-line bar has no line left for the text typed
        super().__init__(placeholder="filter: type to narrow the table, enter to keep, esc to clear", compact=True)

    def action_clear(self) -> None:
        self.value = ""
        self.remove_class("-active")
        self.screen.query_one(ResourceTable).focus()


class ResourceScreen(Screen):
    MUTATING: ClassVar[frozenset[str]] = frozenset()

    BINDINGS = [
        # Priority: a binding found as the key bubbles back up runs only after the keys typed behind
        # it were handed to the table, so a fast `/ord` (or tmux send-keys) fired `o` and `d`.
        Binding("/", "filter", "Filter", id="table.filter", priority=True),
        Binding("y", "copy_name", "Copy name", show=False, id="table.copy"),
    ]

    _table: ResourceTable | None = None

    @property
    def table(self) -> ResourceTable:
        if self._table is None:  # read on every live event: found once, it never changes
            self._table = self.query_one(ResourceTable)
        return self._table

    def compose_filter(self) -> ComposeResult:
        yield FilterBar()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in self.MUTATING and self.app.read_only)

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        if self.focused is bar:  # a priority key reaches the bar as an action: there it is text
            bar.insert_text_at_cursor("/")
            return
        bar.add_class("-active")
        # Now, not on the next turn as Widget.focus() does: the keys queued behind `/` must find
        # the bar focused.
        self.set_focus(bar)

    def on_resource_table_counted(self, counted: ResourceTable.Counted) -> None:
        for title in self.query(TableTitle):
            if title.table_id == counted.table.id:
                title.count(counted)

    def on_resource_table_filter_cleared(self, _: ResourceTable.FilterCleared) -> None:
        bar = self.query_one(FilterBar)
        bar.value = ""
        bar.remove_class("-active")

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, FilterBar):
            self.table.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if isinstance(event.input, FilterBar):
            if not event.value:
                event.input.remove_class("-active")
            self.table.focus()

    def action_copy_name(self) -> None:
        key = self.table.selected_key
        if key:
            self.app.copy_to_clipboard(key)
            self.notify(f"Copied {key!r}", timeout=2)
