"""The console's live feeds: each SSE feed starts once, when a screen first asks for one of its
kinds, and every typed event goes to the screens on the stack that follow its kind.

A screen says what it follows with a `FEED_KINDS` class attribute and asks for the feeds with
`app.feeds.follow(kinds)`. Nothing else hears an event: a screen that shows environments never
handles a K2K app's metrics, and no screen has to start a feed for another one. A kind whose
feed is per environment (connectors) is followed for the environments a screen names:
`follow(kinds, position, environment=...)`, once for each. The header shows the state of
HQ's own feeds; an environment's feed, which is down whenever its agent is, tells its state
to the screens that follow it instead (`EnvironmentFeedState`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from textual.app import App
from textual.screen import Screen

from console.client import FeedState, HQClient, LiveFeed
from console.client.events import FeedEvent, Kind, Resync, feed_path, kinds_of, per_environment
from console.messages import EnvironmentFeedState, LiveChange, Refetch

NOTHING: frozenset[Kind] = frozenset()


def followed_by(screen: Screen) -> frozenset[Kind]:
    return getattr(screen, "FEED_KINDS", NOTHING)


class Feeds:
    def __init__(self, app: App, client: HQClient, on_state: Callable[[FeedState, str], None]) -> None:
        self._app = app
        self._client = client
        self._on_state = on_state
        self._running: dict[str, LiveFeed] = {}

    @property
    def following(self) -> frozenset[str]:
        """The paths of the feeds running."""
        return frozenset(self._running)

    def follow(self, kinds: Iterable[Kind], last_event_id: int | None = None, *,
               environment: str | None = None) -> None:
        """Starts the feeds that carry `kinds`, those not running yet, resuming from
        `last_event_id`: the position of the list the caller just read. With an `environment`,
        the feeds of that environment among them (a position belongs to one feed); without one,
        the feeds that are not per environment."""
        kinds = [kind for kind in kinds if per_environment(kind) == bool(environment)]
        for path in sorted({feed_path(kind, environment) for kind in kinds}):
            if path in self._running:
                continue
            on_state = partial(self._environment_feed_changed, environment, path) if environment else self._on_state
            feed = LiveFeed(self._client, path, self._deliver, on_state)
            feed.last_event_id = last_event_id
            self._running[path] = feed
            self._app.run_worker(feed.run(), group="feeds", name=f"feed {path}")

    def _environment_feed_changed(self, environment: str, path: str, state: FeedState, detail: str) -> None:
        kinds = kinds_of(path)
        for screen in self._app.screen_stack:
            if kinds & followed_by(screen):
                screen.post_message(EnvironmentFeedState(environment, state, detail))

    def _deliver(self, event: FeedEvent | Resync) -> None:
        if isinstance(event, Resync):
            for screen in self._app.screen_stack:
                if wanted := event.kinds & followed_by(screen):
                    screen.post_message(Refetch(wanted))
            return
        for screen in self._app.screen_stack:
            if event.kind in followed_by(screen):
                screen.post_message(LiveChange(event))
