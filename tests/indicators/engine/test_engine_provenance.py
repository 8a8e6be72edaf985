"""Provenance and validation figures in instrument files: a claim of "checked" names its source.

Also: adding these (optional) parts to the format changed no published version's content hash.
"""

import copy
from pathlib import Path

import pytest
from engine_instruments import build, short_screen_data

from indicators.engine import InstrumentFileError, load_instrument_file, parse_instrument
from indicators.engine.fidelity import (
    validation_age_caution,
    validation_setting_caution,
    version_fidelity,
)

SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "instruments"

# The hashes every v1 seed had when it was published (before provenance existed): a v1 that
# hashed differently now would be refused by load_instruments and its screenings orphaned.
PUBLISHED_V1_HASHES = {
    "frontline-adult-conversation": (
        "13a72e5cf136c4f966c18addd63b7310fa0f3b7aa7e015d2380863fe970e0033"
    ),
    "hotline-triage": "0222694ab70391be14af7a9e39af07d9d55dd808953bf48d2df22e26318ee176",
    "ilo-ec-adult-labour": "dc146e8cf7d528a6fd9ff965be44168823525a759cd987893d8dc5a0a377a00c",
    "ilo-ec-adult-sexual": "b286c7acfe9be40a7db65bb29bce9018ecaf3121302ce836c2b9695434ac5325",
    "ilo-ec-child-labour": "0f7f86af2d98f472785998e8c89930d27720ee9bc9637b2cacebdff917be6597",
    "ilo-ec-child-sexual": "9f7fa837c62213de57189de1f1312103753fe20a4adcf3493ebe19e725e108a3",
    "ilo-forced-labour-11": "d90795048e5d8feeafa232be647a08602f8a63ebd253317e27237590adff0e5a",
    "imb-premises": "bc472517e37c8f52d74a348cc0e7b4f808b83835b8b1bb4b7d5fda10ce1a6bd8",
    "qyit": "732aec3d422aed97aedf9da2c611ac426a6848651c0ad23703cec08b26c9e1a3",
    "youth-short-screen": "94731993f13b3ed7cdbbf1641de55c058d5bb04949b884811203d85859cb3f92",
}


def checked_screen(**item_provenance) -> dict:
    """The six-item screen with a version provenance block and provenance on every part."""
    data = short_screen_data()
    data["sources"][1]["kind"] = "primary"  # greenbaum-2018
    data["sources"].append(
        {
            "key": "a-summary",
            "title": "Someone else's summary",
            "publisher": "A blog",
            "year": 2020,
            "section": "list",
            "kind": "secondary",
        }
    )
    data["provenance"] = {"checked_on": "2026-12-02", "note": "Checked against the paper."}
    for item in data["sections"][0]["items"]:
        item["provenance"] = {"status": "confirmed", "by": ["greenbaum-2018"]}
    data["rules"][0]["provenance"] = {"status": "confirmed", "by": ["greenbaum-2018"]}
    data["sections"][0]["items"][0]["provenance"] = item_provenance or {
        "status": "confirmed",
        "by": ["greenbaum-2018"],
    }
    return data


def messages(data) -> list[tuple[str, str]]:
    with pytest.raises(InstrumentFileError) as caught:
        parse_instrument(data, origin="checked.v2.yaml")
    return [(problem.field, problem.message) for problem in caught.value.problems]


def test_a_fully_checked_file_parses():
    definition = build(checked_screen())
    assert definition.provenance.checked_on == "2026-12-02"
    assert version_fidelity(definition).unconfirmed_items == ()


def test_confirmed_without_naming_a_source_fails():
    problems = messages(checked_screen(status="confirmed"))
    assert problems == [
        (
            "sections.0.items.0.provenance.by",
            "a confirmed entry must name the source(s) it was checked against",
        )
    ]


@pytest.mark.parametrize(
    ("by", "message"),
    [
        (["nowhere"], "`nowhere` is not a declared source key"),
        (["possible-tier"], "`possible-tier` is a local policy, not a published source"),
        (["a-summary"], "a confirmed entry is checked against primary sources; `a-summary` is"),
        (["ilo-ec-2009"], "source `ilo-ec-2009` needs `kind: primary` or `kind: secondary`"),
    ],
)
def test_confirmed_must_name_a_declared_primary_source(by, message):
    [(field, text)] = messages(checked_screen(status="confirmed", by=by))
    assert field == "sections.0.items.0.provenance.by.0"
    assert text.startswith(message)


def test_secondary_only_must_name_a_secondary_source():
    [(_, text)] = messages(checked_screen(status="secondary_only", by=["greenbaum-2018"]))
    assert "checked against secondary sources" in text
    build(checked_screen(status="secondary_only", by=["a-summary"]))


def test_not_confirmed_names_no_source_and_says_what_was_tried():
    problems = messages(checked_screen(status="not_confirmed", by=["greenbaum-2018"]))
    assert [field for field, _ in problems] == [
        "sections.0.items.0.provenance.by",
        "sections.0.items.0.provenance.note",
    ]
    build(checked_screen(status="not_confirmed", note="Only the abstract could be read."))


