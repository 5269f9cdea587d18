"""The connector editor's text: keys found at their line and column in JSON and YAML, values
taken as typed, refusals placed where they are, the template, and the diff before an update."""

from __future__ import annotations

import pytest

from backend.connect.models import PluginConfigField
from console.connector_text import (
    MASK,
    Change,
    ConfigTextError,
    Position,
    Span,
    diff,
    key_positions,
    parse,
    render,
    secret_keys,
    secret_spans,
    template,
    worker_message,
)

YAML_TEXT = """\
# a comment line
name: files-in
connector.class: org.apache.kafka.connect.file.FileStreamSourceConnector
tasks.max: 1
  # an indented comment
file:   "/tmp/in.txt"
topic: 'lines'
"""

JSON_TEXT = """\
{
  "name": "files-in",
  "connector.class": "FileStreamSource",
    "tasks.max": 1,
  "file": "/tmp/in.txt", "topic": "lines",
  "nested.like": "{\\"a\\": 1}"
}
"""


def test_yaml_keys_are_found_at_their_line_and_column():
    positions = key_positions(YAML_TEXT)
    assert positions["name"] == Position(2, 1)
    assert positions["tasks.max"] == Position(4, 1)
    assert positions["file"] == Position(6, 1)
    assert positions["topic"] == Position(7, 1)


def test_json_keys_are_found_at_their_line_and_column_also_two_on_a_line():
    positions = key_positions(JSON_TEXT)
    assert positions["name"] == Position(2, 3)
    assert positions["tasks.max"] == Position(4, 5)
    assert positions["file"] == Position(5, 3)
    assert positions["topic"] == Position(5, 26)
    assert set(positions) == {"name", "connector.class", "tasks.max", "file", "topic", "nested.like"}


def test_json_keys_are_found_even_when_the_text_does_not_parse():
    broken = '{\n  "name": "x",\n  "topic": "lines"\n  "file": "/tmp/in"\n}'
    assert key_positions(broken)["file"] == Position(4, 3)


def test_yaml_keys_are_found_even_when_the_text_does_not_parse():
    broken = "name: x\ntransforms:\n  - route\n  nested: 1\ntopic: lines\n"
    assert key_positions(broken) == {"name": Position(1, 1), "transforms": Position(2, 1), "topic": Position(5, 1)}


def test_values_are_taken_as_typed_as_strings():
    assert parse(YAML_TEXT).config == {
        "name": "files-in", "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1", "file": "/tmp/in.txt", "topic": "lines"}
    assert parse("a: 010\nb: yes\nc:\nd: 'null'\n").config == {"a": "010", "b": "yes", "c": "", "d": "null"}
    assert parse(JSON_TEXT).config["tasks.max"] == "1"
    assert parse(JSON_TEXT).config["nested.like"] == '{"a": 1}'
    assert parse('{"a": true, "b": null, "c": 1.5}').config == {"a": "true", "b": "", "c": "1.5"}


@pytest.mark.parametrize("text", [
    "name: n\ndb.password: s3cr3t-value\n",
    "name: n\n'db.password': \"s3cr3t-value\"  # a comment\n",
    '{"name": "n",\n  "db.password": "s3cr3t-value"}',
    '{"name": "n", "db.password": "s3cr3t-value", "topic": "t"}',
])
def test_secret_values_are_found_line_by_line_to_be_masked(text):
    spans = secret_spans(text, frozenset({"db.password"}))
    assert [text.splitlines()[s.line][s.start:s.end] for s in spans] == ["s3cr3t-value"]


def test_a_half_typed_secret_is_found_too():
    text = '{"name": "n",\n "db.password": "s3cr\n'
    assert secret_spans("db.password: s3cr\nbroken: [\n", frozenset({"db.password"})) == [Span(0, 13, 17)]
    (span,) = secret_spans(text, frozenset({"db.password"}))  # its closing quote not typed yet
    assert text.splitlines()[1][span.start:span.end].endswith("s3cr")
    assert secret_spans("note: a#b\n", frozenset({"note"})) == [Span(0, 6, 9)]


