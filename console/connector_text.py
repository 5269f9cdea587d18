"""A connector's configuration as the editor's text (JSON or YAML) and back: the flat string map
Kafka Connect takes, where each key sits in the text (so an error from the worker is shown at
its line), the template a plugin's field definitions give, and the diff against the running
configuration. Pure functions: no Textual, no HTTP.

Positions are 1-based, as the API's `lineNumber`/`columnNumber`. YAML scalars are taken as
written (`tasks.max: 1` is "1", `yes` stays "yes"): Connect parses its own values, and YAML 1.1's
guesses (`010` → 8, `on` → true) would change what the user typed."""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Literal

import yaml

from backend.connect.models import PluginConfigField

Format = Literal["json", "yaml"]
MASK = "***"  # what the API answers for a secret, and keeps the stored value for when sent back
SECRET_TYPE = "PASSWORD"
FIXED_KEYS = ("name", "connector.class", "tasks.max")  # the template fills these itself
SINK_TOPICS_REGEX = "topics.regex"  # only a sink plugin defines it

_YAML_NULL = "tag:yaml.org,2002:null"
_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\]:,]|[^\s{}\[\],:"]+')
_JSON_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*"((?:[^"\\]|\\.)*)"')
_YAML_PAIR = re.compile(r"""\s*(["']?)([^"'#:\s][^"'#:]*?)\1\s*:[ \t]+(["']?)(.*?)\3[ \t]*(?:[ \t]#.*)?$""")
_YAML_KEY = re.compile(r"""(["']?)([^\s#"'-][^"'#:]*?)\1\s*:(?:\s|$)""")
_WORKER_MESSAGE = re.compile(r"Invalid value (.*) for configuration (\S+): (.+)", re.S)
_PLAIN = re.compile(r"[A-Za-z0-9_$/.({][^#\n]*")


@dataclass(frozen=True)
class Position:
    line: int
    column: int


@dataclass(frozen=True)
class Span:
    """Where a one-line value's characters are: 0-based line, columns [start, end)."""

    line: int
    start: int
    end: int


@dataclass
class ParsedConfig:
    config: dict[str, str]
    keys: dict[str, Position] = field(default_factory=dict)


