"""YAML read without aliases, anchors or tags beyond JSON's types, with bounded depth.

An alias is a pointer: a few hundred bytes of nested aliases stand for millions of values,
which every later step (validation, merge patch, storage) would walk. So the document is built
here from libyaml's events, one at a time, refusing any alias, anchor, unknown tag or level past
MAX_DEPTH as it comes, before anything is expanded. Event by event, the parsing thread lets go
of the interpreter often; libyaml's own composer would hold it for a whole document.

Scalars read as `yaml.safe_load` reads them (YAML 1.1: `yes` is true), except timestamps, which
stay strings as in YAML 1.2. Errors quote the position and the problem, never the source line:
a secret typed there must not come back in the answer."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from backend.bodies.policy import MAX_DEPTH, MAX_NUMBER_CHARS, BodyRefused
from backend.bodies.strict_json import utf8_text
from backend.bodies.tree import check_document, finite, float_of, integer_of, mapping_of

_CORE = "tag:yaml.org,2002:"
# JSON's types: what the documents are made of (an explicit `!!str` is harmless, `!!binary`,
# `!!set` or `!!python/…` are not).
_ALLOWED_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_RESOLVER = Resolver()
_SCALARS = SafeConstructor()  # only its scalar readers are used: they need no document
_NO_KEY = object()


def _at(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _refused(event: yaml.Event, error: str, what: str) -> BodyRefused:
    return BodyRefused.bad("body", error, f"YAML {what}{_at(event.start_mark)}: not accepted.")


def _explicit_tag(event: yaml.NodeEvent) -> str | None:
    if event.anchor is not None:
        raise _refused(event, "yaml_alias_not_allowed", "anchor")
    if event.tag is None or event.tag == "!":  # "!" is YAML's "no particular type"
        return None
    if event.tag not in _ALLOWED_TAGS:
        raise _refused(event, "yaml_tag_not_allowed", "tag")
    return event.tag


def _scalar(event: yaml.ScalarEvent) -> Any:
    text = event.value
    tag = _explicit_tag(event) or _RESOLVER.resolve(ScalarNode, text, event.implicit)
    node = ScalarNode(tag, text, event.start_mark, event.end_mark)
    if tag in (_CORE + "str", _CORE + "timestamp"):
        return text
    if tag == _CORE + "null":
        return None
    if tag == _CORE + "bool":
        return _SCALARS.construct_yaml_bool(node)
    if tag == _CORE + "int":  # bounded before int(): YAML's ints (hex, octal, base 60) all end in one
        return integer_of(text) if len(text) > MAX_NUMBER_CHARS else _SCALARS.construct_yaml_int(node)
    if tag == _CORE + "float":
        return float_of(text) if len(text) > MAX_NUMBER_CHARS else finite(_SCALARS.construct_yaml_float(node))
    if tag == _CORE + "merge":  # `<<` merges in what an alias names
        raise _refused(event, "yaml_alias_not_allowed", "merge key")
    raise BodyRefused.bad("body", "malformed_yaml", f"Malformed YAML{_at(event.start_mark)}: a value YAML cannot read")


class _Level:
    """An open list, or an open mapping's pairs so far and the key waiting for its value."""

    __slots__ = ("items", "key", "mapping")

    def __init__(self, mapping: bool) -> None:
        self.items: list[Any] = []
        self.key: Any = _NO_KEY
        self.mapping = mapping

    def add(self, value: Any) -> None:
        if not self.mapping:
            self.items.append(value)
        elif self.key is _NO_KEY:
            self.key = value
        else:
            self.items.append((self.key, value))
            self.key = _NO_KEY

    def close(self) -> Any:
        return mapping_of(self.items) if self.mapping else self.items


def _build(text: str) -> Any:
    levels: list[_Level] = []
    documents: list[Any] = []

    def add(value: Any) -> None:
        (levels[-1].add if levels else documents.append)(value)

    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.ScalarEvent):
            add(_scalar(event))
        elif isinstance(event, yaml.CollectionStartEvent):
            _explicit_tag(event)
            if levels and levels[-1].mapping and levels[-1].key is _NO_KEY:
                raise BodyRefused.bad("body", "malformed_yaml",
                                      f"Malformed YAML{_at(event.start_mark)}: a mapping key must be a plain value")
            if len(levels) == MAX_DEPTH:
                raise BodyRefused.bad("body", "too_deep",
                                      f"The body nests deeper than {MAX_DEPTH} levels{_at(event.start_mark)}.")
            levels.append(_Level(mapping=isinstance(event, yaml.MappingStartEvent)))
        elif isinstance(event, yaml.CollectionEndEvent):
            add(levels.pop().close())
        elif isinstance(event, yaml.AliasEvent):
            raise _refused(event, "yaml_alias_not_allowed", "alias")
    if len(documents) > 1:
        raise BodyRefused.bad("body", "malformed_yaml", "Malformed YAML: one document is expected, not several.")
    return documents[0] if documents else None


def _problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow: no line, an offset
        return f"Malformed YAML at character {exc.position + 1}: {exc.reason}"
    problem = getattr(exc, "problem", None) or "cannot be parsed"
    return f"Malformed YAML{_at(getattr(exc, 'problem_mark', None))}: {problem}"


def parse_yaml(raw: bytes) -> Any:
    text = utf8_text(raw)
    try:
        document = _build(text)
    except yaml.YAMLError as exc:
        problem = _problem(exc)
        # libyaml scans flow collections ahead of its events and stops at 1,000 levels itself
        error = "too_deep" if "maximum nesting depth" in problem else "malformed_yaml"
        raise BodyRefused.bad("body", error, problem) from None
    check_document(document)
    return document
