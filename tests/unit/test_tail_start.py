"""Where a tail starts (`from`, backend/streams/tail.py): the four forms and the refusals."""

from __future__ import annotations

import pytest

from backend.streams.errors import INVALID_OFFSET, EventApiError
from backend.streams.tail import TailStart, parse_from


@pytest.mark.parametrize(("text", "start"), [
    ("latest", TailStart("latest")),
    (" earliest ", TailStart("earliest")),
    ("0", TailStart("offset", offset=0)),
    ("1200", TailStart("offset", offset=1200)),
    ("2026-12-01T14:00:00Z", TailStart("time", at_ms=1_796_133_600_000)),
    ("2026-12-01T14:00:00", TailStart("time", at_ms=1_796_133_600_000)),  # no zone: UTC
    ("2026-12-01T15:00:00+01:00", TailStart("time", at_ms=1_796_133_600_000)),
    ("2026-12-01T14:00:00.250Z", TailStart("time", at_ms=1_796_133_600_250)),
])
def test_the_four_starts(text: str, start: TailStart) -> None:
    assert parse_from(text) == start


@pytest.mark.parametrize("text", ["", "newest", "-1", "1.5", "12abc", "2026-13-01T00:00:00Z",
                                  "99999999999999999999"])
def test_anything_else_is_an_invalid_offset_naming_from(text: str) -> None:
    with pytest.raises(EventApiError) as refused:
        parse_from(text)
    assert (refused.value.code, refused.value.field, refused.value.status) == (INVALID_OFFSET, "from", 400)