def test_a_checked_version_needs_provenance_on_every_item_and_sourced_rule():
    data = checked_screen()
    del data["sections"][0]["items"][2]["provenance"]
    del data["rules"][0]["provenance"]
    fields = [field for field, _ in messages(data)]
    assert fields == ["sections.0.items.2.provenance", "rules.0.provenance"]


def test_a_rule_of_local_policy_needs_no_provenance():
    data = checked_screen()
    data["rules"][0]["source"] = "possible-tier"
    del data["rules"][0]["provenance"]
    build(data)


def test_validation_figures_are_checked():
    data = checked_screen()
    data["validation"] = [
        {"source": "nowhere", "population": "p", "n": 10, "sensitivity": 90},
        {"source": "greenbaum-2018", "population": "p", "n": 10, "sensitivity": 101},
        {
            "source": "greenbaum-2018",
            "population": "p",
            "n": 10,
            "sensitivity": 90,
            "age_min": 18,
            "age_max": 12,
        },
    ]
    fields = [field for field, _ in messages(data)]
    assert fields == ["validation.1.sensitivity", "validation.0.source", "validation.2.age_max"]


def test_empty_new_parts_leave_the_content_hash_as_it_was():
    data = short_screen_data()
    before = build(data).content_hash()
    grown = copy.deepcopy(data)
    grown["validation"] = []
    assert build(grown).content_hash() == before
    assert "provenance" not in build(data).model_dump(mode="json")


@pytest.mark.parametrize("slug", sorted(PUBLISHED_V1_HASHES))
def test_every_published_v1_keeps_its_content_hash(slug):
    definition = load_instrument_file(SEEDS / f"{slug}.v1.yaml")
    assert definition.content_hash() == PUBLISHED_V1_HASHES[slug]


def test_an_unchecked_version_counts_every_grade_as_unconfirmed():
    definition = load_instrument_file(SEEDS / "ilo-ec-adult-labour.v1.yaml")
    fidelity = version_fidelity(definition)
    assert not fidelity.checked
    assert len(fidelity.unconfirmed_grades) == 67
    assert fidelity.unconfirmed_items == ()  # nothing to say about ungraded items of v1


def test_a_checked_version_lists_items_and_rules_not_confirmed():
    data = checked_screen(status="not_confirmed", note="Abstract only.")
    data["rules"][0]["provenance"] = {"status": "not_confirmed", "note": "Abstract only."}
    fidelity = version_fidelity(build(data))
    assert fidelity.unconfirmed_items == ("screen_1",)
    assert fidelity.unconfirmed_rules == ("enough_yes",)


def with_ranges(*ranges):
    data = checked_screen()
    data["validation"] = [
        {"source": "greenbaum-2018", "population": "p", "n": 10, "sensitivity": 90, **r}
        for r in ranges
    ]
    return build(data)


@pytest.mark.parametrize(
    ("ranges", "age", "band", "expected"),
    [
        ([{"age_min": 18, "age_max": 22}], 20, "adult", None),
        ([{"age_min": 18, "age_max": 22}], 18, "adult", None),
        ([{"age_min": 18, "age_max": 22}], 23, "adult", "outside"),
        ([{"age_min": 18, "age_max": 22}], 16, "minor", "outside"),
        ([{"age_min": 18, "age_max": 22}], None, "minor", "outside"),
        ([{"age_min": 18, "age_max": 22}], None, "adult", "unknown_age"),
        ([{"age_min": 18, "age_max": 22}], None, "unknown", "unknown_age"),
        ([{"age_min": 12, "age_max": 18}, {"age_min": 10, "age_max": 18}], 11, "minor", None),
        ([{"age_min": 12, "age_max": 18}, {"age_min": 11, "age_max": 17}], 19, "adult", "outside"),
        ([{"age_min": 0, "age_max": 17}], None, "minor", None),
        ([{}], 50, "adult", None),  # a validation without ages: no age caution
    ],
)
def test_age_caution_uses_the_age_or_the_age_band(ranges, age, band, expected):
    caution = validation_age_caution(with_ranges(*ranges), age=age, age_band=band)
    assert (caution.kind if caution else None) == expected


@pytest.mark.parametrize(
    ("settings", "setting", "expected"),
    [
        ([["shelter"]], "shelter", None),
        ([["shelter"]], "station", ("shelter",)),
        ([["clinic"], ["clinic", "shelter"]], "shelter", None),
        ([["clinic"], ["clinic", "shelter"]], "hotline", ("clinic", "shelter")),
        ([[]], "hotline", None),  # no validation names its setting: nothing to caution
    ],
)
def test_setting_caution_names_the_validated_settings(settings, setting, expected):
    definition = with_ranges(*({"settings": keys} for keys in settings))
    assert validation_setting_caution(definition, setting=setting) == expected
