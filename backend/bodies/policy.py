"""What a route family accepts as a body, and the refusal every check raises.

The README's table of limits lists these; a family picks its size and media types, the
parsing bounds below hold for all."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON_MEDIA_TYPES = ("application/json", "application/merge-patch+json")
YAML_MEDIA_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")

# Deeper than any document of ours (a K2K app is 5 levels); Python's JSON parser, pydantic and
# the merge patch recurse per level.
MAX_DEPTH = 32
# A number's text: an int64 is 19 digits; Python's int() refuses 4,300 with a ValueError.
MAX_NUMBER_CHARS = 64
# A thread cannot be stopped, so this budget only bounds how long a request waits; the size
# limit and the refusal of aliases are what keep the thread's own work short.
PARSE_SECONDS = 5.0


@dataclass(frozen=True)
class BodyPolicy:
    max_bytes: int
    media_types: tuple[str, ...]
    # 415 is HTTP's word for it; a family whose clients already switch on a 400 keeps that.
    unsupported_media_status: int = 415
    # The family's error body in the OpenAPI, for the refusals only a body brings (413, 415).
    error_schema: dict[str, Any] = field(default_factory=dict)


class BodyRefused(Exception):
    """A body that is not accepted: `field` is the dotted path at fault ("body" for all of it)."""

    def __init__(self, status: int, field: str, error: str, title: str) -> None:
        super().__init__(title)
        self.status = status
        self.field = field
        self.error = error
        self.title = title

    @classmethod
    def bad(cls, field: str, error: str, title: str) -> BodyRefused:
        return cls(400, field, error, title)
