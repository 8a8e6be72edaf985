"""Observation checklists (`subject: place`): the declaration is validated, the answers are the
engine's three values only, and the result's text about the place rests on observed signs only
(issue 16, docs/observation-checklists.md)."""

import copy
from pathlib import Path

import pytest
import yaml

from indicators.engine import (
    AnswerError,
    InstrumentFileError,
    load_instrument_file,
    parse_instrument,
    score,
)

SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "instruments"
V1 = SEEDS / "imb-premises.v1.yaml"
V2 = SEEDS / "imb-premises.v2.yaml"

# Four access signs (weight 2 each) reach the high band without any sign of living on site.
ACCESS_ONLY = {
    "door_locked_business_hours": "yes",
    "buzzer_or_camera_entry": "yes",
    "rear_entrance_used": "yes",
    "locks_on_treatment_rooms": "yes",
    "living_signs": "no",
    "separate_entrance_living": "no",
    "no_separation_sleeping": "no",
}


def v2_data() -> dict:
    return yaml.safe_load(V2.read_text(encoding="utf-8"))


def problems(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(InstrumentFileError) as caught:
        parse_instrument(data, origin="imb-premises.v2.yaml")
    return [(problem.field, problem.message) for problem in caught.value.problems]


def test_the_premises_checklist_v2_declares_it_observes_a_place():
    assert load_instrument_file(V2).is_observation
    assert not load_instrument_file(V1).is_observation


def test_a_subject_other_than_person_or_place_is_refused_naming_the_field():
    data = v2_data()
    data["subject"] = "building"
    assert problems(data) == [
        (
            "subject",
            "`subject` is `person` (a conversation with a person; the default) or `place` "
            "(an observation checklist: what the officer observes about a place)",
        )
    ]


def test_an_unquoted_yes_as_subject_gets_the_yaml_hint():
    data = v2_data()
    data["subject"] = True
    [(field, message)] = problems(data)
    assert field == "subject"
    assert "quote it" in message


def test_an_observation_checklist_has_only_observed_not_observed_items():
    data = v2_data()
    item = data["sections"][0]["items"][0]
    item["response_type"] = "number"
    assert (
        "sections.0.items.0.response_type",
        "an observation checklist (`subject: place`) has only yes_no items: each is answered "
        "observed / not observed / could not check",
    ) in problems(data)


def test_an_observation_checklist_cannot_read_a_persons_age():
    data = v2_data()
    data["outcomes"][1]["when"] = {
        "all": [
            {"rule": "premises_score", "at_least": "medium"},
            {"context": "age", "op": "lt", "value": 18},
        ]
    }
    assert problems(data) == [
        (
            "outcomes.1.when.all.1.context",
            "an observation checklist (`subject: place`) concerns no person: a condition cannot "
            "read a person's age or exploitation type",
        )
    ]


def test_an_observation_checklist_is_about_premises():
    data = v2_data()
    data["audience"] = "adult"
    assert problems(data) == [
        ("audience", "an observation checklist (`subject: place`) has `audience: premises`")
    ]


def test_subject_person_is_accepted_and_is_not_an_observation():
    data = v2_data()
    data["subject"] = "person"
    assert not parse_instrument(data, origin="x").is_observation


def test_declined_is_not_an_answer_to_an_observation():
    with pytest.raises(AnswerError) as caught:
        score(load_instrument_file(V2), {"living_signs": "declined"})
    [problem] = caught.value.problems
    assert problem.key == "living_signs"
    assert "`declined` is a person's answer" in problem.message


def test_declined_stays_an_answer_in_the_person_version():
    score(load_instrument_file(V1), {"living_signs": "declined"})


def test_v1_claimed_signs_of_living_on_site_that_nobody_observed():
    """The finding, kept as it was: v1's band text names signs its band does not need."""
    result = score(load_instrument_file(V1), ACCESS_ONLY).to_dict()
    assert result["outcome"] == "strongly_concerning"
    assert "live on site" in result["outcome_description"]
    assert "observations" not in result


def test_v2_result_text_rests_on_the_observed_signs_only():
    result = score(load_instrument_file(V2), ACCESS_ONLY).to_dict()
    assert result["outcome"] == "strongly_concerning"
    text = result["outcome_description"]
    assert "live on site" not in text and "living" not in text.lower()
    assert "Signs observed: 4 of 20 (Access control: 4)." in text
    observed = [sign["key"] for sign in result["observations"]["observed"]]
    assert observed == [
        "door_locked_business_hours",
        "buzzer_or_camera_entry",
        "rear_entrance_used",
        "locks_on_treatment_rooms",
    ]
    assert result["observations"]["not_observed"] == [
        "living_signs",
        "separate_entrance_living",
        "no_separation_sleeping",
    ]
    assert len(result["observations"]["could_not_check"]) == 13
    # Every reason item behind the conclusion was observed.
    for reason in result["reasons"]:
        if reason["status"] == "met":
            assert all(item["answer"] == "yes" for item in reason["items"])


def test_could_not_check_is_open_not_absent():
    """Unknown is not No: signs that could not be checked can still change the band."""
    answers = {key: value for key, value in ACCESS_ONLY.items() if value == "yes"}
    answers.pop("locks_on_treatment_rooms")
    result = score(load_instrument_file(V2), answers).to_dict()
    assert result["outcome"] == "indeterminate"
    assert (result["best_case"], result["worst_case"]) == ("concerning", "strongly_concerning")
    assert result["outcome_description"].startswith("Signs that could change the result could")
    assert "Signs observed: 3 of 20" in result["outcome_description"]


def test_nothing_observed_says_so():
    answers = dict.fromkeys([item.key for item in load_instrument_file(V2).items], "no")
    result = score(load_instrument_file(V2), answers).to_dict()
    assert result["outcome"] == "few_signs"
    assert result["outcome_description"].endswith("No sign was observed (of 20 on the checklist).")


def test_reason_texts_speak_of_observations():
    result = score(load_instrument_file(V2), {"cash_only": "yes", "windows_covered": "unknown"})
    texts = [reason.text for reason in result.reasons if reason.basis == "item"]
    assert all("answered" not in text for text in texts)


def test_v2_keeps_v1_items_weights_and_bands():
    v1, v2 = load_instrument_file(V1), load_instrument_file(V2)
    assert [item.key for item in v1.items] == [item.key for item in v2.items]
    assert v1.rules[0].weights == v2.rules[0].weights
    assert v1.rules[0].bands == v2.rules[0].bands
    for answers in (ACCESS_ONLY, {"cash_only": "yes"}, {}):
        assert score(v1, answers).outcome == score(v2, answers).outcome


def test_the_subject_field_left_out_keeps_every_older_hash():
    data = copy.deepcopy(v2_data())
    del data["subject"]
    person = parse_instrument(data, origin="x")
    assert "subject" not in person.canonical_json()
    assert '"subject":"place"' in load_instrument_file(V2).canonical_json()
