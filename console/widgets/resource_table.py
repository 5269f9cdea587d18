"""ResourceTable: a DataTable of keyed rows that stays put while rows change underneath.

Rows are raw values; each Column renders them, always to rich Text (a plain string would be
parsed as markup, and a display name like "a [/] b" would crash the console). Filtering
matches the rendered text, sorting uses the raw values. Live changes are coalesced: a burst
of events is applied in one pass a moment later, so the table redraws once, not per event.
A pass that keeps the visible rows and their order only rewrites the changed rows' cells, so
cursor, scroll, sort and filter survive; a pass that only reorders them re-points the row
order; anything else rebuilds the rows and puts the cursor back on the same key. After a pass
that changed how many rows are shown, of how many, or under which filter, the table posts
`Counted` (for the title over it); `escape` clears an active filter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

# Live changes wait this long for company before the table is updated and redrawn.
COALESCE_SECONDS = 0.02


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    render: Callable[[Any], str | Text] = lambda value: "" if value is None else str(value)
    width: int | None = None

    def cell(self, value: Any) -> Text:
        rendered = self.render(value)
        return rendered if isinstance(rendered, Text) else Text(rendered)


def _sort_key(value: Any) -> tuple[int, Any]:
    # None sorts last; numbers and strings never compare with each other within a column.
    if value is None:
        return (2, 0)
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value).lower())


class ResourceTable(DataTable):
    BINDINGS = [
        Binding("s", "cycle_sort", "Sort", show=False, id="table.sort"),
        Binding("S", "reverse_sort", "Reverse", show=False, id="table.reverse"),
        # Only while a filter is active (check_action): otherwise escape is the screen's (back).
        Binding("escape", "clear_filter", "Clear filter", id="table.clear_filter"),
    ]

    class Counted(Message):
        """The table now shows `shown` of its `total` rows, under `filter_text` ("": none)."""

        def __init__(self, table: ResourceTable, shown: int, total: int, filter_text: str) -> None:
            super().__init__()
            self.table = table
            self.shown = shown
            self.total = total
            self.filter_text = filter_text

        @property
        def control(self) -> ResourceTable:
            return self.table

    class FilterCleared(Message):
        """escape cleared the filter (the screen's filter bar follows)."""

    DEFAULT_CSS = """
    ResourceTable {
        height: 1fr;
        border: none;
    }
    ResourceTable > .datatable--header {
        text-style: bold;
        color: $text-accent;
    }
    """

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.spec = list(columns)
        self._values: dict[str, tuple[Any, ...]] = {}
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._shown: list[str] = []
        self._dirty: set[str] = set()
        self._sync_pending = False
        self._counted: tuple[int, int, str] | None = None
        self.filter_text = ""
        self.sort_column: int | None = None
        self.sort_reverse = False

    def on_mount(self) -> None:
        for column in self.spec:
            self.add_column(column.label, key=column.key, width=column.width)

    # data

    @property
    def settled(self) -> bool:
        """No coalesced pass is waiting to be applied (tests wait on it before a snapshot)."""
        return not self._sync_pending

    @property
    def selected_key(self) -> str | None:
        if not self._shown or self.cursor_row < 0 or self.cursor_row >= len(self._shown):
            return None
        return self._shown[self.cursor_row]

    @property
    def visible_keys(self) -> list[str]:
        return list(self._shown)

    def replace_all(self, rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
        self._values = {key: tuple(values) for key, values in rows}
        self._cells = {key: self._render(values) for key, values in self._values.items()}
        self._dirty = set(self._values)
        self._sync()

    def upsert(self, key: str, values: Sequence[Any]) -> None:
        values = tuple(values)
        if self._values.get(key) == values:
            return
        self._values[key] = values
        self._cells[key] = self._render(values)
        self._dirty.add(key)
        self._sync_soon()

    def remove(self, key: str) -> None:
        if self._values.pop(key, None) is not None:
            del self._cells[key]
            self._sync_soon()

    def _sync_soon(self) -> None:
        if not self._sync_pending:
            self._sync_pending = True
            self.set_timer(COALESCE_SECONDS, self._sync)

    def set_filter(self, text: str) -> None:
        was_filtered = bool(self.filter_text)
        self.filter_text = text.strip().lower()
        if was_filtered != bool(self.filter_text):
            self.refresh_bindings()  # escape switches between clearing the filter and the screen's
        self._sync()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return bool(self.filter_text)
        return super().check_action(action, parameters)

    def action_clear_filter(self) -> None:
        self.set_filter("")
        self.post_message(self.FilterCleared())

    def action_cycle_sort(self) -> None:
        self.sort_column = 0 if self.sort_column is None else (self.sort_column + 1) % len(self.spec)
        self.sort_reverse = False
        self._sync()
        self.notify(f"Sorted by {self.spec[self.sort_column].label}", timeout=1.5)

    def action_reverse_sort(self) -> None:
        self.sort_column = self.sort_column or 0
        self.sort_reverse = not self.sort_reverse
        self._sync()

    # rendering

    def _render(self, values: tuple[Any, ...]) -> tuple[Text, ...]:
        return tuple(column.cell(value) for column, value in zip(self.spec, values, strict=True))

    def _matches(self, key: str) -> bool:
        if not self.filter_text:
            return True
        return any(self.filter_text in cell.plain.lower() for cell in self._cells[key])

    def _ordered(self) -> list[str]:
        keys = [key for key in self._values if self._matches(key)]
        if self.sort_column is None:
            return sorted(keys)
        column = self.sort_column
        return sorted(keys, key=lambda k: (_sort_key(self._values[k][column]), k), reverse=self.sort_reverse)

    def _write_cells(self, keys: set[str]) -> set[RowKey]:
        """Writes the rows' changed cells into the table's data; returns the rows written
        that way (a cell that outgrew its column went through update_cell instead)."""
        widths = {column.key.value: column.content_width for column in self.columns.values()}
        touched: set[RowKey] = set()
        for key in keys:
            for column, cell in zip(self.spec, self._cells[key], strict=True):
                if self.get_cell(key, column.key) == cell:
                    continue
                if cell.cell_len > widths.get(column.key, 0):
                    self.update_cell(key, column.key, cell, update_width=True)
                else:
                    self._data[RowKey(key)][ColumnKey(column.key)] = cell
                    touched.add(RowKey(key))
        return touched

    def _update_in_place(self, keys: set[str]) -> None:
        """Writes the changed cells of rows that stay where they are.

        DataTable.update_cell bumps a counter that is part of every render cache key, so one
        changed cell re-renders every visible cell (~70 ms for a screenful). Here the cells are
        written into the table's data and only the renders cached for those rows are dropped.
        This leans on DataTable internals (`_data` and four caches keyed by row or row index),
        which is why Textual is pinned below 9; a cell that outgrows its column takes the
        public path, which re-measures the column."""
        touched = self._write_cells(keys)
        if not touched:
            return
        indexes = {self._row_locations.get(row_key) for row_key in touched}
        # LRUCache has keys() but no __iter__.
        for cache in (self._cell_render_cache, self._row_render_cache):
            for cache_key in [k for k in cache.keys() if k[0] in touched]:  # noqa: SIM118
                cache.discard(cache_key)
        for cache_key in [k for k in self._row_renderable_cache.keys() if k[1] in indexes]:  # noqa: SIM118
            self._row_renderable_cache.discard(cache_key)
        self._line_cache.clear()  # lines are rebuilt from the row renders, which stay cached
        for index in indexes:
            self.refresh_row(index)

    def _sync(self) -> None:
        self._sync_pending = False
        if not self.columns:  # not mounted yet: on_mount adds columns, then the first sync paints
            self.call_after_refresh(self._sync)
            return
        wanted = self._ordered()
        dirty, self._dirty = self._dirty, set()
        if wanted == self._shown:
            self._update_in_place(dirty & set(wanted))
        else:
            self._show(wanted, dirty)
        counts = (len(wanted), len(self._values), self.filter_text)
        if counts != self._counted:
            self._counted = counts
            self.post_message(self.Counted(self, *counts))

    def _show(self, wanted: list[str], dirty: set[str]) -> None:
        """Shows `wanted` (other rows, or the same in another order), the cursor on its row."""
        selected = self.selected_key
        if set(wanted) == set(self._shown):
            # Same rows in a new order (a live change moved a row under a sort): write the
            # changed cells and re-point the row order, as DataTable.sort does, instead of
            # re-adding and re-measuring every row. The new order re-renders every row anyway.
            self._write_cells(dirty & set(wanted))
            self._row_locations = TwoWayDict({RowKey(key): index for index, key in enumerate(wanted)})
            self._update_count += 1
            self.refresh()
        else:
            self.clear()
            for key in wanted:
                self.add_row(*self._cells[key], key=key)
        self._shown = wanted
        if selected in wanted:
            self.move_cursor(row=wanted.index(selected), animate=False)
