"""Bad answers and context values are refused, each naming its key; nothing is scored."""

import pytest
from engine_instruments import build, mixed_data

from indicators.engine import AnswerError, score, validate_answers

MIXED = build(mixed_data())


def refused(answers, context=None) -> dict[str, str]:
    with pytest.raises(AnswerError) as caught:
        score(MIXED, answers, context)
    return {
        f"{problem.section}.{problem.key}": problem.message for problem in caught.value.problems
    }


def test_unknown_item_key_is_named():
    assert set(refused({"hit": "yes", "hitt": "yes"})) == {"answers.hitt"}


def test_bad_value_for_yes_no_is_named():
    problems = refused({"hit": "maybe", "threatened": True})

    assert set(problems) == {"answers.hit", "answers.threatened"}
    # Named by its key, never by the value given (it may be a person's words).
    assert "maybe" not in problems["answers.hit"]


def test_option_not_in_options_is_named():
    problems = refused({"recruited_by": "cousin", "contact_ways": ["phone", "pigeon"]})

    assert set(problems) == {"answers.recruited_by", "answers.contact_ways"}
    assert "agency, friend" in problems["answers.recruited_by"]
    assert "cousin" not in problems["answers.recruited_by"]
    assert problems["answers.contact_ways"].startswith("entry 2 is not an option")
    assert "pigeon" not in problems["answers.contact_ways"]


def test_string_for_number_and_bad_dates_are_named():
    problems = refused({"hours_per_day": "twelve", "arrived_on": "2024-02-30"})

    assert set(problems) == {"answers.hours_per_day", "answers.arrived_on"}


def test_bad_context_keys_and_values_are_named():
    problems = refused({}, {"age": 130, "exploitation_type": "fishing", "nationality": "x"})

    assert set(problems) == {
        "context.age",
        "context.exploitation_type",
        "context.nationality",
    }


def test_every_valid_form_of_answer_is_accepted():
    answers = {
        "works_there": "yes",
        "hit": "no",
        "threatened": "unknown",
        "papers_taken": "declined",
        "hours_per_day": 12.5,
        "recruited_by": "agency",
        "contact_ways": [],
        "arrived_on": "2024-02-29",
    }

    assert validate_answers(MIXED, answers, {"age": None, "exploitation_type": "both"}) == []
    assert score(MIXED, answers, {"age": 17}).to_dict()["outcome"]


def test_error_message_lists_one_problem_per_line():
    with pytest.raises(AnswerError) as caught:
        score(MIXED, {"hit": "maybe", "ghost": "yes"})

    assert str(caught.value).splitlines() == [
        "answers.ghost: not an item of this instrument version",
        "answers.hit: not an answer to a yes/no question (yes, no, unknown, declined)",
    ]
    assert "maybe" not in str(caught.value)  # the value given is never repeated
