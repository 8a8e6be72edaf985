"""Instrument files: every problem is reported, with the item key and the field path."""

import copy
from pathlib import Path

import pytest
import yaml
from engine_instruments import (
    build,
    instrument,
    mixed_data,
    outcome,
    section,
    short_screen_data,
    text,
    yes_no,
)

from indicators.engine import (
    InstrumentFileError,
    load_instrument_file,
    parse_instrument,
)


def problems_of(data) -> list:
    with pytest.raises(InstrumentFileError) as caught:
        parse_instrument(data, origin="broken.v1.yaml")
    return caught.value.problems


def located(data) -> set[tuple[str | None, str]]:
    return {(problem.item, problem.field) for problem in problems_of(data)}


def screen() -> dict:
    return short_screen_data()


def test_valid_fixtures_parse():
    for data in (screen(), mixed_data()):
        definition = build(data)
        assert definition.items[0].key == definition.item(definition.items[0].key).key


def test_dimension_without_strength_names_item_and_field():
    data = screen()
    data["sections"][0]["items"][1]["dimension"] = "exploitation"

    assert located(data) == {("screen_2", "sections.0.items.1.strength")}


def test_strength_without_dimension():
    data = screen()
    data["sections"][0]["items"][2]["strength"] = "weak"

    assert located(data) == {("screen_3", "sections.0.items.2.dimension")}


def test_options_only_for_choice_items_and_required_for_them():
    data = screen()
    data["sections"][0]["items"][0]["options"] = [{"key": "a", "label": text("A")}]
    data["sections"][0]["items"][1]["response_type"] = "single_choice"

    assert located(data) == {
        ("screen_1", "sections.0.items.0.options"),
        ("screen_2", "sections.0.items.1.options"),
        # and the count rule may no longer count it as a yes/no item
        ("enough_yes", "rules.0.select.items.1"),
    }


def test_duplicate_option_keys_and_reserved_option_keys():
    data = mixed_data()
    options = data["sections"][1]["items"][6]["options"]  # recruited_by
    options.append({"key": "agency", "label": text("Again")})
    options.append({"key": "unknown", "label": text("Not sure")})

    problems = problems_of(data)

    assert {(p.item, p.field) for p in problems} == {
        ("recruited_by", "sections.1.items.6.options.2.key"),
        ("recruited_by", "sections.1.items.6.options.3.key"),
    }


def test_item_keys_must_be_unique_across_sections():
    data = screen()
    data["sections"].append(section("more", [yes_no("screen_1", "risk_history")]))

    assert located(data) == {("screen_1", "sections.1.items.0.key")}


def test_source_must_be_declared():
    data = screen()
    data["sections"][0]["items"][4]["source"] = "nowhere-2020"
    data["rules"][0]["source"] = "nowhere-2020"

    assert located(data) == {
        ("screen_5", "sections.0.items.4.source"),
        ("enough_yes", "rules.0.source"),
    }


def test_every_text_needs_every_language_and_english():
    data = screen()
    data["languages"] = ["en", "es"]
    data["title"]["es"] = "Prueba"
    data["purpose"]["es"] = "Probar"
    for number, item in enumerate(data["sections"][0]["items"]):
        item["prompt"]["es"] = f"Pregunta {number}"
    data["sections"][0]["title"]["es"] = "Historia"
    data["rules"][0]["text"]["es"] = "Dos o más"
    data["local_policies"][0]["text"]["es"] = "Política"
    for band in data["outcomes"]:
        for field in ("label", "description"):
            band[field]["es"] = "x"
        band["actions"] = [{"en": "Act", "es": "Actuar"}]
    build(data)  # complete: parses

    del data["sections"][0]["items"][3]["prompt"]["es"]
    data["outcomes"][1]["label"] = {"es": "Positivo"}

    problems = problems_of(data)

    assert {(p.item, p.field) for p in problems} == {
        ("screen_4", "sections.0.items.3.prompt"),
        ("positive", "outcomes.1.label"),
    }
    messages = {p.field: p.message for p in problems}
    assert "es" in messages["sections.0.items.3.prompt"]
    assert "en" in messages["outcomes.1.label"]


def test_rules_may_only_refer_to_earlier_rules_and_existing_items():
    data = mixed_data()
    rules = data["rules"]
    rules[1]["select"] = {"items": ["hit", "no_such_item"]}  # two_coercion_signs
    rules.insert(0, rules.pop(2))  # `serious` now comes before the rules it uses

    assert located(data) == {
        ("two_coercion_signs", "rules.2.select.items.1"),
        ("serious", "rules.0.when.any.0.rule"),
        ("serious", "rules.0.when.any.1.all.0.rule"),
    }


