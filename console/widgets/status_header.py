"""The top line: which HQ this is, the live feed's state, read-only mode, and the
environment in focus, coloured by its tier (production stands out, like k9s's skins)."""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.color import Color
from textual.widget import Widget

FEED_MARKS = {
    "live": ("●", "live", "$success"),
    "connecting": ("◌", "connecting", "$warning"),
    "reconnecting": ("◌", "reconnecting", "$warning"),
    "offline": ("○", "offline", "$error"),
}


class StatusHeader(Widget):
    DEFAULT_CSS = """
    StatusHeader {
        dock: top;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    StatusHeader.-tier-staging {
        background: $warning-muted;
    }
    StatusHeader.-tier-production {
        background: $error;
        color: $text;
        text-style: bold;
    }
    """

    def on_mount(self) -> None:
        for attribute in ("feed_state", "feed_detail", "focus_environment", "focus_tier"):
            self.watch(self.app, attribute, self._app_changed, init=False)
        self._app_changed()

    def _app_changed(self, *_: object) -> None:
        tier = self.app.focus_tier
        for name in ("development", "staging", "production"):
            self.set_class(tier == name, f"-tier-{name}")
        self.refresh()

    def render(self) -> RenderResult:
        app = self.app
        mark, word, variable = FEED_MARKS.get(app.feed_state, FEED_MARKS["offline"])
        # On a tier's colour the bar's own text colour reads best; elsewhere the state's colour.
        colour = None if app.focus_tier in ("staging", "production") else app.theme_variables.get(variable.lstrip("$"))
        # Theme values may be ANSI names ("ansi_green") that only Textual's parser knows.
        style = Style(bold=True, color=Color.parse(colour).rich_color if colour else None)
        line = Text.assemble(
            (" streamhq ", "bold reverse"),
            "  HQ ",
            (app.client.server, "bold"),
            "  ",
            (f"{mark} {word}", style),
        )
        if app.feed_detail and app.feed_state != "live":
            line.append(f" ({app.feed_detail})", style="dim")
        if app.read_only:
            line.append("  [read-only]", style="bold")
        if app.focus_environment:
            line.append("  env ")
            line.append(app.focus_environment, style="bold")
            if app.focus_tier:
                line.append(f" · {app.focus_tier.upper() if app.focus_tier == 'production' else app.focus_tier}")
        return line
