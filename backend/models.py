"""Shapes shared by every resource: the strict base model, the HQ name rule, the HQ error body."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
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


# The pattern documents the rule for clients (and the fuzzer); the validator enforces it with its message.
ResourceName = Annotated[str, AfterValidator(_resource_name), Field(json_schema_extra={"pattern": f"^{NAME_PATTERN}$"})]


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


# pydantic error types -> the short codes clients switch on.
_VALIDATION_CODES = {
    "missing": "required",
    "value_error": "invalid",
    "extra_forbidden": "unknown_field",
    "json_invalid": "malformed_json",
    "enum": "invalid_value",
    "literal_error": "invalid_value",
    "string_pattern_mismatch": "invalid_format",
    "string_too_long": "too_long",
}
_LOCATION_ROOTS = {"body", "path", "query", "header"}


def invalid_fields_from(errors: list[dict[str, Any]]) -> list[InvalidField]:
    """pydantic's errors as the HQ's `invalid_fields`: for the API's 400s, and for the console,
    which builds request bodies from these same models and shows their errors the same way."""
    fields = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        if loc and loc[0] in _LOCATION_ROOTS:
            loc = loc[1:]
        if loc and loc[-1] == "[key]":  # a mapping's key is at fault: name the key
            loc = loc[:-1]
        kind = err.get("type", "")
        name = ".".join(loc) or "body"
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if kind == "json_invalid":
            name, message = "body", f"Malformed JSON: {(err.get('ctx') or {}).get('error', 'cannot be parsed')}"
        fields.append(InvalidField(name=name, error=_VALIDATION_CODES.get(kind, kind or "invalid"), title=message))
    return fields
