"""How figures read on screen: rates, sizes, missing values."""

from __future__ import annotations

from rich.text import Text

MISSING = "—"
_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def human_bytes(value: float | None, suffix: str = "") -> str:
    if value is None:
        return MISSING
    for unit in _UNITS:
        if abs(value) < 1000 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}{suffix}" if unit == "B" else f"{value:.1f} {unit}{suffix}"
        value /= 1000
    raise AssertionError("unreachable")


def human_rate(value: float | None) -> str:
    return human_bytes(value, "/s")


def count(value: int | None) -> str:
    return MISSING if value is None else f"{value:,}"


def plural(value: int | None, noun: str) -> str:
    return f"{count(value)} {noun}{'' if value == 1 else 's'}"


TIER_STYLES = {"production": "bold red", "staging": "yellow", "development": "green"}


def tier(value: str) -> Text:
    return Text(value, style=TIER_STYLES.get(value, ""))


def middle_ellipsis(text: str, width: int) -> str:
    """`text` in `width` cells, cut in the middle: names of one family share their start and
    differ at the end (`orders-eu-1`, `orders-eu-2`), so both ends are what tells rows apart."""
    if len(text) <= width or width < 5:
        return text[:width] if width >= 0 else text
    tail = (width - 1) // 2
    return f"{text[:width - 1 - tail]}…{text[-tail:]}"

