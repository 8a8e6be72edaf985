"""Differences between two instrument versions, for the reviewer of a new version."""

from engine_instruments import build, mixed_data, yes_no

from indicators.engine import diff_definitions, format_diff


def test_added_removed_and_changed_items_with_field_level_changes():
    old = mixed_data()
    new = mixed_data()
    new["version"] = 2
    items = new["sections"][1]["items"]
    items[0]["prompt"]["en"] = "Has anyone hurt you?"  # hit: wording
    items[1]["why"] = {"en": "Threats keep people in place."}  # threatened: new field
    del items[2]  # papers_taken removed
    items.append(yes_no("watched", "confinement"))
    new["rules"][0]["weights"].pop("papers_taken")
    new["rules"][0]["weights"]["watched"] = 1

    diff = diff_definitions(build(old), build(new))

    assert diff["items"]["added"] == ["watched"]
    assert diff["items"]["removed"] == ["papers_taken"]
    assert diff["items"]["changed"] == {
        "hit": {"prompt.en": {"old": "Question hit?", "new": "Has anyone hurt you?"}},
        "threatened": {"why.en": {"old": None, "new": "Threats keep people in place."}},
    }
    assert diff["rules"]["changed"]["concern"] == {
        "weights.papers_taken": {"old": 2, "new": None},
        "weights.watched": {"old": None, "new": 1},
    }
    assert diff["metadata"] == {"version": {"old": 1, "new": 2}}
    assert diff["identical"] is False

    text = format_diff(diff)
    assert "Items added (1): watched" in text
    assert "Items removed (1): papers_taken" in text
    assert '  prompt.en: "Question hit?" → "Has anyone hurt you?"' in text


def test_outcome_and_source_changes_and_reordering():
    old = mixed_data()
    new = mixed_data()
    new["outcomes"][1]["actions"] = [{"en": "Call the supervisor"}]
    new["sources"][0]["year"] = 2010
    items = new["sections"][1]["items"]
    items[0], items[1] = items[1], items[0]

    diff = diff_definitions(build(old), build(new))

    assert diff["outcomes"]["changed"] == {
        "concern": {"actions.0.en": {"old": "Action for concern", "new": "Call the supervisor"}}
    }
    assert diff["sources"]["changed"] == {"ilo-ec-2009": {"year": {"old": 2009, "new": 2010}}}
    assert diff["order"]["items"]["new"][3:5] == ["threatened", "hit"]


def test_identical_versions():
    diff = diff_definitions(build(mixed_data()), build(mixed_data()))

    assert diff["identical"] is True
    assert format_diff(diff).endswith("No differences.")
