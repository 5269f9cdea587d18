"""TailScreen: a stream's records as they arrive (`t` on the Topics screen), full screen.

Records go into a ring of the last 5,000 (console/tail_ring.py) as they arrive; the table is
redrawn from it at most every REDRAW_SECONDS, however fast they come, so 1,000 records a second
cost fifty redraws of the rows on screen, not a thousand. `space`/`p` pauses the table (records
keep arriving into the ring, the table holds still and says how many are new), `/` filters it
with the record filter language (backend/streams/predicates.py: `key ~ "abc"`,
`value.amount > 10`, a bare word for keys), live as it is typed, its error under the input;
`f` starts the tail again from elsewhere (latest, earliest, an offset, an ISO time); `enter`
opens a record in full; `P` publishes to the stream."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from backend.streams.models import ConsumedEvent, TailReady, TailRecords
from backend.streams.predicates import Everything, Predicate, PredicateError, parse
from console.client import APIError, Unreachable
from console.format import count
from console.screens.record_view import RecordScreen
from console.screens.registry import PUBLISH, TAIL, open_stream_screen, stream_screen
from console.tail_ring import RateMeter, RecordRing, TailRow
from console.widgets.record_list import RecordList, header_line
from console.widgets.status_header import StatusHeader

REDRAW_SECONDS = 0.02
STATUS_SECONDS = 1.0
FROM_HINT = "latest · earliest · an offset (each partition) · an ISO time (2026-12-01T14:00:00Z)"


class TailStatus(Widget):
    """The line under the table: redrawn, never re-laid out, at every redraw of the table."""

    DEFAULT_CSS = "TailStatus { height: 1; background: $panel; padding: 0 1; }"

    def __init__(self) -> None:
        super().__init__(id="tail-status")
        self.text = Text("connecting…")

    def show(self, text: Text) -> None:
        if text != self.text:
            self.text = text
            self.refresh()

    def render(self) -> RenderResult:
        return self.text


@stream_screen(TAIL)
class TailScreen(Screen[None]):
    BINDINGS = [
        Binding("space", "pause", "Pause/resume", id="tail.pause"),
        Binding("p", "pause", "Pause/resume", show=False, id="tail.pause_p"),
        Binding("/", "filter", "Filter", id="tail.filter", priority=True),
        Binding("f", "pick_start", "From…", id="tail.from"),
        Binding("P", "publish", "Publish", id="tail.publish"),
        Binding("escape", "leave", "Back", id="tail.back"),
    ]

    DEFAULT_CSS = """
    TailScreen #tail-title { height: 1; padding: 0 1; color: $text-accent; text-style: bold; }
    TailScreen #tail-columns { height: 1; padding: 0 0; color: $text-muted; text-style: bold; }
    TailScreen #tail-filter { display: none; border: none; height: 1; padding: 0 1; background: $panel; }
    TailScreen #tail-filter.-active { display: block; }
    TailScreen #tail-filter-error { display: none; color: $error; height: 1; }
    TailScreen #tail-filter-error.-shown { display: block; }
    """

    def __init__(self, environment: str, stream: str, from_: str = "latest") -> None:
        super().__init__(name="tail")
        self.environment = environment
        self.stream = stream
        self.from_ = from_
        self.ring = RecordRing()
        self.rate = RateMeter()
        self.view: list[TailRow] = []  # the rows the table shows: the ring's, as the filter keeps them
        self.predicate: Predicate = Everything()
        self.filter_text = ""
        self.filter_error: PredicateError | None = None
        self.paused = False
        self.new_while_paused = 0
        self.state = "connecting"  # connecting, live, ended
        self.problem = ""
        self.redraws = 0  # how many times the table was redrawn (tests read it)
        # Called with the rows a redraw added, once they are on screen (bench/tail.py times them).
        self.shown_listeners: list[Callable[[list[TailRow]], None]] = []
        self._shown_seq = 0  # the ring's rows from here on are not in the view yet
        self._redraw_due = False

    # the screen

    def compose(self) -> ComposeResult:
        yield StatusHeader()
        yield Static(self._title(), id="tail-title")
        yield Static(header_line(), id="tail-columns")
        yield RecordList(id="tail-records")
        yield Input(placeholder='filter: key ~ "abc", value.amount > 10, a word for keys · enter keeps, esc clears',
                    id="tail-filter", compact=True)
        yield Static(id="tail-filter-error")
        yield TailStatus()
        yield Footer()

    @property
    def status_text(self) -> str:
        """The line under the table, as shown."""
        return self.query_one(TailStatus).text.plain

    @property
    def records(self) -> RecordList:
        return self.query_one(RecordList)

    def on_mount(self) -> None:
        self.title = f"Tail {self.stream}"
        self.records.focus()
        self._start()
        self.set_interval(STATUS_SECONDS, self._show_status)  # the rate falls to 0 when the stream goes quiet

    def _title(self) -> str:
        return f"Tail {self.stream} · {self.environment} · from {self.from_}"

    def _start(self) -> None:
        self.state, self.problem = "connecting", ""
        self.run_worker(self._follow(), exclusive=True, group="tail")
        self._show_status()

    async def _follow(self) -> None:
        try:
            async for frame in self.app.client.records.tail(self.environment, self.stream, self.from_):
                if isinstance(frame, TailRecords):
                    self.take(frame.events)
                elif isinstance(frame, TailReady):
                    self.state = "live"
                    self._show_status()
        except (APIError, Unreachable) as exc:
            self.state, self.problem = "ended", str(exc)
            self._show_status()

    # records in, redraws out

    def take(self, events: Sequence[ConsumedEvent]) -> None:
        """Records that arrived: into the ring now, onto the table at the next redraw."""
        self.ring.add(events)
        self.rate.add(len(events))
        if self.paused:
            self.new_while_paused += len(events)
        if not self._redraw_due:
            self._redraw_due = True
            self.set_timer(REDRAW_SECONDS, self._redraw)

    def _redraw(self) -> None:
        self._redraw_due = False
        if not self.paused:
            new = [row for row in self.ring.since(self._shown_seq) if self.predicate.matches(row.fields)]
            self._shown_seq = self.ring.total_seen
            self.view.extend(new)
            dropped = self._trim()
            self.records.show(self.view, dropped)
            self.redraws += 1
            for listener in self.shown_listeners:
                self.records.call_after_refresh(listener, new)
        self._show_status()

    def _trim(self) -> int:
        """Lets go of the view's rows the ring no longer has; how many."""
        oldest = self.ring.oldest_seq
        gone = 0
        while gone < len(self.view) and self.view[gone].seq < oldest:
            gone += 1
        del self.view[:gone]
        return gone

    def _rebuild(self) -> None:
        """The view again from the whole ring (the filter changed, the table resumed)."""
        self.view = [row for row in self.ring if self.predicate.matches(row.fields)]
        self._shown_seq = self.ring.total_seen
        self.records.show(self.view)
        self.redraws += 1
        self._show_status()

    def _show_status(self) -> None:
        status = self.query("#tail-status")
        if not status:
            return
        text = Text()
        mark, style = {"connecting": ("◌ connecting", "yellow"), "live": ("● live", "green"),
                       "ended": ("○ ended", "red")}[self.state]
        text.append(mark, style)
        text.append(f" · {self.rate.per_second():,.0f} rec/s · {count(self.ring.total_seen)} seen"
                    f" · {count(len(self.view))} shown")
        if self.paused:
            text.append(f" · paused · {count(self.new_while_paused)} new", "bold yellow")
        if self.filter_text:
            text.append(f" · filter: {self.filter_text}", "cyan")
        if self.problem:
            text.append(f" · {self.problem}", "red")
        status.first(TailStatus).show(text)

    # keys

    def action_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self.new_while_paused = 0
            self.view = list(self.view)  # the table holds this copy still while the ring moves on
            self._show_status()
        else:
            self._rebuild()

    def action_filter(self) -> None:
        bar = self.query_one("#tail-filter", Input)
        if self.focused is bar:  # a priority key reaches the bar as an action: there it is text
            bar.insert_text_at_cursor("/")
            return
        bar.add_class("-active")
        self.set_focus(bar)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "tail-filter":
            return
        error_line = self.query_one("#tail-filter-error", Static)
        try:
            predicate = parse(event.value)
        except PredicateError as exc:
            self.filter_error = exc
            # Under the character at fault: the bar's text starts after its one cell of padding.
            error_line.update(Text(" " * (1 + exc.position) + f"▲ {exc.message}"))
            error_line.add_class("-shown")
            return  # the last filter that parsed stays on
        self.filter_error = None
        error_line.remove_class("-shown")
        self.predicate, self.filter_text = predicate, event.value.strip()
        if not self.paused:
            self._rebuild()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "tail-filter":
            if not event.value:
                event.input.remove_class("-active")
            self.records.focus()

    def _clear_filter(self) -> None:
        bar = self.query_one("#tail-filter", Input)
        bar.value = ""
        bar.remove_class("-active")
        self.records.focus()

    def on_record_list_chosen(self, chosen: RecordList.Chosen) -> None:
        self.app.push_screen(RecordScreen(self.stream, chosen.row.event))

    def action_publish(self) -> None:
        open_stream_screen(self.app, PUBLISH, self.environment, self.stream)

    def action_pick_start(self) -> None:
        def picked(start: str | None) -> None:
            if start:
                self.from_ = start
                self.ring, self.rate = RecordRing(), RateMeter()  # another tail: its own records and counts
                self.view = []
                self._shown_seq = 0
                self.records.show(self.view)
                self.query_one("#tail-title", Static).update(self._title())
                self._start()

        self.app.push_screen(FromPicker(self.from_), picked)

    def action_leave(self) -> None:
        bar = self.query_one("#tail-filter", Input)
        if self.focused is bar or bar.value:
            self._clear_filter()
            return
        self.dismiss(None)


class FromPicker(ModalScreen[str | None]):
    """Where the tail starts: typed, as the API takes it."""

    BINDINGS = [Binding("escape", "close", "Close", id="tail_from.close")]
    DEFAULT_CSS = """
    FromPicker { align: center middle; }
    FromPicker > Vertical { width: 72; height: auto; background: $panel; padding: 1 2; border: round $accent; }
    FromPicker #from-hint { color: $text-muted; }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Tail from", classes="title")
            yield Input(self.current, id="from-input")
            yield Static(FROM_HINT, id="from-hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_close(self) -> None:
        self.dismiss(None)
