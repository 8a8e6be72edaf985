"""Small instrument definitions for the engine tests, built as plain dicts.

They follow docs/instrument-format.md and do not depend on the seed files.
"""

from __future__ import annotations

import copy
from typing import Any

from indicators.engine import InstrumentDefinition, parse_instrument

ILO = {
    "key": "ilo-ec-2009",
    "title": "Operational indicators of trafficking in human beings",
    "publisher": "International Labour Office and European Commission",
    "year": 2009,
    "section": "Adults, labour exploitation",
}
GREENBAUM = {
    "key": "greenbaum-2018",
    "title": "A short screening tool to identify victims of child sex trafficking",
    "publisher": "Pediatric Emergency Care",
    "year": 2018,
    "section": "Screening items",
}
POSSIBLE_TIER = {
    "key": "possible-tier",
    "text": {"en": "Exploitation without a means dimension is flagged for follow-up."},
}

# Step 1 of the ILO/EC rule, as in shared/domain/instruments.md.
ILO_COMBINATIONS = [
    {"strong": 2},
    {"strong": 1, "medium_or_weak": 1},
    {"medium": 3},
    {"medium": 2, "weak": 1},
]
DIMENSIONS = [
    "deceptive_recruitment",
    "coercive_recruitment",
    "recruitment_abuse_of_vulnerability",
    "exploitation",
    "coercion_at_destination",
    "abuse_of_vulnerability_at_destination",
]
# How many indicators of each grade every dimension of the test instrument has.
GRADES = {"strong": 3, "medium": 3, "weak": 5}


def text(english: str) -> dict[str, str]:
    return {"en": english}


def yes_no(key: str, domain: str = "coercion", source: str = "ilo-ec-2009", **extra: Any):
    return {
        "key": key,
        "prompt": text(f"Question {key}?"),
        "response_type": "yes_no",
        "domain": domain,
        "source": source,
        **extra,
    }


