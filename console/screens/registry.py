"""Detail screens by resource kind, and the screens about one stream (its tail, its publish
editor) by name. A list screen opens its selected item's detail, or a stream's tail, through
here, so list modules and the screens they open never import each other (an import contract
keeps it so); console.app imports the modules, which register themselves."""

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


# The screens about one stream, each made with (environment, stream).
TAIL = "tail"
PUBLISH = "publish"
_STREAM_SCREENS: dict[str, Callable[[str, str], Screen]] = {}


def stream_screen(name: str) -> Callable[[ScreenType], ScreenType]:
    """Class decorator: the screen `name` (TAIL, PUBLISH) about one stream."""

    def register(screen: ScreenType) -> ScreenType:
        if _STREAM_SCREENS.setdefault(name, screen) is not screen:
            raise ValueError(f"two {name} screens: {_STREAM_SCREENS[name].__name__} and {screen.__name__}")
        return screen

    return register


def open_stream_screen(app: App, name: str, environment: str, stream: str) -> None:
    """Pushes the screen `name` (TAIL, PUBLISH) of `stream` in `environment`."""
    app.push_screen(_STREAM_SCREENS[name](environment, stream))
