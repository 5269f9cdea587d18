"""The checks made on a parsed document, where each value's path is known.

The parsers cannot name a field (they see text, not paths), so they put a `Refusal` where a
value could not be taken, and `check_document` names the path it sits at."""

from __future__ import annotations

import math
from typing import Any

from backend.bodies.policy import MAX_NUMBER_CHARS, BodyRefused


class Refusal:
    """Stands in the parsed document for a value that is refused; `key` is the key at fault
    when the refusal is of a mapping (a duplicate key)."""

    __slots__ = ("error", "key", "title")

    def __init__(self, error: str, title: str, key: str | None = None) -> None:
        self.error = error
        self.title = title
        self.key = key


def mapping_of(pairs: list[tuple[Any, Any]]) -> dict[Any, Any] | Refusal:
    """A mapping from its pairs, or a refusal naming the first key that comes twice
    (last-wins would silently drop what the client wrote first)."""
    mapping = {}
    for key, value in pairs:
        if key in mapping:
            return Refusal("duplicate_key", f"The key {key!r} appears more than once.", key=str(key))
        mapping[key] = value
    return mapping


def _too_long(text: str) -> Refusal | None:
    if len(text) <= MAX_NUMBER_CHARS:
        return None
    return Refusal("number_too_long", f"A number of {len(text)} characters; at most {MAX_NUMBER_CHARS} are read.")


def finite(value: float) -> float | Refusal:
    if math.isfinite(value):
        return value
    return Refusal("invalid_number", "Numbers must be finite (no NaN or infinity, nor one that overflows).")


def integer_of(text: str) -> int | Refusal:
    return _too_long(text) or int(text)


def float_of(text: str) -> float | Refusal:
    return _too_long(text) or finite(float(text))


def _child(path: str, part: Any) -> str:
    return f"{path}.{part}" if path else str(part)


def _printable_key(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _refused(path: str, refusal: Refusal) -> BodyRefused:
    field = _child(path, refusal.key) if refusal.key is not None else path
    return BodyRefused.bad(field or "body", refusal.error, refusal.title)


def _not_unicode(path: str) -> BodyRefused:
    # pydantic's code for it: clients see one code whichever layer refuses
    return BodyRefused.bad(path or "body", "string_unicode",
                           "A string holds a lone surrogate (e.g. \\ud800): it is not Unicode text.")


def _acceptable(document: Any) -> bool:
    """Whether the document holds no refusal and no string that is not Unicode; the walk of
    every body, so it builds no paths (they cost more than the walk)."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if not _is_unicode(value):
                return False
        elif isinstance(value, dict):
            for key in value:
                if isinstance(key, Refusal) or (isinstance(key, str) and not _is_unicode(key)):
                    return False
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
        elif isinstance(value, Refusal):
            return False
    return True


def check_document(document: Any) -> None:
    """Raises BodyRefused at the first refused value or key (see `_check_with_paths`); a body
    is walked once, and again with paths only when it is refused."""
    if not _acceptable(document):
        _check_with_paths(document)


def _check_with_paths(document: Any) -> None:
    """Raises BodyRefused at the first refused value or key, or string that is not Unicode
    (a lone surrogate cannot be stored or answered), naming its path. Iterative: the depth is
    already bounded, but the walk must not be the next recursion to trip."""
    pending = [(document, "")]
    while pending:
        value, path = pending.pop()
        if isinstance(value, Refusal):
            raise _refused(path, value)
        if isinstance(value, str) and not _is_unicode(value):
            raise _not_unicode(path)
        if isinstance(value, dict):
            for key, item in value.items():
                if isinstance(key, Refusal):
                    raise _refused(path, key)
                if isinstance(key, str) and not _is_unicode(key):
                    raise _not_unicode(_child(path, _printable_key(key)))
                pending.append((item, _child(path, key)))
        elif isinstance(value, list):
            pending.extend((item, _child(path, index)) for index, item in enumerate(value))
