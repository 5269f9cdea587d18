"""Messages the app sends to its screens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class LiveChange(Message):
    """One event of a live feed (`environment.updated`, …), or `resync`: refetch everything."""

    event: str
    data: dict[str, Any]
