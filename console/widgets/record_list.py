"""RecordList: the tail's table of records, drawn line by line from the rows it is given (Textual's
line API) instead of being a DataTable: a DataTable measures and stores every row it holds, so
5,000 rows turning over at 1,000 a second would spend the screen's time on rows nobody sees.
Here a redraw costs the rows on screen, whatever the number held; a row's line is drawn once
(and kept while it is on screen), its value's JSON highlighted.

It follows the newest row (the last) until the cursor is moved up; `end` follows again."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from console.tail_ring import TailRow

# (title, width); the value takes what is left
COLUMNS = (("P", 3), ("OFFSET", 10), ("TIME", 12), ("KEY", 24), ("HEADERS", 12))
VALUE_TITLE = "VALUE"
LINES_KEPT = 400  # drawn lines kept: a few screens' worth


def header_line() -> str:
    return " ".join(title.ljust(width) for title, width in COLUMNS) + " " + VALUE_TITLE


class RecordList(ScrollView, can_focus=True):
    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "follow", "Follow", id="tail.follow"),
        Binding("enter", "choose", "Open record", id="tail.open"),
    ]
    COMPONENT_CLASSES = {"record-list--cursor", "record-list--dim", "record-list--key"}
    DEFAULT_CSS = """
    RecordList { height: 1fr; }
    RecordList > .record-list--cursor { background: $accent 40%; }
    RecordList > .record-list--dim { color: $text-muted; }
    RecordList > .record-list--key { color: $text-accent; }
    """

    class Chosen(Message):
        def __init__(self, row: TailRow) -> None:
            super().__init__()
            self.row = row

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: Sequence[TailRow] = ()
        self.cursor = -1  # an index into rows
        self.following = True
        self._lines: OrderedDict[tuple[int, int], Strip] = OrderedDict()
        self._styles_theme: str | None = None
        self._style_cache: dict[str, Style] = {}

    # what the screen calls

    def show(self, rows: Sequence[TailRow], dropped: int = 0) -> None:
        """Shows `rows`; `dropped` rows went from the front since the last call (the cursor
        stays on its record while it is still there)."""
        self.rows = rows
        if self.following:
            self.cursor = len(rows) - 1
        else:
            self.cursor = min(max(self.cursor - dropped, 0), len(rows) - 1)
        self.virtual_size = Size(self.size.width, len(rows))
        self._keep_cursor_in_view()
        self.refresh()

    @property
    def selected(self) -> TailRow | None:
        return self.rows[self.cursor] if 0 <= self.cursor < len(self.rows) else None

    # keys

    def action_cursor(self, step: int) -> None:
        self._move(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._move(self.cursor + step * max(1, self.size.height - 1))

    def action_first(self) -> None:
        self._move(0)

    def action_follow(self) -> None:
        self.following = True
        self.show(self.rows)

    def action_choose(self) -> None:
        if (row := self.selected) is not None:
            self.post_message(self.Chosen(row))

    def _move(self, index: int) -> None:
        if not self.rows:
            return
        self.cursor = min(max(index, 0), len(self.rows) - 1)
        self.following = self.cursor == len(self.rows) - 1
        self._keep_cursor_in_view()
        self.refresh()

    def _keep_cursor_in_view(self) -> None:
        height = max(1, self.size.height)
        top = self.scroll_offset.y
        if self.following:
            top = max(0, len(self.rows) - height)
        elif self.cursor < top:
            top = self.cursor
        elif self.cursor >= top + height:
            top = self.cursor - height + 1
        if top != self.scroll_offset.y:
            self.scroll_to(y=top, animate=False, immediate=True)

    # drawing

    def on_resize(self) -> None:
        self._lines.clear()
        self.virtual_size = Size(self.size.width, len(self.rows))
        self._keep_cursor_in_view()

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.size.width
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        strip = self._line(row, width)
        if index == self.cursor and self.has_focus:
            strip = strip.apply_style(self.get_component_rich_style("record-list--cursor"))
        elif index == self.cursor:
            strip = strip.apply_style(Style(reverse=True, dim=True))
        return strip

    def _line(self, row: TailRow, width: int) -> Strip:
        found = self._lines.get((row.seq, width))
        if found is not None:
            self._lines.move_to_end((row.seq, width))
            return found
        styles = self._styles()
        cells = (str(row.event.partition), str(row.event.offset), row.time, row.key, row.headers)
        segments = [Segment(_fit(cell, column) + " ", styles["record_key" if title == "KEY" else "dim"])
                    for (title, column), cell in zip(COLUMNS, cells, strict=True)]
        if row.event.valueEncoding == "json":
            segments.extend(_json_segments(row.value, styles))
        else:
            segments.append(Segment(row.value, styles["text"]))
        strip = Strip(segments).crop_extend(0, width, styles["base"])
        self._lines[(row.seq, width)] = strip
        if len(self._lines) > LINES_KEPT:
            self._lines.popitem(last=False)
        return strip

    def _styles(self) -> dict[str, Style]:
        """The line's styles, looked up once per theme (a lookup walks the CSS)."""
        if self._styles_theme != self.app.theme:
            console = self.app.console
            base = self.rich_style
            self._style_cache = {
                "base": base, "text": base,
                "dim": base + self.get_component_rich_style("record-list--dim"),
                "record_key": base + self.get_component_rich_style("record-list--key"),
                **{name: base + console.get_style(f"json.{name}", default="") for name in _JSON_STYLES},
            }
            self._styles_theme = self.app.theme
            self._lines.clear()
        return self._style_cache


# A value's one-line JSON, token by token: strings (keys apart), numbers, true/false/null.
_JSON_TOKEN = re.compile(r'("(?:[^"\\]|\\.)*")(?=\s*:)|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
                         r"|(true|false|null)")
_JSON_STYLES = ("key", "str", "number", "bool_true", "bool_false", "null")


def _json_segments(text: str, styles: dict[str, Style]) -> list[Segment]:
    segments, position = [], 0
    for match in _JSON_TOKEN.finditer(text):
        if match.start() > position:
            segments.append(Segment(text[position:match.start()], styles["text"]))
        key, string, number, word = match.groups()
        kind = "key" if key else "str" if string else "number" if number else \
            {"true": "bool_true", "false": "bool_false"}.get(word or "", "null")
        segments.append(Segment(match.group(), styles[kind]))
        position = match.end()
    if position < len(text):
        segments.append(Segment(text[position:], styles["text"]))
    return segments


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"

