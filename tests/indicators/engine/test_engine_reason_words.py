"""A result's reasons are read by officers (the result page shows them): the ILO/EC dimension
that was met says which combination in words, never as the rule file's code (issue 16:
"combination met: strong:1+medium_or_weak:1")."""

import pytest
from engine_instruments import build, ilo_adult_data, indicator_key

from indicators.engine import score
from indicators.engine.models import Combination

ILO = build(ilo_adult_data())


def _reason_texts(grades: list[str]) -> str:
    answers = {item.key: "no" for item in ILO.items}
    used: dict[str, int] = {}
    for grade in grades:
        used[grade] = used.get(grade, 0) + 1
        answers[indicator_key("exploitation", grade, used[grade])] = "yes"
    return " ".join(reason["text"] for reason in score(ILO, answers).to_dict()["reasons"])


@pytest.mark.parametrize(
    ("grades", "words"),
    [
        (["strong", "medium"], "enough for it: one strong and one medium or weak indicator"),
        (["strong", "strong"], "enough for it: two strong indicators"),
        (["medium", "medium", "weak"], "enough for it: two medium and one weak indicator"),
    ],
)
def test_a_met_dimension_says_its_combination_in_words(grades, words):
    text = _reason_texts(grades)
    assert words in text
    assert "combination met" not in text and "medium_or_weak" not in text and ":1" not in text


def test_the_combination_keeps_its_code_for_machines():
    combination = Combination(strong=1, medium_or_weak=1)
    assert combination.label() == "strong:1+medium_or_weak:1"
    assert combination.words() == "one strong and one medium or weak indicator"
