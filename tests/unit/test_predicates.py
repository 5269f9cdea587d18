"""The record filter language (backend/streams/predicates.py): what each form selects, how a
missing field and mixed types compare, and that every refusal names where the text goes wrong."""

from __future__ import annotations

import pytest

from backend.streams.predicates import MAX_DEPTH, MAX_LENGTH, PredicateError, parse

ORDER = {
    "eventId": "orders:3:120", "partition": 3, "offset": 120, "timestamp": "2026-12-01T14:00:00.000Z",
    "key": "order-42", "headers": {"source": "web", "trace.id": "t-1"},
    "value": {"amount": 12.5, "user": {"id": "u1", "vip": True}, "items": [{"sku": "a"}, {"sku": "b"}],
              "note": None, "count": 1},
}


def matches(text: str, record: dict = ORDER) -> bool:
    return parse(text).matches(record)


@pytest.mark.parametrize("text", [
    'key ~ "der-4"', 'key == "order-42"', "value.amount > 10", "value.amount >= 12.5", "value.amount < 13",
    'value.user.id == "u1"', 'headers.source == "web"', "partition == 3", "offset >= 100 and offset < 200",
    'headers."trace.id" == "t-1"', 'value.items.1.sku == "b"', "value.user.vip == true", "value.note == null",
    "value.missing == null", 'value.missing != "x"', 'timestamp >= "2026-12-01"', "order", "der-42", '"order"',
    'not key == "x"', 'key == "x" or partition == 3', '(key == "x" or partition == 3) and not offset < 100',
    'value ~ "\\"sku\\":\\"a\\""', "value.user ~ 'u1'", "KEY == 'order-42'".replace("KEY", "key"),
    "partition == 3 AND offset == 120", "", "   ", 'eventId == "orders:3:120"', "value.count != true",
])
def test_these_select_the_order(text: str) -> None:
    assert matches(text)


@pytest.mark.parametrize("text", [
    'key ~ "ORDER"', 'key == "order"', "value.amount > 12.5", "value.amount < 10", 'value.user.id == "u2"',
    'headers.source == "app"', "headers.missing ~ \"x\"", "partition == 4", "partition != 3", "nothing",
    "not order", 'key == "order-42" and partition == 4', "value.user.vip == 1", "value.count == true",
    'value.amount > "10"', "value.note > 0", "value.missing ~ \"\"", "value.items.9.sku != null",
    'value.items.x == "a"', "value.note ~ \"null\"",
])
def test_these_do_not(text: str) -> None:
    assert not matches(text)


def test_a_missing_field_is_null_and_or_and_not_group_as_usual() -> None:
    record = {"key": None, "value": "plain text", "headers": {}, "partition": 0, "offset": 5}
    assert matches("value.amount == null", record)
    assert matches('value ~ "plain"', record)
    assert not matches("anything", record)  # a record without a key holds no word
    # and binds tighter than or: true or (false and false)
    assert matches("partition == 0 or partition == 1 and offset == 6", record)
    assert not matches("(partition == 0 or partition == 1) and offset == 6", record)
    assert matches("not not partition == 0", record)


def test_numbers_strings_and_escapes_are_read_as_json_does() -> None:
    record = {"key": 'say "hi"\n', "value": {"n": -3, "e": 1e3, "t": "tab\there"}}
    assert matches('key == "say \\"hi\\"\\n"', record)
    assert matches("key == 'say \"hi\"\\n'", record)
    assert matches("value.n == -3 and value.n < -2.5 and value.e == 1000", record)
    assert matches('value.t == "tab\\u0009here"', record)


@pytest.mark.parametrize(("text", "position", "words"), [
    ("key ==", 6, "expected a value"),
    ('key == "abc', 7, "unclosed string"),
    ("amount > 10", 0, "'amount' is no field"),
    ("partition.x == 1", 9, "partition has no fields"),
    ("headers == 1", 0, "name one header"),
    ('key = "a"', 4, "write `==`"),
    ("key ~ 10", 5, "takes a string"),
    ("(key == 'a'", 11, "expected `)`"),
    ("key == 'a' partition == 1", 11, "expected `and`, `or` or the end"),
    ("and key == 'a'", 0, "expected a field"),
    ("key == 'a' and", 14, "expected a field"),
    ("10 > partition", 0, "starts with a field"),
    ("key == 'a' $ 2", 11, "'$' is not understood"),
    ('key == "\\q"', 7, "unknown escape"),
    ("key == )", 7, "expected a value"),
])
def test_a_refusal_names_the_character_at_fault(text: str, position: int, words: str) -> None:
    with pytest.raises(PredicateError) as refused:
        parse(text)
    assert refused.value.position == position, refused.value
    assert words in refused.value.message
    assert f"at character {position + 1}" in str(refused.value)


def test_the_text_and_its_nesting_are_bounded() -> None:
    with pytest.raises(PredicateError, match="at most 1000 characters"):
        parse("a" * (MAX_LENGTH + 1))
    parse(" or ".join(["k"] * 200)[:MAX_LENGTH].rsplit(" or", 1)[0])  # long but flat is fine
    deep = "(" * MAX_DEPTH + "k" + ")" * MAX_DEPTH
    assert matches(deep, {"key": "k"})
    with pytest.raises(PredicateError, match="nests at most") as refused:
        parse("(" * (MAX_DEPTH + 1) + "k" + ")" * (MAX_DEPTH + 1))
    assert refused.value.position == MAX_DEPTH
    with pytest.raises(PredicateError, match="nests at most"):
        parse("not " * (MAX_DEPTH + 1) + "k")
