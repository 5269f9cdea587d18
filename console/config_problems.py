"""What is wrong with a connector's configuration text, and where: the text's own refusals, the
request model's, and the worker's (`fields[]` of a refused create or update, validate's
`errors`), each placed at the line of the key it names, so the editor can write it there."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError
from rich.text import Text

from console.client import APIError
from console.client.connect import ConnectAPIError
from console.connector_text import Position, worker_message


@dataclass(frozen=True)
class Problem:
    """A message about the text: at `key`'s line, or at `position`, or (neither known) below."""

    message: str
    key: str | None = None
    position: Position | None = None


def problems_of(error: APIError, failed: str = "Not saved") -> list[Problem]:
    """The worker's field errors, each at its configuration key; else what `failed` and why."""
    if isinstance(error, ConnectAPIError) and error.fields:
        keys = [f.field.removeprefix("configuration.") for f in error.fields]
        return [Problem(worker_message(key, f.error), key) for key, f in zip(keys, error.fields, strict=True)]
    return [Problem(f"{failed}: {error}")]


def refused_by_model(error: ValidationError) -> list[Problem]:
    """The request model's refusals (a value past its bound), each at the key it is about."""
    problems = []
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        key = location[1] if location[0] == "configuration" and len(location) > 1 else location[0]
        problems.append(Problem(item["msg"], key))
    return problems


def place(problems: list[Problem], positions: dict[str, Position]) -> tuple[dict[int, str], Text]:
    """Each problem's message by 0-based line (those on one line joined), and the listing under
    the editor. A problem is placed by its key first, so that its mark follows the key as lines
    come and go above it; by its position when the key is not in the text."""
    marks: dict[int, str] = {}
    listing = Text()
    for problem in problems:
        where = positions.get(problem.key or "") or problem.position
        if where:
            line = where.line - 1
            marks[line] = f"{marks[line]}; {problem.message}" if line in marks else problem.message
            listing.append(f"line {where.line}: ", style="bold")
        listing.append(f"{problem.key}: " if problem.key else "", style="red")
        listing.append(f"{problem.message}\n", style="red")
    if problems:
        count = len(problems)
        listing.append(f"{count} problem{'s' if count > 1 else ''}; ctrl+n goes to the next. Your text is kept.",
                       style="dim")
    return marks, listing
