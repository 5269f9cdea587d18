"""YAML parsed without aliases, anchors or tags beyond JSON's types, with bounded depth.

An alias is a pointer: a few hundred bytes of nested aliases stand for millions of values,
which every later step (validation, merge patch, storage) would walk. So the events are read
first, with libyaml's parser (a loop, not a recursion), and any alias, anchor, unknown tag or
level past MAX_DEPTH refuses the body before a single node is built. Errors quote the position
and the problem, never the source line: a secret typed there must not come back in the answer."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, ScalarNode

from backend.bodies.policy import MAX_DEPTH, MAX_NUMBER_CHARS, BodyRefused
from backend.bodies.strict_json import utf8_text
from backend.bodies.tree import Refusal, check_document, finite, float_of, integer_of, mapping_of

_CORE = "tag:yaml.org,2002:"
# JSON's types: what the documents are made of (an explicit `!!str` is harmless, `!!binary`,
# `!!set` or `!!python/…` are not).
_ALLOWED_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_OPENING = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSING = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _at(mark: Any) -> str:
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _refuse(event: yaml.Event, error: str, what: str) -> BodyRefused:
    return BodyRefused.bad("body", error, f"YAML {what}{_at(event.start_mark)}: not accepted.")


def _check_events(text: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise _refuse(event, "yaml_alias_not_allowed", "alias")
        if getattr(event, "anchor", None) is not None:
            raise _refuse(event, "yaml_alias_not_allowed", "anchor")
        tag = getattr(event, "tag", None)
        if tag is not None and tag not in _ALLOWED_TAGS:
            raise _refuse(event, "yaml_tag_not_allowed", "tag")
        if isinstance(event, _OPENING):
            depth += 1
            if depth > MAX_DEPTH:
                raise BodyRefused.bad("body", "too_deep",
                                      f"The body nests deeper than {MAX_DEPTH} levels{_at(event.start_mark)}.")
        elif isinstance(event, _CLOSING):
            depth -= 1


class _Loader(yaml.CSafeLoader):
    """libyaml's safe loader whose numbers, timestamps and mappings are built as in strict JSON."""

    def construct_mapping_once(self, node: MappingNode) -> dict[Any, Any] | Refusal:
        # Without aliases no mapping can contain itself, so it is built in one go
        # (SafeConstructor's two-step generator exists for recursive documents).
        self.flatten_mapping(node)
        pairs = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(None, None, "a mapping key must be a plain value", key_node.start_mark)
            pairs.append((self.construct_object(key_node), self.construct_object(value_node, deep=True)))
        return mapping_of(pairs)

    def construct_integer(self, node: ScalarNode) -> int | Refusal:
        # bounded before int(): YAML's ints (hex, octal, base 60) all end in one
        return integer_of(node.value) if len(node.value) > MAX_NUMBER_CHARS else self.construct_yaml_int(node)

    def construct_real(self, node: ScalarNode) -> float | Refusal:
        return float_of(node.value) if len(node.value) > MAX_NUMBER_CHARS else finite(self.construct_yaml_float(node))


_Loader.add_constructor(_CORE + "map", _Loader.construct_mapping_once)
_Loader.add_constructor(_CORE + "int", _Loader.construct_integer)
_Loader.add_constructor(_CORE + "float", _Loader.construct_real)
# YAML 1.2 has no timestamps: `2026-11-23T07:00:00Z` stays the string the models expect.
_Loader.add_constructor(_CORE + "timestamp", SafeConstructor.construct_yaml_str)


def _problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "cannot be parsed"
    return f"Malformed YAML{_at(mark)}: {problem}"


def parse_yaml(raw: bytes) -> Any:
    text = utf8_text(raw)
    try:
        _check_events(text)
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        problem = _problem(exc)
        # libyaml scans flow collections ahead of its events and stops at 1,000 levels itself
        error = "too_deep" if "maximum nesting depth" in problem else "malformed_yaml"
        raise BodyRefused.bad("body", error, problem) from None
    check_document(document)
    return document
