"""Shapes shared by every resource: the strict base model, the HQ name rule, the HQ error body."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

NAME_PATTERN = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
NAME_RULE = (
    "must contain only lowercase alphanumeric characters or hyphens, must not start or end"
    " with a hyphen, and must be at most 63 characters"
)
_NAME = re.compile(NAME_PATTERN)



def is_valid_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name))


def _resource_name(value: str) -> str:
    if not is_valid_name(value):
        raise PydanticCustomError("invalid_format", NAME_RULE)
    return value


ResourceName = Annotated[str, AfterValidator(_resource_name)]


class StrictModel(BaseModel):
    """Request bodies reject unknown fields: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


class InvalidField(BaseModel):
    name: str
    error: str
    title: str


class ErrorBody(BaseModel):
    """The HQ error shape (seeds 000, 001)."""

    type: str
    title: str
    status: int
    invalid_fields: list[InvalidField] = []
    request_id: str = ""
