"""Detail screens by resource kind. A list screen opens its selected item's detail through
here, so list modules and detail modules never import each other (an import contract keeps
it so); console.app imports the detail modules, which register themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from textual.app import App
from textual.screen import Screen

from console.client.events import Kind

ScreenType = TypeVar("ScreenType", bound=type[Screen])

_DETAILS: dict[Kind, Callable[..., Screen]] = {}


def detail_of(kind: Kind) -> Callable[[ScreenType], ScreenType]:
    """Class decorator: the screen that shows one resource of `kind`."""

    def register(screen: ScreenType) -> ScreenType:
        if _DETAILS.setdefault(kind, screen) is not screen:
            raise ValueError(f"two detail screens for {kind}: {_DETAILS[kind].__name__} and {screen.__name__}")
        return screen

    return register


def open_detail(app: App, kind: Kind, *arguments: Any) -> None:
    """Pushes the detail screen of `kind`, made with `arguments` (its constructor's)."""
    app.push_screen(_DETAILS[kind](*arguments))
