"""LiveListScreen: the one live list screen. A resource's list screen is a declaration on it:

    NOUN, ITEM          what it lists ("K2K apps") and one of them ("K2K app"): title, messages
    COLUMNS, TABLE_ID   the table's columns and id; `row(item)` gives an item's values for them
    MODEL, FEED_KINDS   the payload model of its items' events, and the event kinds it follows
    fetch(), key(item)  the list with the feed position it was read at (per environment, for a
                        list over feeds of each environment); an item's key
    DETAIL              the kind whose registered detail screen `enter` opens (None: none)
    EMPTY_HINT(_READ_ONLY)  what an empty list says
    BINDINGS, MUTATING  its keys and which of them change things (refused in read-only mode)

plus the actions its bindings name. The screen loads the list, then follows the feed from the
position the list was read at; each event updates `items` and the row it touched (`apply`
takes an event in, and is where a declaration handles kinds beyond its items', like a K2K
app's metrics); a resync refetches. The title over the table counts the rows, in the
`title_scope()` the declaration gives; `shows(item)` may keep items out of the table (a quick
filter, under `/`); `show_notice` puts a line over the table for what the list answered
besides its items (a part of it left out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from console.client import APIError, Unreachable
from console.client.events import FeedEvent, Kind
from console.messages import LiveChange, Refetch
from console.screens.base import ResourceScreen
from console.screens.registry import open_detail
from console.widgets.resource_table import Column, ResourceTable
from console.widgets.status_header import StatusHeader
from console.widgets.table_title import TableTitle

Item = TypeVar("Item", bound=BaseModel)

# A feed position before any event: a feed started from it answers `resync` first, so a list
# that could not be read is read again as soon as HQ answers.
BEFORE_ANY_EVENT = 0

# Where the feed was when a list was read: one position, or one per environment's feed.
FeedPosition = int | None | Mapping[str, int | None]


class LiveListScreen(ResourceScreen, Generic[Item]):
    NOUN: ClassVar[str]
    ITEM: ClassVar[str]
    COLUMNS: ClassVar[Sequence[Column]]
    TABLE_ID: ClassVar[str]
    MODEL: ClassVar[type[BaseModel]]
    FEED_KINDS: ClassVar[frozenset[Kind]]
    DETAIL: ClassVar[Kind | None] = None
    EMPTY_HINT: ClassVar[str]
    EMPTY_HINT_READ_ONLY: ClassVar[str]

    DEFAULT_CSS = """
    LiveListScreen #empty { padding: 1 2; color: $text-muted; display: none; }
    LiveListScreen #empty.-shown { display: block; }
    LiveListScreen #notice { padding: 0 1; color: $warning; display: none; }
    LiveListScreen #notice.-shown { display: block; }
    """

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self.items: dict[str, Item] = {}
        self._message = f"Loading {self.NOUN}…"
        # How many times the line above the table was rewritten: each rewrite re-lays out the
        # screen, so it must not happen per live event (tests read it).
        self.message_updates = 0

    # the declaration's part

    async def fetch(self) -> tuple[list[Item], FeedPosition]:
        raise NotImplementedError

    def key(self, item: Item) -> str:
        raise NotImplementedError

    def row(self, item: Item) -> tuple[Any, ...]:
        raise NotImplementedError

    def detail_arguments(self, item: Item) -> tuple[Any, ...]:
        """What the detail screen is made with."""
        return (item,)

    def apply(self, change: FeedEvent) -> str | None:
        """Takes `change` into `items`; returns the key of the row it changed (None: no row)."""
        if change.deleted:
            self.items.pop(change.name, None)
            return change.name
        if isinstance(change.payload, self.MODEL):
            self.items[change.name] = change.payload  # type: ignore[assignment]
            return change.name
        return None

    def shows(self, item: Item) -> bool:
        """Whether the table shows `item` (a quick filter of the declaration's; `/` filters on top)."""
        return True

    def title_scope(self) -> str | None:
        """What the list covers, shown in its title beside the noun (None: everything)."""
        return None

    def unread_position(self) -> FeedPosition:
        """Where to follow from when the list could not be read (per environment, for feeds of
        each): before any event, so the feed's first answer, a resync, reads it again."""
        return BEFORE_ANY_EVENT

    # the screen

    @property
    def heading(self) -> str:
        return self.NOUN[:1].upper() + self.NOUN[1:]

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield TableTitle(self.heading, table=self.TABLE_ID, scope=self.title_scope())
        yield Static("", id="notice")
        yield Static(self._message, id="empty", classes="-shown")
        yield ResourceTable(self.COLUMNS, id=self.TABLE_ID)
        yield from self.compose_filter()
        yield Footer()

    def on_mount(self) -> None:
        self.title = self.heading
        self.run_worker(self.load(), exclusive=True, group="load")

    async def load(self) -> None:
        try:
            items, last_event_id = await self.fetch()
        except (APIError, Unreachable) as exc:
            self._show_message(f"Cannot load {self.NOUN}: {exc}\nThe list appears when HQ answers again.")
            self.follow(self.unread_position())
            return
        self.items = {self.key(item): item for item in items}
        self.show_rows()
        self._show_empty_hint()
        self.follow(last_event_id)

    def show_rows(self) -> None:
        """Writes every row again (after `row()` or `shows()` changed their minds)."""
        self.table.replace_all((key, self.row(item)) for key, item in self.items.items() if self.shows(item))

    def follow(self, position: FeedPosition) -> None:
        if isinstance(position, Mapping):
            for environment, last_event_id in position.items():
                self.app.feeds.follow(self.FEED_KINDS, last_event_id, environment=environment)
        else:
            self.app.feeds.follow(self.FEED_KINDS, position)

    def show_notice(self, text: str) -> None:
        """A line over the table ("" takes it away)."""
        notice = self.query_one("#notice", Static)
        notice.update(text)
        notice.set_class(bool(text), "-shown")

    def show_scope(self) -> None:
        """Rewrites the title after `title_scope()` changed."""
        title = self.query_one(TableTitle)
        title.scope = self.title_scope()
        title.refresh()

    def on_refetch(self, _: Refetch) -> None:
        self.run_worker(self.load(), exclusive=True, group="load")

    def on_live_change(self, message: LiveChange) -> None:
        key = self.apply(message.change)
        if key is None:
            return
        item = self.items.get(key)
        if item is None or not self.shows(item):
            self.table.remove(key)
        else:
            self.table.upsert(key, self.row(item))
        self._show_empty_hint()

    def _show_message(self, text: str) -> None:
        if text == self._message:
            return  # an update re-lays out the screen: not on every live event
        self._message = text
        self.message_updates += 1
        empty = self.query_one("#empty", Static)
        empty.update(text)
        empty.set_class(bool(text), "-shown")

    def _show_empty_hint(self) -> None:
        if self.items:
            self._show_message("")
        else:
            self._show_message(self.EMPTY_HINT_READ_ONLY if self.app.read_only else self.EMPTY_HINT)

    def selected(self) -> Item | None:
        """The item under the cursor; None (and a word to the user) when there is none."""
        item = self.items.get(self.table.selected_key or "")
        if item is None:
            self.notify(f"No {self.ITEM} selected.", severity="warning", timeout=2)
        return item

    def on_data_table_row_selected(self, _: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        if self.DETAIL is not None and (item := self.selected()) is not None:
            open_detail(self.app, self.DETAIL, *self.detail_arguments(item))