def test_expression_references_are_checked():
    data = mixed_data()
    data["outcomes"][1]["when"] = {
        "any": [
            {"rule": "concern", "at_least": "extreme"},  # no such band
            {"rule": "two_coercion_signs", "at_least": "high"},  # not a weighted sum
            {"item": "recruited_by", "equals": "cousin"},  # not an option
            {"item": "hit", "equals": "yes"},  # yes_no items take no `equals`
            {"dimension": "exploitation"},  # no ilo_dimensions rule
            {"item": "ghost"},
        ]
    }

    assert located(data) == {
        ("concern", "outcomes.1.when.any.0.at_least"),
        ("concern", "outcomes.1.when.any.1.at_least"),
        ("concern", "outcomes.1.when.any.2.equals"),
        ("concern", "outcomes.1.when.any.3.equals"),
        ("concern", "outcomes.1.when.any.4.dimension"),
        ("concern", "outcomes.1.when.any.5.item"),
    }


def test_show_if_may_only_look_back():
    data = screen()
    data["sections"][0]["items"][0]["show_if"] = {"item": "screen_2"}

    assert located(data) == {("screen_1", "sections.0.items.0.show_if.item")}


def test_outcome_rules():
    data = screen()
    data["outcomes"][0]["when"] = {"rule": "enough_yes"}
    del data["outcomes"][1]["when"]
    data["outcomes"].append(outcome("indeterminate", {"rule": "enough_yes"}))
    data["outcomes"].append(outcome("positive", {"rule": "enough_yes"}, policy="ilo-ec-2009"))

    assert located(data) == {
        ("negative", "outcomes.0.when"),
        ("positive", "outcomes.1.when"),
        ("indeterminate", "outcomes.2.key"),
        ("positive", "outcomes.3.key"),
        ("positive", "outcomes.3.policy"),
    }


def test_fixed_vocabularies_and_unknown_fields():
    data = screen()
    data["sections"][0]["items"][0]["domain"] = "bad_luck"
    data["sections"][0]["items"][1]["colour"] = "red"
    data["rules"].append(
        {
            "key": "flagged",
            "kind": "flag",
            "text": text("x"),
            "source": "ilo-ec-2009",
            "when": {"item": "screen_1"},
            "flags": ["panic"],
        }
    )
    data["rules"].append({"key": "odd", "kind": "vote", "text": text("x"), "source": "x"})

    problems = problems_of(data)

    assert {(p.item, p.field) for p in problems} == {
        ("screen_1", "sections.0.items.0.domain"),
        ("screen_2", "sections.0.items.1.colour"),
        ("flagged", "rules.1.flags.0"),
        ("odd", "rules.2.kind"),
    }
    assert "unknown field `colour`" in next(p.message for p in problems if p.item == "screen_2")


def test_unquoted_yaml_boolean_gets_a_hint():
    data = mixed_data()
    data["sections"][1]["items"][6]["options"][0]["key"] = True

    (problem,) = problems_of(data)

    assert problem.field == "sections.1.items.6.options.0.key"
    assert "quote it" in problem.message


def test_weights_must_not_be_negative():
    data = mixed_data()
    data["rules"][0]["weights"]["hit"] = -3

    assert located(data) == {("concern", "rules.0.weights.hit")}


def test_bands_start_at_zero_and_rise():
    data = mixed_data()
    data["rules"][0]["bands"][0]["min"] = 1
    data["rules"][0]["bands"][2]["min"] = 2

    assert located(data) == {
        ("concern", "rules.0.bands.0.min"),
        ("concern", "rules.0.bands.2.min"),
    }


def test_count_threshold_that_can_never_be_reached():
    data = short_screen_data(items=3, threshold=4)

    assert located(data) == {("enough_yes", "rules.0.threshold")}


def test_all_problems_are_reported_at_once_structural_and_cross_references():
    data = mixed_data()
    data["version"] = 0
    data["sections"][0]["items"][0]["response_type"] = "essay"  # structural, in an item
    data["sections"][1]["items"][0]["source"] = "nowhere"  # cross-reference, another item
    data["rules"][3]["flags"] = []  # structural, in a rule
    data["outcomes"][2]["when"] = {"rule": "missing_rule"}  # cross-reference, an outcome

    problems = problems_of(data)

    assert {(p.item, p.field) for p in problems} == {
        (None, "version"),
        ("works_there", "sections.0.items.0.response_type"),
        ("hit", "sections.1.items.0.source"),
        ("danger", "rules.3.flags"),
        ("high", "outcomes.2.when.rule"),
    }


