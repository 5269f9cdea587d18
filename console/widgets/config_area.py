"""ConfigArea: a code editor that writes each error after the line it is about (as an IDE's
inline diagnostics do, so the message sits where the fix is typed) and draws the values of
secret keys as dots (so a password typed or pasted is not on the screen for whoever looks on).

Both are drawn over TextArea's own lines, which stay the document: the cursor, selection and
copy work on the real text."""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import TextArea

from console.connector_text import Span, secret_spans

MASK_CHAR = "•"


class ConfigArea(TextArea):
    COMPONENT_CLASSES = TextArea.COMPONENT_CLASSES | {"config-area--mark"}
    DEFAULT_CSS = """
    ConfigArea > .config-area--mark { color: $error; text-style: italic; }
    """

    def __init__(self, text: str = "", **options) -> None:
        super().__init__(text, language="yaml", soft_wrap=False, show_line_numbers=True, tab_behavior="indent",
                         **options)
        self.marks: dict[int, str] = {}  # 0-based line -> message
        self.secrets: frozenset[str] = frozenset()
        self._masked: dict[int, list[Span]] = {}

    def show_marks(self, marks: dict[int, str]) -> None:
        self.marks = marks
        self.refresh()

    def mask(self, secrets: frozenset[str]) -> None:
        self.secrets = secrets
        self._find_secrets()

    def masked_lines(self) -> list[int]:
        """The lines holding a masked value (what a test or a screen reader can ask)."""
        return sorted(self._masked)

    def on_text_area_changed(self) -> None:
        self._find_secrets()

    def _find_secrets(self) -> None:
        spans: dict[int, list[Span]] = {}
        for span in secret_spans(self.text, self.secrets) if self.secrets else []:
            spans.setdefault(span.line, []).append(span)
        self._masked = spans
        self.refresh()

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        scroll_x, scroll_y = self.scroll_offset
        line = scroll_y + y
        if line >= self.document.line_count:
            return strip
        offset = self.gutter_width - scroll_x  # soft_wrap is off: one screen row per line
        for span in self._masked.get(line, ()):
            strip = _dotted(strip, max(offset + span.start, self.gutter_width), offset + span.end)
        if message := self.marks.get(line):
            width = strip.cell_length
            start = max(offset + cell_len(self.document.get_line(line)) + 2, self.gutter_width)
            if start < width:
                note = Strip([Segment(f"◀ {message}", self.get_component_rich_style("config-area--mark"))])
                end = min(start + note.cell_length, width)
                strip = Strip.join([strip.crop(0, start), note.crop(0, end - start), strip.crop(end, width)])
        return strip


def _dotted(strip: Strip, start: int, end: int) -> Strip:
    if end <= start:
        return strip
    middle = Strip([Segment(MASK_CHAR * cell_len(s.text), s.style) for s in strip.crop(start, end)])
    return Strip.join([strip.crop(0, start), middle, strip.crop(end, strip.cell_length)])
