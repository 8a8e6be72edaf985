"""The ILO/EC two-step rule (shared/domain/instruments.md §1), straight from its thresholds."""

from itertools import product

import pytest
from engine_instruments import DIMENSIONS, GRADES, build, ilo_adult_data, indicator_key

from indicators.engine import score

ILO = build(ilo_adult_data())


def all_no() -> dict[str, str]:
    return {item.key: "no" for item in ILO.items}


def with_yes(answers: dict[str, str], dimension: str, grades: list[str]) -> dict[str, str]:
    """Answer "yes" to the given grades of indicator in one dimension (weak, weak → two)."""
    used = dict.fromkeys(GRADES, 0)
    for grade in grades:
        used[grade] += 1
        answers[indicator_key(dimension, grade, used[grade])] = "yes"
    return answers


STEP_ONE = [
    (["strong", "strong"], "positive", "strong:2"),
    (["strong"], "negative", None),
    (["strong", "medium"], "positive", "strong:1+medium_or_weak:1"),
    (["strong", "weak"], "positive", "strong:1+medium_or_weak:1"),
    (["medium", "medium", "medium"], "positive", "medium:3"),
    (["medium", "medium"], "negative", None),
    (["medium", "medium", "weak"], "positive", "medium:2+weak:1"),
    (["medium", "weak", "weak"], "negative", None),
    (["weak"] * 5, "negative", None),
    ([], "negative", None),
]


@pytest.mark.parametrize(
    ("grades", "status", "combination"), STEP_ONE, ids=["+".join(g) or "none" for g, *_ in STEP_ONE]
)
def test_dimension_is_positive_only_for_the_listed_combinations(grades, status, combination):
    answers = with_yes(all_no(), "exploitation", grades)

    dimension = score(ILO, answers).to_dict()["dimensions"]["exploitation"]

    assert dimension["status"] == status
    assert dimension["combination"] == combination
    assert sorted(dimension["strong"] + dimension["medium"] + dimension["weak"]) == sorted(
        key for key, answer in answers.items() if answer == "yes"
    )


def test_positive_dimension_lists_its_yes_items_by_strength_as_drivers():
    answers = with_yes(all_no(), "exploitation", ["strong", "medium", "weak"])

    result = score(ILO, answers).to_dict()

    dimension = result["dimensions"]["exploitation"]
    assert dimension["strong"] == ["exploitation_strong_1"]
    assert dimension["medium"] == ["exploitation_medium_1"]
    assert dimension["weak"] == ["exploitation_weak_1"]
    ilo_rule = next(rule for rule in result["rules"] if rule["kind"] == "ilo_dimensions")
    assert ilo_rule["drivers"] == [
        "exploitation_strong_1",
        "exploitation_medium_1",
        "exploitation_weak_1",
    ]
    assert ilo_rule["value"]["exploitation"] == "positive"


def test_open_indicator_that_could_complete_a_combination_leaves_dimension_indeterminate():
    answers = with_yes(all_no(), "exploitation", ["strong"])
    answers["exploitation_medium_1"] = "unknown"

    dimension = score(ILO, answers).to_dict()["dimensions"]["exploitation"]

    assert dimension["status"] == "indeterminate"
    assert dimension["unknown"] == ["exploitation_medium_1"]


RECRUITMENT = DIMENSIONS[:3]
EXPLOITATION = "exploitation"
DESTINATION = DIMENSIONS[4:]


def positive(answers: dict[str, str], *dimensions: str) -> dict[str, str]:
    for dimension in dimensions:
        with_yes(answers, dimension, ["strong", "strong"])
    return answers


@pytest.mark.parametrize(("recruitment", "destination"), list(product(RECRUITMENT, DESTINATION)))
def test_adult_victim_when_recruitment_exploitation_and_destination_are_all_positive(
    recruitment, destination
):
    answers = positive(all_no(), recruitment, EXPLOITATION, destination)

    result = score(ILO, answers).to_dict()

    assert result["outcome"] == "indicated"
    adult_victim = next(rule for rule in result["rules"] if rule["key"] == "adult_victim")
    assert adult_victim["status"] == "true"
    assert set(adult_victim["drivers"]) == {
        key for key, answer in answers.items() if answer == "yes"
    }


@pytest.mark.parametrize(
    ("dimensions", "expected"),
    [
        ((EXPLOITATION, "coercion_at_destination"), "possible"),  # (a) missing
        (("deceptive_recruitment", "coercion_at_destination"), "not_indicated"),  # (b) missing
        (("deceptive_recruitment", EXPLOITATION), "possible"),  # (c) missing
    ],
    ids=["no-recruitment", "no-exploitation", "no-destination"],
)
def test_not_indicated_when_any_of_the_three_elements_is_missing(dimensions, expected):
    result = score(ILO, positive(all_no(), *dimensions)).to_dict()

    assert result["outcome"] == expected
    assert result["best_case"] == result["worst_case"] == expected


def test_possible_tier_is_reported_as_local_policy():
    result = score(ILO, positive(all_no(), EXPLOITATION)).to_dict()

    assert result["outcome"] == "possible"
    assert result["outcome_policy"] == "possible-tier"
    lead = result["reasons"][0]
    assert lead["conclusion"] == "possible"
    assert lead["source"]["local_policy"] is True