def test_a_broken_item_does_not_cause_follow_on_reference_errors():
    data = mixed_data()
    data["sections"][1]["items"][0]["response_type"] = "essay"  # `hit`, used by rules

    assert located(data) == {("hit", "sections.1.items.0.response_type")}


def test_error_text_lists_one_problem_per_line():
    data = screen()
    data["sections"][0]["items"][1]["dimension"] = "exploitation"
    data["sections"][0]["items"][2]["source"] = "nowhere"

    with pytest.raises(InstrumentFileError) as caught:
        parse_instrument(data, origin="seeds/instruments/x.v1.yaml")

    lines = str(caught.value).splitlines()
    assert lines == [
        "seeds/instruments/x.v1.yaml: item=screen_2 field=sections.0.items.1.strength: "
        "an item with a dimension needs a strength",
        "seeds/instruments/x.v1.yaml: item=screen_3 field=sections.0.items.2.source: "
        "`nowhere` is not a declared source or local policy key",
    ]


# --- files -----------------------------------------------------------------------------------


def write(tmp_path: Path, data: dict, name: str | None = None) -> Path:
    path = tmp_path / (name or f"{data['slug']}.v{data['version']}.yaml")
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_load_file_round_trip(tmp_path):
    data = mixed_data()

    definition = load_instrument_file(write(tmp_path, data))

    assert definition.content_hash() == build(data).content_hash()


def test_yaml_syntax_error_reports_file_and_line(tmp_path):
    path = tmp_path / "broken.v1.yaml"
    path.write_text(
        "slug: broken\nversion: 1\nsections:\n  - key: a\n   title: misaligned\n",
        encoding="utf-8",
    )

    with pytest.raises(InstrumentFileError) as caught:
        load_instrument_file(path)

    (problem,) = caught.value.problems
    assert problem.file == str(path)
    assert problem.line == 5
    assert str(caught.value).startswith(f"{path}: ")
    assert "YAML syntax error at line 5" in str(caught.value)


def test_duplicate_yaml_key_is_an_error_with_line(tmp_path):
    path = tmp_path / "dup.v1.yaml"
    path.write_text("slug: dup\nversion: 1\nslug: again\n", encoding="utf-8")

    with pytest.raises(InstrumentFileError) as caught:
        load_instrument_file(path)

    (problem,) = caught.value.problems
    assert problem.line == 3
    assert "'slug' twice" in problem.message


def test_validation_problems_from_a_file_carry_lines(tmp_path):
    data = screen()
    data["sections"][0]["items"][1]["dimension"] = "exploitation"
    path = write(tmp_path, data)

    with pytest.raises(InstrumentFileError) as caught:
        load_instrument_file(path)

    (problem,) = caught.value.problems
    lines = path.read_text().splitlines()
    assert "key: screen_2" in "\n".join(lines[problem.line - 3 : problem.line + 3])


def test_file_name_must_match_slug_and_version(tmp_path):
    path = write(tmp_path, screen(), name="short-screen-test.v2.yaml")

    with pytest.raises(InstrumentFileError) as caught:
        load_instrument_file(path)

    assert "short-screen-test.v1.yaml" in str(caught.value)
    assert load_instrument_file(path, check_file_name=False).version == 1


# --- content hash ----------------------------------------------------------------------------


def reordered(value):
    """The same data with every mapping's keys in reverse order."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(entry) for entry in value]
    return value


def test_content_hash_ignores_key_order_but_not_wording():
    data = mixed_data()
    original = build(data).content_hash()

    assert build(reordered(data)).content_hash() == original
    changed = copy.deepcopy(data)
    changed["sections"][0]["items"][0]["prompt"]["en"] = "Do you work there now?"
    assert build(changed).content_hash() != original
    assert len(original) == 64


def test_instrument_with_no_rules_and_one_band_is_valid():
    data = instrument(
        [section("only", [yes_no("asked", "contact")])],
        [],
        [outcome("recorded")],
    )

    definition = build(data)

    assert [band.key for band in definition.outcomes] == ["recorded"]


def test_text_in_an_undeclared_language_is_refused():
    data = screen()
    data["sections"][0]["items"][0]["prompt"]["fr"] = "Question ?"

    (problem,) = problems_of(data)

    assert (problem.item, problem.field) == ("screen_1", "sections.0.items.0.prompt")
    assert "fr" in problem.message


def test_stored_json_of_a_definition_parses_back_to_the_same_hash():
    definition = build(mixed_data())

    again = parse_instrument(definition.model_dump(mode="json"), origin="stored")

    assert again == definition
    assert again.content_hash() == definition.content_hash()
