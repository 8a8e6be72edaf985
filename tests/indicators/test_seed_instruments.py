"""The seed files encode the published facts of shared/domain/instruments.md."""

from collections import Counter
from pathlib import Path

import pytest

from indicators.engine import load_instrument_file, score

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "instruments"
ILO_COMBINATIONS = [
    {"strong": 2, "medium": 0, "weak": 0, "medium_or_weak": 0},
    {"strong": 1, "medium": 0, "weak": 0, "medium_or_weak": 1},
    {"strong": 0, "medium": 3, "weak": 0, "medium_or_weak": 0},
    {"strong": 0, "medium": 2, "weak": 1, "medium_or_weak": 0},
]


def load(slug: str):
    return load_instrument_file(SEEDS / f"{slug}.v1.yaml")


def outcome_with_yes(definition, yes_keys) -> str:
    answers = {item.key: ("yes" if item.key in yes_keys else "no") for item in definition.items}
    return score(definition, answers, {"age": 30}).to_dict()["outcome"]


def test_adult_labour_list_has_the_published_counts_per_dimension():
    definition = load("ilo-ec-adult-labour")
    counts = Counter(item.dimension for item in definition.items)
    assert counts == {
        "deceptive_recruitment": 10,
        "coercive_recruitment": 10,
        "recruitment_abuse_of_vulnerability": 16,
        "exploitation": 9,
        "coercion_at_destination": 15,
        "abuse_of_vulnerability_at_destination": 7,
    }


def test_adult_labour_strong_indicators_are_the_published_ones():
    definition = load("ilo-ec-adult-labour")
    strong = Counter(item.dimension for item in definition.items if item.strength == "strong")
    assert strong == {
        "deceptive_recruitment": 1,
        "coercive_recruitment": 1,
        "exploitation": 1,
        "coercion_at_destination": 4,
    }


@pytest.mark.parametrize(
    "slug",
    [
        "ilo-ec-adult-labour",
        "ilo-ec-adult-sexual",
        "ilo-ec-child-labour",
        "ilo-ec-child-sexual",
        "frontline-adult-conversation",
    ],
)
def test_ilo_instruments_use_exactly_the_published_combination_rule(slug):
    definition = load(slug)
    [rule] = [rule for rule in definition.rules if rule.kind == "ilo_dimensions"]
    assert [combination.model_dump() for combination in rule.combinations] == ILO_COMBINATIONS


def test_youth_short_screen_is_positive_at_two_yes():
    definition = load("youth-short-screen")
    keys = [item.key for item in definition.items]
    assert len(keys) == 6
    assert outcome_with_yes(definition, keys[:1]) == "screen_negative"
    assert outcome_with_yes(definition, keys[:2]) == "screen_positive"


def test_qyit_is_positive_at_one_yes():
    definition = load("qyit")
    keys = [item.key for item in definition.items]
    assert len(keys) == 4
    assert outcome_with_yes(definition, []) == "screen_negative"
    assert outcome_with_yes(definition, keys[-1:]) == "screen_positive"


def test_adult_labour_needs_all_three_steps():
    definition = load("ilo-ec-adult-labour")
    by_dimension: dict[str, list[str]] = {}
    for item in sorted(definition.items, key=lambda i: i.strength != "strong"):
        by_dimension.setdefault(item.dimension, []).append(item.key)
    recruitment = by_dimension["deceptive_recruitment"][:2]  # one strong + one medium
    exploitation = by_dimension["exploitation"][:2]
    destination = by_dimension["coercion_at_destination"][:2]  # two strong
    assert outcome_with_yes(definition, recruitment + exploitation + destination) == "indicated"
    assert outcome_with_yes(definition, recruitment + destination) != "indicated"
    assert outcome_with_yes(definition, exploitation + destination) != "indicated"


def test_hotline_contact_about_a_minor_is_a_crisis_with_a_mandatory_report():
    definition = load("hotline-triage")
    result = score(
        definition,
        {"contact_type": "tip", "minor_involved": "yes", "immediate_danger": "no"},
    ).to_dict()
    assert result["worst_case"] == "crisis" and result["best_case"] == "crisis"
    assert {"minor", "mandatory_report"} <= set(result["flags"])


def test_every_seed_file_cites_its_sources_on_every_item():
    for path in sorted(SEEDS.glob("*.yaml")):
        definition = load_instrument_file(path)
        cited = {source.key for source in definition.sources} | {
            policy.key for policy in definition.local_policies
        }
        assert all(item.source in cited for item in definition.items), path.name
