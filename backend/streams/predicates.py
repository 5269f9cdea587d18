"""A small, safe filter language over records (the console's tail filter; processors reuse it):
parsed by hand into a tree of comparisons, never evaluated as code.

    key ~ "abc"                 the key contains abc
    key == "k"                  the key is k
    value.amount > 10           a field of the JSON value (`value.items.0.id`: an array index)
    value.user.id == "u1" and not headers.source == "web"
    partition == 3 or (offset >= 100 and offset < 200)
    order-42                    a bare word: the key contains it

Fields: `key`, `value[.path]`, `headers.<name>`, `partition`, `offset`, `timestamp`, `eventId`;
a path segment that is not a plain word is quoted (`headers."trace.id"`). Operators: `== != > >=
< <=` and `~` (contains: on a string, its text; on anything else, its compact JSON). Literals:
"strings" (or 'strings'), numbers, true, false, null. A field that is missing is null; an
ordering (`> >= < <=`) holds only between two numbers or two strings; a boolean is never equal
to a number.

A record is a mapping with the fields above, as the event API answers it (`ConsumedEvent`).
Errors name the character where the text stops making sense. The text is bounded (1,000
characters) and so is its nesting (32), so no filter can exhaust the recursion of the parser."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 1000
MAX_DEPTH = 32
FIELDS = ("key", "value", "headers", "partition", "offset", "timestamp", "eventId")
COMPARISONS = ("==", "!=", ">=", "<=", ">", "<", "~")
KEYWORDS = {"and", "or", "not", "true", "false", "null"}

_STRING = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_TOKEN = re.compile(
    rf"(?P<space>\s+)|(?P<string>{_STRING})|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w-]))"
    rf"|(?P<op>==|!=|>=|<=|>|<|~|=)|(?P<paren>[()])"
    rf"|(?P<word>[A-Za-z0-9_][\w-]*(?:\.(?:[\w-]+|{_STRING}))*)")
_MISSING = object()


class PredicateError(ValueError):
    """The text is not a filter: `position` is the 0-based index of the character at fault."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.message = message
        self.position = position


