"""Routing rules as data: the condition language (table-driven), validation errors that name
file, rule and field, and merging of needs."""

from pathlib import Path

import pytest

from referrals.routing import (
    RoutingFacts,
    RoutingFileError,
    evaluate_rules,
    holds,
    load_routing_file,
    parse_routing,
)
from tests.referrals.conftest import DEFAULT_RULES


def facts(outcome="indicated", flags=(), possible=(), domains=(), **case):
    base = {"age": 30, "age_band": "adult", "gender": "female", "exploitation_type": "labour"}
    base.update(case)
    return RoutingFacts(
        outcome=outcome,
        flags=frozenset(flags),
        possible_flags=frozenset(possible),
        domains_present=frozenset(domains),
        case=base,
    )


def condition(data):
    definition = parse_routing(
        {
            "slug": "t",
            "version": 1,
            "status": "published",
            "title": "t",
            "rules": [
                {"key": "r", "text": "t", "when": data, "refer": [{"service_type": "shelter"}]}
            ],
        },
        origin="test",
    )
    return definition.rules[0].when


CASES = [
    ({"outcome": ["indicated", "possible"]}, facts(outcome="possible"), True),
    ({"outcome": ["indicated"]}, facts(outcome="indeterminate"), False),
    ({"flag": "minor"}, facts(flags=["minor"]), True),
    ({"flag": "minor"}, facts(possible=["minor"]), False),
    ({"possible_flag": "minor"}, facts(possible=["minor"]), True),
    ({"domain": "debt_bondage"}, facts(domains=["debt_bondage"]), True),
    ({"domain": "debt_bondage"}, facts(domains=["threats"]), False),
    ({"case": "age", "op": "lt", "value": 18}, facts(age=16), True),
    ({"case": "age", "op": "lt", "value": 18}, facts(age=None), False),  # unknown is not met
    ({"case": "age_band", "value": "minor"}, facts(age_band="minor"), True),
    ({"case": "exploitation_type", "op": "in", "value": ["labour", "both"]}, facts(), True),
    ({"case": "languages", "op": "in", "value": ["es"]}, facts(languages=["es", "en"]), True),
    ({"case": "languages", "op": "ne", "value": ["es"]}, facts(languages=["en"]), True),
    ({"case": "urgent", "value": True}, facts(urgent=True), True),
    ({"any": [{"flag": "minor"}, {"outcome": ["indicated"]}]}, facts(), True),
    ({"all": [{"flag": "minor"}, {"outcome": ["indicated"]}]}, facts(), False),
    ({"not": {"outcome": ["not_indicated"]}}, facts(), True),
    ({"always": True}, facts(outcome="not_indicated"), True),
]


@pytest.mark.parametrize(("when", "given", "expected"), CASES)
def test_conditions_evaluate_as_the_table_says(when, given, expected):
    assert holds(condition(when), given) is expected


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"key": "r", "text": "t", "when": {"flag": "not_a_flag"}, "refer": []}, "rules.0.when"),
        (
            {"key": "r", "text": "t", "when": {"always": True}, "refer": [{"service_type": "spa"}]},
            "rules.0.refer.0.service_type",
        ),
        (
            {
                "key": "r",
                "text": "t",
                "when": {"always": True},
                "refer": [{"service_type": "shelter", "priority": "asap"}],
            },
            "rules.0.refer.0.priority",
        ),
        ({"key": "r", "text": "t", "when": {"always": True}, "refer": [], "x": 1}, "rules.0"),
    ],
)
def test_invalid_rules_are_reported_with_file_rule_and_field(rule, field):
    data = {"slug": "t", "version": 1, "status": "published", "title": "t", "rules": [rule]}
    with pytest.raises(RoutingFileError) as error:
        parse_routing(data, origin="seeds/routing/t.v1.yaml")
    problems = error.value.problems
    assert all(p.file == "seeds/routing/t.v1.yaml" and p.rule == "r" for p in problems)
    assert any(p.field.startswith(field) for p in problems), [str(p) for p in problems]


def test_a_rule_key_used_twice_is_an_error():
    rule = {
        "key": "r",
        "text": "t",
        "when": {"always": True},
        "refer": [{"service_type": "medical"}],
    }
    data = {"slug": "t", "version": 1, "status": "published", "title": "t", "rules": [rule, rule]}
    with pytest.raises(RoutingFileError, match="rule=r field=rules.1.key: rule key used twice"):
        parse_routing(data, origin="t")


def test_the_file_name_must_match_slug_and_version(tmp_path: Path):
    path = tmp_path / "wrong-name.yaml"
    path.write_text(DEFAULT_RULES.read_text())
    with pytest.raises(RoutingFileError, match="default-routing.v1.yaml"):
        load_routing_file(path)


def test_needs_merge_per_service_type_with_the_most_pressing_priority():
    definition = load_routing_file(DEFAULT_RULES)
    needs = evaluate_rules(definition, facts(flags=["immediate_danger"], outcome="indicated"))
    by_type = {need.service_type: need for need in needs}
    assert by_type["shelter"].priority == 1  # urgent from the danger rule beats high
    assert {"medical", "legal_aid", "case_management", "law_enforcement_atu"} <= set(by_type)
    assert needs[0].priority == 1


def test_a_negative_screen_of_an_adult_raises_no_needs():
    definition = load_routing_file(DEFAULT_RULES)
    assert (
        evaluate_rules(definition, facts(outcome="not_indicated", exploitation_type="unknown"))
        == []
    )
