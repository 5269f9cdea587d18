"""StreamHQApp: screens, app-wide keys, themes, keymap and the live feed.

Screens own their bindings; the app owns what is everywhere: `:` commands, `?` help,
`q` quit, `ctrl+p` palette, the theme (remembered), and the live feeds (console.feeds), whose
events each screen hears for the kinds it follows."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from console import heap
from console.client import FeedState, HQClient
from console.config import ConsoleConfig
from console.feeds import Feeds
from console.screens import (  # noqa: F401 (they register)
    connector_detail,
    environment_detail,
    group_detail,
    k2k_detail,
    publish_editor,
    tail,
    topic_detail,
)
from console.screens.command_line import Command, CommandLine
from console.screens.connectors import ConnectorsScreen
from console.screens.environments import EnvironmentsScreen
from console.screens.groups import GroupsScreen
from console.screens.help import HelpScreen, binding_rows
from console.screens.k2k import K2KAppsScreen
from console.screens.topics import TopicsScreen
from console.themes import BUILTIN_DIR, load_themes, user_theme_dir

DEFAULT_THEME = "streamhq-dark"
NOTICES_KEPT = 50


class StreamHQApp(App):
    TITLE = "streamhq"
    CSS = """
    Screen { background: $background; }
    Footer { background: $panel; }
    """

    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("colon", "command_line", "Command", id="app.command"),
    ]

    feed_state: reactive[str] = reactive(FeedState.connecting.value)
    feed_detail: reactive[str] = reactive("")
    focus_environment: reactive[str] = reactive("")
    focus_tier: reactive[str] = reactive("")

    def __init__(
        self, client: HQClient, config: ConsoleConfig, *, read_only: bool = False, settle_heap: bool = False,
        after_first_frame: Callable[[], object] | None = None,
    ) -> None:
        """`settle_heap`: freeze the start-up heap once the first screen is up (console.heap);
        for the process that runs the console, not for tests that run many apps in one.
        `after_first_frame`: called once the first frame is on the terminal (the embedded HQ
        starts then, so that its imports do not hold the first frame back)."""
        super().__init__()
        self.client = client
        self.config = config
        self.read_only = read_only
        self.settle_heap = settle_heap
        self.after_first_frame = after_first_frame
        self.feeds = Feeds(self, client, self._feed_changed)
        self.notices: deque[str] = deque(maxlen=NOTICES_KEPT)  # what the user was told, newest last

    def on_mount(self) -> None:
        themes, problems = load_themes(BUILTIN_DIR, user_theme_dir())
        for theme in themes:
            self.register_theme(theme)
        for problem in problems:
            self.notify(f"Theme file {problem.path} skipped: {problem.reason}", severity="warning", timeout=8)
        wanted = self.config.theme if self.config.theme in self.available_themes else DEFAULT_THEME
        self.theme = wanted
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.set_keymap(self.config.keymap)
        self.push_screen(EnvironmentsScreen())
        if self.settle_heap:
            self.set_timer(heap.SETTLE_AFTER_SECONDS, heap.settle)

    def on_ready(self) -> None:  # Textual's Ready: the first frame has been displayed
        if self.after_first_frame:
            self.after_first_frame()

    async def on_unmount(self) -> None:
        await self.client.aclose()

    def notify(self, message: str, **options: Any) -> None:
        self.notices.append(message)
        super().notify(message, **options)

    # live feeds

    def _feed_changed(self, state: FeedState, detail: str) -> None:
        self.feed_state = state.value
        self.feed_detail = detail

    # themes

    def _remember_theme(self, theme: Any) -> None:
        if self.config.theme != theme.name:
            self.config.theme = theme.name
            self.config.save()

    # app-wide actions

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        self.push_screen(HelpScreen(screen.title or screen.name or "streamhq", binding_rows(self, screen)))

    def action_command_line(self) -> None:
        if not isinstance(self.screen, CommandLine):
            self.push_screen(CommandLine(self.commands()))

    def commands(self) -> list[Command]:
        return [
            Command(("env", "envs", "environments", "home"), "Environments", self._go_home),
            Command(("k2k", "apps", "replication", "repl"), "K2K replication apps", self._after_close(self.show_k2k)),
            Command(("conn", "connectors", "connect"), "Kafka Connect connectors: :conn [ENVIRONMENT]",
                    self._connectors_command),
            Command(("topics", "streams"), "Topics of the environment in focus: :topics [ENVIRONMENT]",
                    self._topics_command),
            Command(("groups", "consumers", "cg"), "Consumer groups of the environment in focus: :groups [ENVIRONMENT]",
                    self._groups_command),
            Command(("theme", "themes"), "Switch theme: :theme NAME", self._switch_theme),
            Command(("help", "h"), "Keys of this screen", self._after_close(self.action_help)),
            Command(("quit", "q", "q!"), "Quit", lambda _: self.exit()),
        ]

    def _after_close(self, action: Callable[[], object]) -> Callable[[str], None]:
        """A command that runs once the command line has closed (it changes the screen stack)."""

        def run(_: str) -> None:
            self.call_later(action)

        return run

    def _go_home(self, _: str) -> None:
        while len(self.screen_stack) > 2:  # [default, environments, ...]
            self.pop_screen()

    def show_k2k(self, _: str = "") -> None:
        self._go_home("")
        self.push_screen(K2KAppsScreen())

    def show_connectors(self, environment: str = "") -> None:
        """The connectors of `environment`, else of the environment in focus (of every one when
        none is)."""
        self._go_home("")
        self.push_screen(ConnectorsScreen(environment or self.focus_environment or None))

    def _connectors_command(self, environment: str) -> None:
        self.call_later(self.show_connectors, environment)

    def _show_of_environment(self, environment: str, screen: Callable[[str], Screen], command: str) -> None:
        """`screen` of `environment`, else of the environment in focus."""
        environment = environment or self.focus_environment
        if not environment:
            self.notify(f"No environment in focus: pick one on the home screen, or name it (:{command} NAME).",
                        severity="warning", timeout=3)
            return
        self._go_home("")
        self.push_screen(screen(environment))

    def show_topics(self, environment: str = "") -> None:
        self._show_of_environment(environment, TopicsScreen, "topics")

    def _topics_command(self, environment: str) -> None:
        self.call_later(self.show_topics, environment)

    def show_groups(self, environment: str = "") -> None:
        self._show_of_environment(environment, GroupsScreen, "groups")

    def _groups_command(self, environment: str) -> None:
        self.call_later(self.show_groups, environment)

    def _switch_theme(self, name: str) -> str | None:
        names = sorted(self.available_themes)
        if not name:
            return "Themes: " + ", ".join(names)
        if name not in self.available_themes:
            return f"No theme {name!r}. Themes: {', '.join(names)}"
        self.theme = name
        return None

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Environments", "Go to the environments screen", lambda: self._go_home(""))
        yield SystemCommand("K2K apps", "Replication apps, live", self.show_k2k)
        yield SystemCommand("Connectors", "Kafka Connect connectors of the environment in focus", self.show_connectors)
        yield SystemCommand("Topics", "Topics of the environment in focus", self.show_topics)
        yield SystemCommand("Consumer groups", "Consumer groups of the environment in focus, with their lag",
                            self.show_groups)
        yield SystemCommand("Keys", "Every key of this screen", self.action_help)
        yield from super().get_system_commands(screen)