@dataclass(frozen=True)
class _Token:
    kind: str  # string, number, op, paren, word, end
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            what = "an unclosed string" if text[position] in "\"'" else f"{text[position]!r} is not understood here"
            raise PredicateError(what, position)
        if match.lastgroup != "space":
            tokens.append(_Token(match.lastgroup or "", match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _unquote(literal: str, position: int) -> str:
    body = literal[1:-1]
    if literal[0] == "'":  # a single-quoted string takes the same escapes as a double-quoted one
        body = body.replace('\\"', '"').replace('"', '\\"').replace("\\'", "'")
    try:
        return json.loads(f'"{body}"', strict=False)
    except ValueError as exc:  # an escape JSON does not know (`\q`)
        raise PredicateError("a string with an unknown escape (\\\" \\\\ \\n \\t \\uXXXX are known)", position) from exc


# The tree --------------------------------------------------------------------------------

class Predicate:
    """A parsed filter: `matches(record)`."""

    def matches(self, record: Mapping[str, Any]) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Everything(Predicate):
    """The empty filter."""

    def matches(self, record: Mapping[str, Any]) -> bool:
        return True


@dataclass(frozen=True)
class Field:
    root: str
    path: tuple[str, ...] = ()

    def read(self, record: Mapping[str, Any]) -> Any:
        value = record.get(self.root)
        for segment in self.path:
            if isinstance(value, Mapping):
                value = value.get(segment, _MISSING)
            elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
                value = value[int(segment)]
            else:
                return None
            if value is _MISSING:
                return None
        return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return left == right


def _text_of(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Comparison(Predicate):
    field: Field
    operator: str
    literal: Any

    def matches(self, record: Mapping[str, Any]) -> bool:
        value = self.field.read(record)
        if self.operator == "==":
            return _same(value, self.literal)
        if self.operator == "!=":
            return not _same(value, self.literal)
        if self.operator == "~":
            text = _text_of(value)
            return text is not None and self.literal in text
        comparable = (_is_number(value) and _is_number(self.literal)) or (
            isinstance(value, str) and isinstance(self.literal, str))
        if not comparable:
            return False
        if self.operator == ">":
            return value > self.literal
        if self.operator == ">=":
            return value >= self.literal
        if self.operator == "<":
            return value < self.literal
        return value <= self.literal


@dataclass(frozen=True)
class KeyContains(Predicate):
    """A bare word: the record's key contains it."""

    word: str

    def matches(self, record: Mapping[str, Any]) -> bool:
        key = record.get("key")
        return isinstance(key, str) and self.word in key


@dataclass(frozen=True)
class Not(Predicate):
    operand: Predicate

    def matches(self, record: Mapping[str, Any]) -> bool:
        return not self.operand.matches(record)


@dataclass(frozen=True)
class AllOf(Predicate):
    operands: tuple[Predicate, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        return all(operand.matches(record) for operand in self.operands)


@dataclass(frozen=True)
class AnyOf(Predicate):
    operands: tuple[Predicate, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        return any(operand.matches(record) for operand in self.operands)


# The parser ------------------------------------------------------------------------------

def parse(text: str) -> Predicate:
    """The filter `text` says (blank: every record), or a PredicateError naming where it goes wrong."""
    if len(text) > MAX_LENGTH:
        raise PredicateError(f"a filter has at most {MAX_LENGTH} characters", MAX_LENGTH)
    if not text.strip():
        return Everything()
    return _Parser(_tokens(text)).whole()


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def _is_keyword(self, word: str) -> bool:
        return self.current.kind == "word" and self.current.text.lower() == word

    def _advance(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def whole(self) -> Predicate:
        predicate = self._or()
        if self.current.kind != "end":
            raise PredicateError(f"expected `and`, `or` or the end, found {self.current.text!r}", self.current.position)
        return predicate

    def _nested(self, position: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise PredicateError(f"a filter nests at most {MAX_DEPTH} deep", position)

    def _or(self) -> Predicate:
        operands = [self._and()]
        while self._is_keyword("or"):
            self._advance()
            operands.append(self._and())
        return operands[0] if len(operands) == 1 else AnyOf(tuple(operands))

    def _and(self) -> Predicate:
        operands = [self._not()]
        while self._is_keyword("and"):
            self._advance()
            operands.append(self._not())
        return operands[0] if len(operands) == 1 else AllOf(tuple(operands))

    def _not(self) -> Predicate:
        if self._is_keyword("not"):
            self._nested(self._advance().position)
            operand = self._not()
            self.depth -= 1
            return Not(operand)
        return self._primary()

    def _primary(self) -> Predicate:
        token = self.current
        if token.kind == "paren" and token.text == "(":
            self._nested(self._advance().position)
            inner = self._or()
            if not (self.current.kind == "paren" and self.current.text == ")"):
                raise PredicateError("expected `)`", self.current.position)
            self._advance()
            self.depth -= 1
            return inner
        if token.kind == "end":
            raise PredicateError("expected a field, a word or `(`", token.position)
        if token.kind in ("op", "paren") or (token.kind == "word" and token.text.lower() in ("and", "or")):
            raise PredicateError(f"expected a field, a word or `(`, found {token.text!r}", token.position)
        self._advance()
        if self.current.kind != "op":
            # A bare word (or a lone literal): the key contains it.
            return KeyContains(_unquote(token.text, token.position) if token.kind == "string" else token.text)
        if token.kind != "word":
            raise PredicateError("a comparison starts with a field (key, value.…, headers.…, partition, "
                                 "offset, timestamp)", token.position)
        field = self._field(token)
        operator = self._advance()
        literal = self._literal()
        if operator.text == "=":
            raise PredicateError("`=` is not a comparison: write `==`", operator.position)
        if operator.text == "~" and not isinstance(literal, str):
            raise PredicateError("`~` (contains) takes a string", operator.position + 1)
        return Comparison(field, operator.text, literal)

    def _field(self, token: _Token) -> Field:
        root, *rest = _segments(token.text, token.position)
        if root not in FIELDS:
            raise PredicateError(f"{root!r} is no field: fields are {', '.join(FIELDS)}", token.position)
        if rest and root not in ("value", "headers"):
            raise PredicateError(f"{root} has no fields (only value and headers do)", token.position + len(root))
        if root == "headers" and len(rest) != 1:
            raise PredicateError("name one header: headers.<name>", token.position)
        return Field(root, tuple(rest))

    def _literal(self) -> Any:
        token = self._advance()
        if token.kind == "string":
            return _unquote(token.text, token.position)
        if token.kind == "number":
            number = float(token.text)
            return int(number) if number.is_integer() and re.fullmatch(r"-?\d+", token.text) else number
        if token.kind == "word" and token.text.lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token.text.lower()]
        found = "the end" if token.kind == "end" else repr(token.text)
        raise PredicateError(f"expected a value (\"text\", a number, true, false, null), found {found}", token.position)


_SEGMENT = re.compile(rf"{_STRING}|[\w-]+")


def _segments(path: str, position: int) -> list[str]:
    return [_unquote(part, position) if part[0] in "\"'" else part for part in _SEGMENT.findall(path)]
