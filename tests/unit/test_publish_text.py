"""The publish editor's reading of what was typed (console/publish_text.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.publish_text import TextError, event_of_line, parse_headers, parse_value, read_batch_file


def test_headers_are_name_value_lines():
    assert parse_headers("source: web\n\ntrace-id:  a:b \n") == {"source": "web", "trace-id": "a:b"}
    with pytest.raises(TextError) as refused:
        parse_headers("source: web\nno colon here")
    assert (refused.value.line, refused.value.message) == (2, "a header is `name: value`")
    with pytest.raises(TextError, match="twice") as twice:
        parse_headers("a: 1\na: 2")
    assert twice.value.line == 2


def test_a_value_is_json_and_its_error_has_line_and_column():
    assert parse_value('{"amount": 10}') == {"amount": 10}
    assert parse_value('"text"') == "text"
    with pytest.raises(TextError) as refused:
        parse_value('{\n  "amount": 10,\n  "user": }')
    assert (refused.value.line, refused.value.column) == (3, 11)
    with pytest.raises(TextError, match="the value is JSON"):
        parse_value("  ")


def test_a_batch_line_is_an_event_or_the_value_of_one(tmp_path: Path):
    assert event_of_line({"key": "k", "value": 1, "headers": {"a": "b"}}) == {"key": "k", "value": 1,
                                                                              "headers": {"a": "b"}}
    assert event_of_line({"amount": 1}) == {"value": {"amount": 1}}
    assert event_of_line({"value": 1, "other": 2}) == {"value": {"value": 1, "other": 2}}
    assert event_of_line([1, 2]) == {"value": [1, 2]}
    file = tmp_path / "events.jsonl"
    file.write_text('{"key": "a", "value": 1}\n\n{"amount": 2}\n{broken\n"text"\n')
    batch = read_batch_file(file)
    assert batch.events == [(1, {"key": "a", "value": 1}), (3, {"value": {"amount": 2}}), (5, {"value": "text"})]
    assert [(f.line, f.column) for f in batch.failures] == [(4, 2)]
    with pytest.raises(TextError, match="cannot read"):
        read_batch_file(tmp_path / "missing.jsonl")