@pytest.mark.parametrize(("text", "where", "key"), [
    ("name: a\nname: b\n", Position(2, 1), None),  # the second one's line, not the key's first
    ('{"name": "a",\n "name": "b"}', Position(2, 2), None),
    ("name: a\ntransforms:\n  - x\n", Position(2, 1), "transforms"),
    ('{"name": "a",\n "t": {"x": 1}}', Position(2, 2), "t"),
    ("name: a\n  bad: indent\n", Position(2, 6), None),
    ('{"name": "a",\n "topic" "b"}', Position(2, 10), None),
    ("- a\n- b\n", Position(1, 1), None),
])
def test_refusals_say_where(text, where, key):
    with pytest.raises(ConfigTextError) as refused:
        parse(text)
    assert refused.value.position == where
    assert refused.value.key == key


def test_an_empty_text_is_an_empty_configuration():
    assert parse("# nothing yet\n").config == {}


@pytest.mark.parametrize("value", ["plain", "with space", "a: b", "#x", "", "null", " lead", "x #y", "true", "1",
                                   "${file:/s.properties:pw}", "C:\\dir", "ünï", "end:"])
def test_rendered_text_reads_back_the_same_in_both_formats(value):
    config = {"name": "n", "key.with.dots": value}
    assert parse(render(config, "yaml")).config == config
    assert parse(render(config, "json")).config == config


FIELDS = [
    PluginConfigField(name="file", type="STRING", required=False, documentation="Source filename."),
    PluginConfigField(name="topic", type="STRING", required=True, documentation="The topic to publish data to"),
    PluginConfigField(name="batch.size", type="INT", required=False, defaultValue="2000"),
    PluginConfigField(name="name", type="STRING", required=True, group="Common"),
    PluginConfigField(name="key.converter", type="CLASS", required=False, group="Common"),
    PluginConfigField(name="db.password", type="PASSWORD", required=True),
]
CLASS = "org.apache.kafka.connect.file.FileStreamSourceConnector"


def test_rendered_text_starts_with_the_name_and_class():
    text = render({"topic": "t", "connector.class": CLASS, "name": "n"}, "yaml")
    assert text.splitlines() == ["name: n", f"connector.class: {CLASS}", "topic: t"]


def test_the_template_holds_the_required_keys_and_offers_the_plugins_own():
    text = template(CLASS, FIELDS, "yaml")
    assert parse(text).config == {"name": "my-connector", "connector.class": CLASS, "tasks.max": "1",
                                  "topic": "", "db.password": ""}
    assert "# file:" in text and "# batch.size: 2000" in text
    assert "key.converter" not in text  # Connect's own optional keys are not offered
    assert parse(template(CLASS, FIELDS, "json")).config == parse(text).config


def test_a_sinks_template_asks_for_its_topics():
    sink = [PluginConfigField(name="topics", type="LIST", required=False, group="Common"),
            PluginConfigField(name="topics.regex", type="STRING", required=False, group="Common")]
    assert parse(template("FileStreamSinkConnector", sink, "yaml")).config["topics"] == ""
    assert "topics" not in parse(template(CLASS, FIELDS, "yaml")).config


def test_password_typed_keys_are_secrets():
    assert secret_keys(FIELDS) == {"db.password"}


def test_the_diff_lists_added_changed_and_removed_keys_with_secrets_masked():
    running = {"name": "n", "topic": "a", "file": "/x", "db.password": MASK, "api.token": MASK}
    edited = {"name": "n", "topic": "b", "db.password": "new-secret", "api.token": MASK, "batch.size": "10"}
    changes = diff(running, edited, secret_keys(FIELDS))
    assert changes == [Change("topic", "a", "b"), Change("db.password", MASK, MASK),
                       Change("batch.size", None, "10"), Change("file", "/x", None)]
    assert [str(c) for c in changes] == ["~ topic: a → b", "~ db.password: *** → ***", "+ batch.size: 10",
                                         "- file: /x"]
    assert "new-secret" not in " ".join(map(str, changes))


def test_no_change_no_diff():
    config = {"name": "n", "topic": "a", "db.password": MASK}
    assert diff(config, dict(config), frozenset({"db.password"})) == []


def test_a_workers_message_at_its_key_drops_what_the_line_already_says():
    said = "Invalid value many for configuration tasks.max: Not a number of type INT"
    assert worker_message("tasks.max", said) == "Not a number of type INT"
    assert worker_message("topic", said) == said  # about another key: kept whole
    assert worker_message("topic", "Missing required configuration") == "Missing required configuration"