class ConfigTextError(ValueError):
    """The text is not a flat configuration; `position` says where, when it can be known, and
    `key` the key it is about when its (first) line is the place to show it."""

    def __init__(self, message: str, position: Position | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position
        self.key = key


def format_of(text: str) -> Format:
    return "json" if text.lstrip().startswith("{") else "yaml"


def parse(text: str) -> ParsedConfig:
    """The configuration the text holds, with each key's position; ConfigTextError when it is
    not one mapping of keys to single values."""
    return _parse_json(text) if format_of(text) == "json" else _parse_yaml(text)


def key_positions(text: str) -> dict[str, Position]:
    """Where each top-level key of the text is (its first occurrence), also while the text does
    not parse (read from its tokens, or for YAML its unindented `key:` lines)."""
    try:
        return parse(text).keys
    except ConfigTextError:
        return _json_scan(text)[0] if format_of(text) == "json" else _yaml_scan(text)


# JSON


def _parse_json(text: str) -> ParsedConfig:
    try:
        document = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as exc:
        raise ConfigTextError(exc.msg, Position(exc.lineno, exc.colno)) from exc
    keys, repeated = _json_scan(text)
    if not isinstance(document, _Pairs):
        raise ConfigTextError("The configuration is one object of keys to values.", Position(1, 1))
    config: dict[str, str] = {}
    for key, value in document:
        if key in config:
            raise ConfigTextError(f"The key {key!r} appears more than once.", repeated.get(key))
        if isinstance(value, list):
            raise ConfigTextError(f"{key}: a value is one string (Connect's configuration is flat).",
                                  keys.get(key), key)
        config[key] = _json_scalar(value)
    return ParsedConfig(config, keys)


class _Pairs(list):
    """A JSON object as its pairs in order, so that a repeated key is seen, not overwritten."""


def _json_scalar(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _json_scan(text: str) -> tuple[dict[str, Position], dict[str, Position]]:
    """The keys of the outermost object with their positions, and where a key is first repeated:
    read from the tokens, so that it works on text json.loads refuses too."""
    starts = _line_starts(text)
    keys: dict[str, Position] = {}
    repeated: dict[str, Position] = {}
    depth, previous = 0, None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
        elif token == ":" and depth == 1 and previous is not None and previous.group().startswith('"'):
            key = _json_string(previous.group())
            where = _position(starts, previous.start())
            if key in keys:
                repeated.setdefault(key, where)
            else:
                keys[key] = where
        previous = match
    return keys, repeated


def _json_string(token: str) -> str:
    try:
        return json.loads(token)
    except json.JSONDecodeError:
        return token.strip('"')


def _line_starts(text: str) -> list[int]:
    return [0, *(i + 1 for i, c in enumerate(text) if c == "\n")]


def _position(starts: list[int], offset: int) -> Position:
    line = bisect_right(starts, offset)
    return Position(line, offset - starts[line - 1] + 1)


# YAML


def _parse_yaml(text: str) -> ParsedConfig:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = Position(mark.line + 1, mark.column + 1) if mark is not None else None
        raise ConfigTextError(str(exc.problem or exc).capitalize(), where) from exc
    except yaml.YAMLError as exc:
        raise ConfigTextError(str(exc)) from exc
    parsed = ParsedConfig({})
    if root is None:
        return parsed
    if not isinstance(root, yaml.MappingNode):
        raise ConfigTextError("The configuration is one mapping of keys to values.", _mark(root.start_mark))
    for key_node, value_node in root.value:
        key, where = str(key_node.value), _mark(key_node.start_mark)
        if key in parsed.config:
            raise ConfigTextError(f"The key {key!r} appears more than once.", where)
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(value_node, yaml.ScalarNode):
            raise ConfigTextError(f"{key}: a value is one string (Connect's configuration is flat).", where, key)
        parsed.config[key] = "" if value_node.tag == _YAML_NULL else value_node.value
        parsed.keys[key] = where
    return parsed


def _yaml_scan(text: str) -> dict[str, Position]:
    keys: dict[str, Position] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if (pair := _YAML_KEY.match(line)) and pair.group(2) not in keys:
            keys[pair.group(2)] = Position(number, 1)
    return keys


def _mark(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


# writing


def render(config: dict[str, str], fmt: Format) -> str:
    """The configuration as text, `name`, `connector.class` and `tasks.max` first (the worker
    answers its keys in no useful order)."""
    config = {**{k: config[k] for k in FIXED_KEYS if k in config}, **config}
    if fmt == "json":
        return json.dumps(config, indent=2, ensure_ascii=False) + "\n"
    return "".join(f"{_yaml_scalar(key)}: {_yaml_scalar(value)}\n" for key, value in config.items())


def _yaml_scalar(value: str) -> str:
    """Plain when YAML reads it back as the same characters, else double-quoted (JSON's escapes
    are YAML's)."""
    plain = _PLAIN.fullmatch(value) and value == value.strip() and ": " not in value \
        and value.lower() not in ("null", "~") and not value.endswith(":")
    return value if plain else json.dumps(value, ensure_ascii=False)


def template(class_name: str, fields: list[PluginConfigField], fmt: Format, name: str = "my-connector") -> str:
    """A new connector of the plugin: the keys it requires (empty, to fill in), and in YAML its
    own optional keys as comments with their defaults."""
    config = {"name": name, "connector.class": class_name, "tasks.max": "1"}
    for definition in sorted(fields, key=lambda f: (f.order if f.order is not None else 1 << 30, f.name)):
        if definition.required and definition.name not in config:
            config[definition.name] = definition.defaultValue or ""
    if any(f.name == SINK_TOPICS_REGEX for f in fields):  # a sink: Connect wants `topics` or `topics.regex`
        config.setdefault("topics", "")
    if fmt == "json":
        return render(config, "json")
    short = class_name.rsplit(".", 1)[-1]
    lines = [f"# A new {short}. ctrl+s creates it (validated first); ctrl+l checks it now.\n"]
    for key, value in config.items():
        documentation = next((f.documentation for f in fields if f.name == key and key not in FIXED_KEYS), None)
        lines.append(f"{_yaml_scalar(key)}: {_yaml_scalar(value)}{_comment(documentation)}\n")
    optional = [f for f in fields if not f.required and f.group is None and f.name not in config]
    if optional:
        lines.append(f"# {short}'s other keys (their defaults shown):\n")
        for definition in optional:
            default = _yaml_scalar(definition.defaultValue) if definition.defaultValue is not None else ""
            lines.append(f"# {definition.name}: {default}{_comment(definition.documentation)}\n")
    return "".join(lines)


def _comment(documentation: str | None) -> str:
    if not documentation:
        return ""
    first = documentation.strip().split("\n")[0]
    return f"  # {first[:70]}{'…' if len(first) > 70 else ''}"


def secret_keys(fields: list[PluginConfigField]) -> frozenset[str]:
    return frozenset(f.name for f in fields if f.type.upper() == SECRET_TYPE)


def secret_spans(text: str, secrets: frozenset[str]) -> list[Span]:
    """Where the values of secret keys are, line by line, so the editor can draw them masked: read
    per line (not parsed) so a secret stays hidden while the text around it is half typed."""
    spans = []
    for number, line in enumerate(text.splitlines()):
        found = [(m.group(1), m.span(2)) for m in _JSON_PAIR.finditer(line)]
        if not found and (pair := _YAML_PAIR.match(line)):
            found = [(pair.group(2), pair.span(4))]
        for key, (start, end) in found:
            if _json_string(f'"{key}"') in secrets and end > start:
                spans.append(Span(number, start, end))
    return spans


def worker_message(key: str, message: str) -> str:
    """A worker's validation message, said once: at the key's line, "Invalid value many for
    configuration tasks.max: Not a number of type INT" is "Not a number of type INT"."""
    said = _WORKER_MESSAGE.match(message)
    return said.group(3) if said and said.group(2) == key else message


# the diff before an update


@dataclass(frozen=True)
class Change:
    key: str
    old: str | None  # None: the key is new
    new: str | None  # None: the key goes

    def __str__(self) -> str:
        if self.old is None:
            return f"+ {self.key}: {self.new}"
        if self.new is None:
            return f"- {self.key}: {self.old}"
        return f"~ {self.key}: {self.old} → {self.new}"


def diff(running: dict[str, str], edited: dict[str, str], secrets: frozenset[str] = frozenset()) -> list[Change]:
    """What an update changes, key by key in the edited order then the removed ones. A secret
    sent back as "***" keeps its stored value, so it is no change; a new secret shows as "***"."""

    def shown(key: str, value: str) -> str:
        return MASK if key in secrets or value == MASK else value

    changes = []
    for key, value in edited.items():
        if value == MASK and key in running:
            continue
        old = running.get(key)
        if old != value:
            changes.append(Change(key, shown(key, old) if old is not None else None, shown(key, value)))
    changes.extend(Change(key, shown(key, old), None) for key, old in running.items() if key not in edited)
    return changes
