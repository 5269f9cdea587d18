"""Worker JSON -> the Kafka Connect family's shapes, and the masking of secrets (the answers
here are as a Kafka Connect 4.x worker gives them; tests/kafka/test_connect_api.py checks the
mapping against a real one)."""

from __future__ import annotations

import pytest

from backend.connect.mapping import (
    MASK,
    details,
    field_errors,
    is_secret,
    list_items,
    mask_config,
    resolve_plugin,
    scrub,
    topics_of,
    unmask_config,
    validation,
)

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
PLUGINS = [{"class": SINK, "type": "sink", "version": "4.3.1"},
           {"class": SOURCE, "type": "source", "version": "4.3.1"}]


def expanded(name: str, config: dict, state: str = "RUNNING", tasks: list | None = None, kind: str = "source"):
    return {name: {"status": {"name": name, "connector": {"state": state, "worker_id": "w1:8083"},
                              "tasks": tasks if tasks is not None else [], "type": kind},
                   "info": {"name": name, "config": {**config, "name": name}, "tasks": [], "type": kind}}}


def test_a_list_item_takes_its_class_from_the_plugin_list_whatever_alias_the_config_uses():
    answer = {**expanded("a", {"connector.class": "FileStreamSink", "topics": "t1, t2"}, kind="sink",
                         tasks=[{"id": 1, "state": "FAILED", "worker_id": "w2", "trace": "boom"},
                                {"id": 0, "state": "RUNNING", "worker_id": "w1"}]),
              **expanded("b", {"connector.class": "FileStreamSource", "topic": "t3"}, state="PAUSED")}

    items = list_items("prod", "main", answer, PLUGINS)

    assert [(i.name, i.className, i.type, i.state, i.topics) for i in items] == [
        ("a", SINK, "sink", "RUNNING", ["t1", "t2"]), ("b", SOURCE, "source", "PAUSED", ["t3"])]
    assert [(t.id, t.state) for t in items[0].tasks] == [(0, "RUNNING"), (1, "FAILED")]
    assert items[0].lrn == "kafka-connect:connector/prod/main/a" and items[0].workerId == "w1:8083"


def test_a_connector_the_worker_is_still_setting_up_is_listed_with_what_is_known():
    items = list_items("prod", "main", {"new": {"status": None, "info": {"name": "new", "config": {}}},
                                        "odd": {"status": {"connector": {"state": "SOMETHING-NEW"}, "tasks": "x"}}},
                       PLUGINS)

    assert [(i.name, i.state, i.tasks, i.className) for i in items] == [("new", None, [], None),
                                                                        ("odd", None, [], None)]


def test_an_unknown_class_is_shown_as_configured():
    assert resolve_plugin("com.acme.Unknown", PLUGINS) is None
    assert list_items("e", "c", expanded("x", {"connector.class": "com.acme.Unknown"}), PLUGINS)[0].className == \
        "com.acme.Unknown"


@pytest.mark.parametrize("key", ["my.password", "ssl.key.password", "sasl.jaas.config", "aws.secret.access.key",
                                 "api.key", "apikey", "oauth.token", "basic.auth.user.info", "db.credentials"])
def test_keys_named_like_secrets_are_secrets(key):
    assert is_secret(key)


@pytest.mark.parametrize("key", ["key.converter", "key.ignore", "topic", "tasks.max", "file", "connector.class"])
def test_other_keys_are_not(key):
    assert not is_secret(key)


def test_a_key_the_plugin_types_password_is_a_secret_whatever_its_name():
    assert mask_config({"connection.url": "jdbc:x", "plain": "p"}, {"connection.url"}) == {
        "connection.url": MASK, "plain": "p"}


def test_the_mask_sent_back_keeps_the_stored_value_and_a_mask_with_nothing_stored_is_named():
    kept, missing = unmask_config({"my.password": MASK, "api.key": MASK, "file": "/f"},
                                  {"my.password": "stored-pw", "file": "/old"})

    assert kept == {"my.password": "stored-pw", "file": "/f"}
    assert missing == ["api.key"]


def test_details_mask_the_configuration_and_carry_each_trace():
    info = {"name": "d", "type": "source", "config": {"connector.class": SOURCE, "db.password": "pw", "topic": "t"}}
    status = {"name": "d", "connector": {"state": "FAILED", "worker_id": "w", "trace": "connector trace",
                                         "version": "4.3.1"},
              "tasks": [{"id": 0, "state": "FAILED", "worker_id": "w", "trace": "task trace"}], "type": "source"}

    answer = details("prod", "main", info, status, PLUGINS, frozenset())

    assert answer.config == {"connector.class": SOURCE, "db.password": MASK, "topic": "t"}
    assert (answer.trace, answer.tasks[0].trace, answer.tasks[0].id, answer.version) == (
        "connector trace", "task trace", "0", "4.3.1")


def test_validation_is_per_key_masks_password_values_and_scrubs_them_from_messages():
    answer = {"name": SOURCE, "error_count": 2, "configs": [
        {"definition": {"name": "tasks.max", "type": "INT", "required": False, "default_value": "1",
                        "documentation": "Max tasks", "order_in_group": 4},
         "value": {"name": "tasks.max", "value": "many", "errors": ["Invalid value many for tasks.max"],
                   "visible": True}},
        {"definition": {"name": "conn.secretive", "type": "PASSWORD", "required": True, "documentation": "",
                        "order_in_group": 1},
         "value": {"name": "conn.secretive", "value": "[hidden]", "errors": ["Invalid value s3cr3t-v for it"],
                   "visible": True}}]}

    result = validation(answer, secrets=["s3cr3t-v"])

    assert result.errorCount == 2 and result.class_ == SOURCE
    assert [(f.name, f.value, f.defaultValue) for f in result.configuration] == [
        ("tasks.max", "many", "1"), ("conn.secretive", MASK, None)]
    assert [(e.field, e.error) for e in field_errors(result)] == [
        ("tasks.max", "Invalid value many for tasks.max"), ("conn.secretive", f"Invalid value {MASK} for it")]


def test_scrub_leaves_text_without_secrets_alone_and_ignores_trivial_values():
    assert scrub("nothing to hide", ["pw-value"]) == "nothing to hide"
    assert scrub("value 1 of 10", ["1"]) == "value 1 of 10"


def test_topics_named_by_the_configuration():
    assert topics_of({"topics.regex": "orders-.*"}) == ["orders-.*"]
    assert topics_of({"topics": "a,,b, a"}) == ["a", "b"]
    assert topics_of({}) == []
