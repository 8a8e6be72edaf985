import json

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(write_instrument, capsys):
    call_command("load_instruments", str(write_instrument()))
    capsys.readouterr()


def score(tmp_path, capsys, payload) -> dict:
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(payload))
    call_command(
        "instrument_score", "test-short-screen", "--version", "1", "--answers", str(answers)
    )
    return json.loads(capsys.readouterr().out)


def test_score_two_yes_is_positive_with_reasons_and_coverage(loaded, tmp_path, capsys):
    result = score(
        tmp_path, capsys, {"answers": {"ran_away": "yes", "police_contact": "yes", "injury": "no"}}
    )
    assert result["outcome"] == "screen_positive"
    assert result["coverage"]["answered"] == 3
    driving = {item["key"] for reason in result["reasons"] for item in reason.get("items", [])}
    assert {"ran_away", "police_contact"} <= driving


def test_score_one_yes_and_unknowns_is_indeterminate_not_negative(loaded, tmp_path, capsys):
    result = score(tmp_path, capsys, {"answers": {"ran_away": "yes", "police_contact": "unknown"}})
    assert result["outcome"] == "indeterminate"
    assert (result["best_case"], result["worst_case"]) == ("screen_negative", "screen_positive")


def test_score_raises_flags_from_context(loaded, tmp_path, capsys):
    result = score(
        tmp_path,
        capsys,
        {
            "answers": {"ran_away": "no", "police_contact": "no", "injury": "no"},
            "context": {"age": 15},
        },
    )
    assert result["outcome"] == "screen_negative"
    assert {"minor", "mandatory_report"} <= set(result["flags"])


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"answers": {"not_an_item": "yes"}}, "not_an_item"),
        ({"answers": {"ran_away": "perhaps"}}, "ran_away"),
        ({"answers": {"ran_away": "yes"}, "context": {"age": "old"}}, "age"),
    ],
)
def test_score_names_the_bad_key_and_exits_non_zero(loaded, tmp_path, capsys, payload, named):
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(payload))
    with pytest.raises(CommandError, match="nothing scored"):
        call_command(
            "instrument_score", "test-short-screen", "--version", "1", "--answers", str(answers)
        )
    assert named in capsys.readouterr().err


def test_score_rejects_a_file_that_is_not_json(loaded, tmp_path):
    answers = tmp_path / "answers.json"
    answers.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        call_command(
            "instrument_score", "test-short-screen", "--version", "1", "--answers", str(answers)
        )


def test_unknown_instrument_or_version_is_an_error(loaded, tmp_path):
    with pytest.raises(CommandError, match="no instrument version"):
        call_command("instrument_export", "test-short-screen", "--version", "9")


def test_diff_lists_changed_items(write_instrument, capsys):
    call_command("load_instruments", str(write_instrument()))
    call_command(
        "load_instruments", str(write_instrument(version=2, prompt="Have you ever left home?"))
    )
    capsys.readouterr()
    call_command("instrument_diff", "test-short-screen", "1", "2", "--json")
    diff = json.loads(capsys.readouterr().out)
    assert "ran_away" in json.dumps(diff["items"])
    call_command("instrument_diff", "test-short-screen", "1", "2")
    text = capsys.readouterr().out
    assert "ran_away" in text and "prompt" in text
