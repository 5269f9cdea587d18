"""How the console's HTTP calls fail: `APIError` (a server answered no) and `Unreachable` (no
server answered). Each error family of the API has its reader here; `HQClient.request` takes
the one its path speaks (HQ's own by default)."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx

from backend.models import InvalidField


@dataclass
class APIError(Exception):
    status: int
    title: str
    invalid_fields: list[InvalidField] = field(default_factory=list)

    def __str__(self) -> str:
        return self.title

    def field_errors(self) -> dict[str, str]:
        """Field name -> message, for showing each where the user typed it."""
        return {f.name: f.title for f in self.invalid_fields}


class Unreachable(Exception):
    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"HQ at {server} is unreachable: {reason}")


def hq_error(response: httpx.Response) -> APIError:
    """HQ's family: `{type, title, status, invalid_fields}`."""
    try:
        body = response.json()
        fields = [InvalidField.model_validate(f) for f in body.get("invalid_fields") or []]
        return APIError(response.status_code, str(body.get("title") or response.reason_phrase), fields)
    except (ValueError, AttributeError):
        return APIError(response.status_code, f"{response.status_code} {response.reason_phrase}")
