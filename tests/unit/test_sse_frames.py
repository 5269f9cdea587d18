"""An event is rendered to its SSE frame once, however many clients stream it (backend/sse.py)."""

from __future__ import annotations

from backend.feed import ChangeFeed
from backend.sse import event_frame
from backend.store.changes import Change


def test_each_render_of_an_event_runs_once_and_every_client_gets_the_same_frame():
    event = ChangeFeed().publish(Change("k2k", "updated", ("orders",), {"n": 1}))
    calls: list[str] = []

    def public(e):
        calls.append("public")
        return {"name": e.change.key[0], **e.change.data}

    def other(e):
        calls.append("other")
        return {"name": e.change.key[0]}

    frames = [event_frame(event, public) for _ in range(100)]
    assert event_frame(event, other) != frames[0]

    assert calls == ["public", "other"]
    assert set(frames) == {f'id: {event.id}\nevent: k2k.updated\ndata: {{"name":"orders","n":1}}\n\n'.encode()}
