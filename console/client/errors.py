"""How the console's HTTP calls fail: `APIError` (a server answered no) and `Unreachable` (no
server answered). HQ's family is read here (`hq_error`), the agent's route families through
`family_error` with their own shapes (console/client/connect.py, event_api.py), and
`HQClient.request` takes the reader its path speaks (HQ's own by default)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from backend.models import InvalidField

Shape = TypeVar("Shape", bound=BaseModel)


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


def agent_path(environment: str, family: str, *parts: str) -> str:
    """The HQ proxy path of an agent resource: `family` is the route family's root below the
    agent (`api/kafka-connect`, `api/v1`); each part quoted (a name may hold spaces or `/`)."""
    root = f"/api/v1/environments/{quote(environment, safe='')}/proxy/{family}"
    return "/".join([root, *(quote(part, safe="") for part in parts)])


def family_error(response: httpx.Response, shape: type[Shape],
                 error: Callable[[int, Shape], APIError]) -> APIError:
    """A refusal under an agent route family: `error` makes it from the family's body `shape`.
    A body in another shape was answered on the way: by the agent app itself (its neutral
    `{status, error, message}`) or by HQ (an unknown environment, no agent)."""
    try:
        body = response.json()
    except ValueError:
        return hq_error(response)
    try:
        shaped = shape.model_validate(body)
    except ValidationError:
        if isinstance(body, dict) and isinstance(body.get("message"), str) and "error" in body:
            return APIError(response.status_code, body["message"])
        return hq_error(response)
    return error(response.status_code, shaped)

