"""TableTitle: the line over a table that says what it lists, k9s-style: the resource, its
scope, how many rows, and the active filter, e.g. `Environments [12]`, `K2K apps [1/3] /orders`.

Filtered, the count reads shown/all, so a filter that hides rows never passes for an empty
fleet. It changes only when its table posts ResourceTable.Counted (a pass that changed the
figures), never on a live event that only rewrote cells."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from console.widgets.resource_table import ResourceTable

RULE = "─"


class TableTitle(Widget):
    DEFAULT_CSS = """
    TableTitle {
        height: 1;
        color: $text-accent;
    }
    """

    def __init__(self, noun: str, *, table: str, scope: str | None = None, ruled: bool = True,
                 id: str | None = None, classes: str | None = None) -> None:
        """`table`: the id of the ResourceTable it counts; `ruled`: drawn as a rule across the
        screen (a list screen's title) rather than as a plain line (a section of a detail)."""
        super().__init__(id=id, classes=classes)
        self.noun = noun
        self.table_id = table
        self.scope = scope
        self.ruled = ruled
        self.shown: int | None = None
        self.total: int | None = None
        self.filter_text = ""

    def count(self, counted: ResourceTable.Counted) -> None:
        self.shown, self.total, self.filter_text = counted.shown, counted.total, counted.filter_text
        self.refresh()

    @property
    def text(self) -> str:
        """The title as it reads, without the rule."""
        return self.label().plain

    def label(self) -> Text:
        label = Text(self.noun, style="bold")
        if self.scope:
            label.append(f"({self.scope})")
        if self.total is not None:
            figure = f"{self.shown}/{self.total}" if self.filter_text else str(self.total)
            label.append(f" [{figure}]", style="bold")
        if self.filter_text:
            label.append(f" /{self.filter_text}", style="italic")
        return label

    def render(self) -> RenderResult:
        label = self.label()
        if not self.ruled:
            return label
        free = max(self.size.width - label.cell_len - 2, 0)
        dim = Style(dim=True)
        return Text.assemble((RULE * (free // 2), dim), " ", label, " ", (RULE * (free - free // 2), dim))
