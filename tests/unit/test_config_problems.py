"""Problems with a connector's text placed at the lines of their keys: the worker's fields, the
request model's refusals, and what is said when no key is named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backend.connect.models import MAX_CONFIG_VALUE, FieldError, NewConnector
from console.client import APIError
from console.client.connect import ConnectAPIError
from console.config_problems import Problem, place, problems_of, refused_by_model
from console.connector_text import Position, key_positions

TEXT = "name: files-in\ntasks.max: many\ntopic: ''\n"


def test_problems_are_placed_at_their_keys_line_and_joined_on_one_line():
    problems = [Problem("Not a number", "tasks.max"), Problem("Must be non-null", "tasks.max"),
                Problem("Bad indent", position=Position(3, 4)), Problem("Something else")]
    marks, listing = place(problems, key_positions(TEXT))
    assert marks == {1: "Not a number; Must be non-null", 2: "Bad indent"}
    assert listing.plain.splitlines() == ["line 2: tasks.max: Not a number", "line 2: tasks.max: Must be non-null",
                                          "line 3: Bad indent", "Something else",
                                          "4 problems; ctrl+n goes to the next. Your text is kept."]


def test_a_key_found_wins_over_a_position_and_a_key_not_in_the_text_falls_back_to_it():
    marks, _ = place([Problem("x", "topic", Position(1, 1)), Problem("y", "file", Position(1, 1))],
                     key_positions(TEXT))
    assert marks == {2: "x", 0: "y"}


def test_the_workers_fields_become_problems_at_their_keys():
    error = ConnectAPIError(400, "The configuration has 2 error(s)", fields=[
        FieldError(field="tasks.max", error="Invalid value many for configuration tasks.max: Not a number of type INT"),
        FieldError(field="configuration.topic", error="Missing required configuration")])
    assert problems_of(error) == [Problem("Not a number of type INT", "tasks.max"),
                                  Problem("Missing required configuration", "topic")]
    assert problems_of(APIError(503, "No agent"), "Not checked") == [Problem("Not checked: No agent")]


def test_the_request_models_refusals_name_their_key():
    with pytest.raises(ValidationError) as refused:
        NewConnector(name="n", cluster="c", configuration={"file": "x" * (MAX_CONFIG_VALUE + 1)})
    (problem,) = refused_by_model(refused.value)
    assert problem.key == "file" and "at most" in problem.message
