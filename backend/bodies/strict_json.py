"""JSON parsed strictly: UTF-8 only, bounded depth, no duplicate keys, no absurd numbers,
no NaN or Infinity (which Python's json accepts and JSON does not)."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from backend.bodies.policy import MAX_DEPTH, BodyRefused
from backend.bodies.tree import Refusal, check_document, float_of, integer_of, mapping_of

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def utf8_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyRefused.bad("body", "invalid_encoding",
                              f"The body is not UTF-8 (byte {exc.start} cannot be decoded).") from None


def _depth(raw: bytes) -> int:
    """How deep the brackets nest outside strings: measured before parsing, because Python's
    parser recurses per level and would fail with a RecursionError (a 500) first."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def _constant(name: str) -> Refusal:
    return Refusal("invalid_number", f"{name} is not a JSON number.")


def parse_json(raw: bytes) -> Any:
    text = utf8_text(raw)
    if _depth(raw) > MAX_DEPTH:
        raise BodyRefused.bad("body", "too_deep", f"The body nests deeper than {MAX_DEPTH} levels.")
    try:
        document = json.loads(text, object_pairs_hook=mapping_of, parse_int=integer_of, parse_float=float_of,
                              parse_constant=_constant)
    except json.JSONDecodeError as exc:
        # exc.msg names what was expected, never the text around it
        raise BodyRefused.bad("body", "malformed_json",
                              f"Malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    check_document(document)
    return document
