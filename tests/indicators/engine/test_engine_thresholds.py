"""Short-screen thresholds, "unknown is not no", coverage and the shape of explanations."""

import json

import pytest
from engine_instruments import build, mixed_data, short_screen_data

from indicators.engine import INDETERMINATE, score

SHORT_SCREEN = build(short_screen_data(items=6, threshold=2))
QYIT_LIKE = build(short_screen_data(items=4, threshold=1))


def answers_with(count_yes: int, total: int, rest: str = "no") -> dict[str, str]:
    return {
        f"screen_{number}": "yes" if number <= count_yes else rest for number in range(1, total + 1)
    }


@pytest.mark.parametrize(
    ("yes", "expected"), [(0, "negative"), (1, "negative"), (2, "positive"), (6, "positive")]
)
def test_short_screen_is_positive_at_two_or_more_yes(yes, expected):
    result = score(SHORT_SCREEN, answers_with(yes, 6)).to_dict()

    assert result["outcome"] == expected


@pytest.mark.parametrize(("yes", "expected"), [(0, "negative"), (1, "positive")])
def test_four_item_screen_is_positive_at_one_yes(yes, expected):
    assert score(QYIT_LIKE, answers_with(yes, 4)).to_dict()["outcome"] == expected


def test_unknown_is_not_no():
    answers = answers_with(1, 6)
    answers["screen_2"] = "unknown"

    result = score(SHORT_SCREEN, answers).to_dict()

    assert result["outcome"] == INDETERMINATE
    assert result["best_case"] == "negative"
    assert result["worst_case"] == "positive"
    rule = result["rules"][0]
    assert rule["status"] == "unknown"
    assert rule["value"] == {"yes": 1, "unknown": 1, "min": 1, "max": 2, "threshold": 2}
    undecided = [reason for reason in result["reasons"] if reason["status"] == "undecided"]
    assert {item["key"] for reason in undecided for item in reason["items"]} >= {"screen_2"}


def test_declined_scores_like_unknown_but_is_counted_as_declined():
    unknown = answers_with(1, 6)
    unknown["screen_2"] = "unknown"
    declined = {**unknown, "screen_2": "declined"}

    with_unknown = score(SHORT_SCREEN, unknown).to_dict()
    with_declined = score(SHORT_SCREEN, declined).to_dict()

    for field in ("outcome", "best_case", "worst_case", "rules"):
        assert with_declined[field] == with_unknown[field]
    assert with_unknown["coverage"] == {
        "asked": 6,
        "answered": 5,
        "unknown": 1,
        "declined": 0,
        "not_applicable": 0,
    }
    assert with_declined["coverage"]["declined"] == 1
    assert with_declined["coverage"]["unknown"] == 0


def test_missing_answers_count_as_unknown():
    result = score(SHORT_SCREEN, {"screen_1": "yes"}).to_dict()

    assert result["outcome"] == INDETERMINATE
    assert result["coverage"]["unknown"] == 5


def test_indeterminate_recommends_worst_case_actions_marked_provisional():
    result = score(SHORT_SCREEN, {"screen_1": "yes"}).to_dict()

    assert result["actions"] == [
        {"text": "Action for positive", "band": "positive", "provisional": True}
    ]


def test_items_hidden_by_show_if_are_not_applicable():
    mixed = build(mixed_data())

    result = score(mixed, {"works_there": "no"}, {"age": 30}).to_dict()

    # not_paid and long_hours follow "works_there"; school_missed is for under-18s only.
    assert result["coverage"]["not_applicable"] == 3
    assert result["coverage"]["asked"] == 10
    assert result["domains"]["wage_withholding"] == {"status": "absent", "yes": [], "unknown": []}


def test_show_if_undecided_keeps_the_item_applicable():
    mixed = build(mixed_data())

    result = score(mixed, {"works_there": "yes"}, {"age": None}).to_dict()

    assert result["coverage"]["not_applicable"] == 0
    assert result["domains"]["abuse_of_vulnerability"]["unknown"] == ["school_missed"]


def test_count_rule_explains_a_negative_screen_with_its_yes_answers():
    result = score(SHORT_SCREEN, answers_with(1, 6)).to_dict()

    not_met = [reason for reason in result["reasons"] if reason["status"] == "not_met"]
    rule_reason = next(reason for reason in not_met if reason["basis"] == "rule")
    assert rule_reason["conclusion"] == "positive"
    assert rule_reason["source"]["key"] == "greenbaum-2018"
    assert rule_reason["items"] == [
        {"key": "screen_1", "answer": "yes", "prompt": "Question screen_1?", "strength": None}
    ]


def test_flags_raised_and_possible():
    mixed = build(mixed_data())

    result = score(mixed, {"hit": "yes", "contact_ways": ["email"]}, {"age": 40}).to_dict()

    assert result["flags"] == ["immediate_danger", "urgent", "further_assessment"]
    assert result["possible_flags"] == []
    unknown = score(mixed, {"hit": "no"}, {"age": 40}).to_dict()
    assert unknown["flags"] == []
    assert unknown["possible_flags"] == ["immediate_danger", "urgent", "further_assessment"]


def test_result_is_json_serialisable_and_names_the_instrument_version():
    result = score(SHORT_SCREEN, answers_with(2, 6)).to_dict()

    assert json.loads(json.dumps(result)) == result
    assert result["engine_version"] == "1.1.0"
    assert result["instrument"] == {
        "slug": "short-screen-test",
        "version": 1,
        "content_hash": SHORT_SCREEN.content_hash(),
    }
    assert "dimensions" not in result  # no ilo_dimensions rule in a short screen


def test_weighted_sum_counts_open_items_only_in_the_upper_bound():
    mixed = build(mixed_data())
    answers = {"works_there": "yes", "not_paid": "yes", "long_hours": "no", "hit": "yes"}
    answers |= {"threatened": "no", "papers_taken": "no", "owes_money": "no"}
    answers |= {"locked_in": "unknown", "recruited_by": "friend", "hours_per_day": 8}

    result = score(mixed, answers, {"age": 30}).to_dict()

    concern = next(rule for rule in result["rules"] if rule["key"] == "concern")
    assert concern["value"] == {
        "min": 4,  # not_paid 1 + hit 3
        "max": 7,  # + locked_in 3 if it turns out "yes"
        "band": None,
        "best_band": "medium",
        "worst_band": "high",
    }
    assert concern["drivers"] == ["not_paid", "hit"]
    # "high" needs the score to reach 6: only locked_in decides it.
    assert (result["best_case"], result["worst_case"]) == ("concern", "high")
    assert score(mixed, {**answers, "locked_in": "no"}, {"age": 30}).to_dict()["outcome"] == (
        "concern"
    )
    assert score(mixed, {**answers, "locked_in": "yes"}, {"age": 30}).to_dict()["outcome"] == (
        "high"
    )