def outcome(key: str, when: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    band: dict[str, Any] = {
        "key": key,
        "label": text(f"Label {key}"),
        "description": text(f"Description {key}"),
        "actions": [text(f"Action for {key}")],
        **extra,
    }
    if when is not None:
        band["when"] = when
    return band


def instrument(
    sections: list[dict[str, Any]],
    rules: list[dict[str, Any]],
    outcomes: list[dict[str, Any]],
    **top: Any,
) -> dict[str, Any]:
    data = {
        "slug": "test-instrument",
        "version": 1,
        "status": "published",
        "title": text("Test instrument"),
        "audience": "adult",
        "purpose": text("Testing the engine"),
        "languages": ["en"],
        "sources": [ILO, GREENBAUM],
        "local_policies": [POSSIBLE_TIER],
        "sections": sections,
        "rules": rules,
        "outcomes": outcomes,
    }
    data.update(top)
    return copy.deepcopy(data)


def section(key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"key": key, "title": text(f"Section {key}"), "items": items}


def indicator_key(dimension: str, strength: str, number: int) -> str:
    return f"{dimension}_{strength}_{number}"


def ilo_adult_data() -> dict[str, Any]:
    """Every dimension with 3 strong, 3 medium and 5 weak indicators, the two-step ILO/EC
    rule, a local-policy "possible" tier and a minor flag."""
    sections = []
    for dimension in DIMENSIONS:
        items = [
            yes_no(
                indicator_key(dimension, strength, number),
                dimension=dimension,
                strength=strength,
            )
            for strength, count in GRADES.items()
            for number in range(1, count + 1)
        ]
        sections.append(section(dimension, items))
    rules = [
        {
            "key": "ilo_dimensions",
            "kind": "ilo_dimensions",
            "text": text("A dimension is positive with enough strong/medium/weak indicators."),
            "source": "ilo-ec-2009",
            "combinations": ILO_COMBINATIONS,
        },
        {
            "key": "adult_victim",
            "kind": "expression",
            "text": text("Recruitment, exploitation and coercion at destination all positive."),
            "source": "ilo-ec-2009",
            "when": {
                "all": [
                    {
                        "any": [
                            {"dimension": "deceptive_recruitment"},
                            {"dimension": "coercive_recruitment"},
                            {"dimension": "recruitment_abuse_of_vulnerability"},
                        ]
                    },
                    {"dimension": "exploitation"},
                    {
                        "any": [
                            {"dimension": "coercion_at_destination"},
                            {"dimension": "abuse_of_vulnerability_at_destination"},
                        ]
                    },
                ]
            },
        },
        {
            "key": "possible_tier",
            "kind": "expression",
            "text": text("Exploitation positive."),
            "source": "possible-tier",
            "when": {"dimension": "exploitation"},
        },
        {
            "key": "minor",
            "kind": "flag",
            "text": text("A person under 18."),
            "source": "ilo-ec-2009",
            "when": {"context": "age", "op": "lt", "value": 18},
            "flags": ["minor", "mandatory_report"],
        },
    ]
    outcomes = [
        outcome("not_indicated"),
        outcome("possible", {"rule": "possible_tier"}, policy="possible-tier"),
        outcome("indicated", {"rule": "adult_victim"}),
    ]
    return instrument(sections, rules, outcomes, slug="ilo-test-adult")


def short_screen_data(items: int = 6, threshold: int = 2) -> dict[str, Any]:
    keys = [f"screen_{number}" for number in range(1, items + 1)]
    rules = [
        {
            "key": "enough_yes",
            "kind": "count",
            "text": text(f"{threshold} or more yes answers."),
            "source": "greenbaum-2018",
            "select": {"items": keys},
            "threshold": threshold,
        }
    ]
    outcomes = [outcome("negative"), outcome("positive", {"rule": "enough_yes"})]
    return instrument(
        [section("history", [yes_no(key, "risk_history", "greenbaum-2018") for key in keys])],
        rules,
        outcomes,
        slug="short-screen-test",
        audience="child",
    )


def mixed_data() -> dict[str, Any]:
    """A small instrument with every response type, show_if, a weighted sum, domains, flags
    and three bands; monotone (no `not` in a band), for the property tests."""
    items = [
        yes_no("works_there", "abusive_conditions"),
        yes_no("not_paid", "wage_withholding", show_if={"item": "works_there"}),
        yes_no("long_hours", "excessive_hours", show_if={"item": "works_there"}),
        yes_no("hit", "force_violence"),
        yes_no("threatened", "threats"),
        yes_no("papers_taken", "document_retention"),
        yes_no("owes_money", "debt_bondage"),
        yes_no("locked_in", "confinement"),
        {
            "key": "hours_per_day",
            "prompt": text("How many hours a day?"),
            "response_type": "number",
            "domain": "excessive_hours",
            "source": "ilo-ec-2009",
        },
        {
            "key": "recruited_by",
            "prompt": text("Who found you the job?"),
            "response_type": "single_choice",
            "options": [
                {"key": "agency", "label": text("An agency")},
                {"key": "friend", "label": text("A friend")},
            ],
            "domain": "fraud_deception",
            "source": "ilo-ec-2009",
        },
        {
            "key": "contact_ways",
            "prompt": text("How can we reach you?"),
            "response_type": "multiple_choice",
            "options": [
                {"key": "phone", "label": text("Phone")},
                {"key": "email", "label": text("Email")},
            ],
            "domain": "contact",
            "source": "ilo-ec-2009",
        },
        {
            "key": "arrived_on",
            "prompt": text("When did you arrive?"),
            "response_type": "date",
            "domain": "risk_history",
            "source": "ilo-ec-2009",
        },
        yes_no(
            "school_missed",
            "abuse_of_vulnerability",
            show_if={"context": "age", "op": "lt", "value": 18},
        ),
    ]
    rules = [
        {
            "key": "concern",
            "kind": "weighted_sum",
            "text": text("Weighted concern score."),
            "source": "possible-tier",
            "weights": {
                "not_paid": 1,
                "long_hours": 1,
                "hit": 3,
                "threatened": 2,
                "papers_taken": 2,
                "owes_money": 2,
                "locked_in": 3,
                "school_missed": 1,
            },
            "bands": [
                {"key": "low", "min": 0},
                {"key": "medium", "min": 3},
                {"key": "high", "min": 6},
            ],
        },
        {
            "key": "two_coercion_signs",
            "kind": "count",
            "text": text("Two or more signs of coercion."),
            "source": "possible-tier",
            "select": {"domains": ["force_violence", "threats", "confinement", "debt_bondage"]},
            "threshold": 2,
        },
        {
            "key": "serious",
            "kind": "expression",
            "text": text("Serious: high score, or coercion with long hours."),
            "source": "possible-tier",
            "when": {
                "any": [
                    {"rule": "concern", "at_least": "high"},
                    {
                        "all": [
                            {"rule": "two_coercion_signs"},
                            {
                                "any": [
                                    {"item": "hours_per_day", "op": "gte", "value": 12},
                                    {"domain": "excessive_hours", "min_yes": 1},
                                ]
                            },
                        ]
                    },
                ]
            },
        },
        {
            "key": "danger",
            "kind": "flag",
            "text": text("Violence or confinement now."),
            "source": "possible-tier",
            "when": {"any": [{"item": "hit"}, {"item": "locked_in"}]},
            "flags": ["immediate_danger", "urgent"],
        },
        {
            "key": "no_contact",
            "kind": "flag",
            "text": text("No safe way to reach the person."),
            "source": "possible-tier",
            "when": {"not": {"item": "contact_ways", "equals": "phone"}},
            "flags": ["further_assessment"],
        },
    ]
    outcomes = [
        outcome("low"),
        outcome(
            "concern",
            {
                "any": [
                    {"rule": "concern", "at_least": "medium"},
                    {"item": "recruited_by", "equals": "agency"},
                ]
            },
            policy="possible-tier",
        ),
        outcome("high", {"rule": "serious"}),
    ]
    return instrument(
        [section("work", items[:3]), section("control", items[3:])],
        rules,
        outcomes,
        slug="mixed-test",
    )


def gated_data() -> dict[str, Any]:
    """Follow-up questions behind a gate question, a domain count and a weighted sum: small
    enough for property tests to try every combination that matters."""
    items = [
        yes_no("gate", "abusive_conditions"),
        yes_no("follow_a", "threats", show_if={"item": "gate"}),
        yes_no("follow_b", "threats", show_if={"all": [{"item": "gate"}, {"item": "follow_a"}]}),
        yes_no("other", "threats"),
        yes_no("alone_1", "isolation"),
        yes_no("alone_2", "isolation"),
        yes_no("alone_3", "isolation"),
        {
            "key": "hours",
            "prompt": text("Hours a day?"),
            "response_type": "number",
            "domain": "excessive_hours",
            "source": "ilo-ec-2009",
            "show_if": {"item": "gate"},
        },
    ]
    rules = [
        {
            "key": "weight",
            "kind": "weighted_sum",
            "text": text("Weighted."),
            "source": "possible-tier",
            "weights": {"follow_a": 2, "follow_b": 1, "other": 1},
            "bands": [{"key": "low", "min": 0}, {"key": "mid", "min": 2}, {"key": "top", "min": 3}],
        },
        {
            "key": "two_follow_ups",
            "kind": "count",
            "text": text("Both follow-ups."),
            "source": "possible-tier",
            "select": {"items": ["follow_a", "follow_b"]},
            "threshold": 2,
        },
    ]
    outcomes = [
        outcome("none"),
        outcome(
            "some",
            {"any": [{"domain": "threats", "min_yes": 2}, {"domain": "isolation", "min_yes": 2}]},
        ),
        outcome(
            "more",
            {
                "any": [
                    {"all": [{"rule": "weight", "at_least": "top"}, {"item": "other"}]},
                    {"rule": "two_follow_ups"},
                    {"item": "hours", "op": "gte", "value": 12},
                ]
            },
        ),
    ]
    return instrument([section("gated", items)], rules, outcomes, slug="gated-test")


def build(data: dict[str, Any]) -> InstrumentDefinition:
    return parse_instrument(data, origin="test")
