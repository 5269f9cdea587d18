"""What every event API call of the console shares (seed 004 and its additions, through HQ's
proxy to an environment's agent: `/api/v1/environments/{env}/proxy/api/v1/...`): the paths, the
family's refusal `EventAPIError`, and `EventAPIClient`, the base of the three clients that hang
off the HQ client — `client.streams` (topics), `client.records` (publish, tail) and
`client.groups` (consumer groups, their offsets).

A refusal in the family's shape `{code, message, description, field}` is an `EventAPIError`
(`field_errors()` puts it at its field, as HQ's forms do); a refusal by HQ on the way (an
unknown environment, no agent) or the agent app's neutral shape is a plain `APIError`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx
from pydantic import BaseModel

from backend.models import InvalidField
from backend.streams.models import EventErrorBody
from console.client.errors import APIError, agent_path, family_error

Model = TypeVar("Model", bound=BaseModel)

def events_path(environment: str, *parts: str) -> str:
    """The proxy path of an event API resource."""
    return agent_path(environment, "api/v1", *parts)


@dataclass
class EventAPIError(APIError):
    """A refusal in seed 004's shape: `title` is its `description`."""

    code: int = 0
    message: str = ""


def _event_refusal(status: int, shaped: EventErrorBody) -> APIError:
    invalid = [InvalidField(name=shaped.field, error=shaped.message, title=shaped.description)] if shaped.field else []
    return EventAPIError(status, shaped.description, invalid, shaped.code, shaped.message)


def events_error(response: httpx.Response) -> APIError:
    return family_error(response, EventErrorBody, _event_refusal)


class Requests(Protocol):
    """What an event API client needs of the HQ client (which makes it: no import back to it):
    its requests, and for a stream (the tail) its connection pool and the server's name."""

    server: str

    @property
    def http(self) -> httpx.AsyncClient: ...

    async def request(self, method: str, path: str, *, json: Any = None, content: str | None = None,
                      headers: dict[str, str] | None = None, params: Any = None,
                      errors: Callable[[httpx.Response], APIError] = ...) -> httpx.Response: ...


class EventAPIClient:
    def __init__(self, hq: Requests) -> None:
        self._hq = hq

    async def _call(self, method: str, path: str, *, body: BaseModel | None = None, params: Any = None,
                    headers: dict[str, str] | None = None) -> httpx.Response:
        payload = body.model_dump(mode="json", exclude_none=True) if body is not None else None
        return await self._hq.request(method, path, json=payload, params=params, headers=headers,
                                      errors=events_error)

    async def _get(self, path: str, model: type[Model], params: Any = None) -> Model:
        return model.model_validate_json((await self._call("GET", path, params=params)).content)
