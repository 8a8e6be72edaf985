import json
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import CommandError, call_command

from indicators.models import Instrument, InstrumentVersion, Item

pytestmark = pytest.mark.django_db

SEEDS = Path(settings.BASE_DIR) / "seeds" / "instruments"


def test_loading_twice_creates_once_and_reports_unchanged(write_instrument, capsys):
    path = write_instrument()
    call_command("load_instruments", str(path))
    assert "created" in capsys.readouterr().out
    call_command("load_instruments", str(path))
    assert "unchanged" in capsys.readouterr().out
    version = InstrumentVersion.objects.get()
    assert version.number == 1
    assert len(version.content_hash) == 64
    assert list(Item.objects.values_list("key", flat=True)) == [
        "ran_away",
        "police_contact",
        "injury",
    ]


def test_a_changed_published_version_is_refused_and_says_to_bump(write_instrument):
    call_command("load_instruments", str(write_instrument()))
    stored_hash = InstrumentVersion.objects.get().content_hash

    changed = write_instrument(prompt="Have you ever left home without saying?")
    with pytest.raises(CommandError, match=r"immutable, bump the version number to v2"):
        call_command("load_instruments", str(changed))
    assert InstrumentVersion.objects.get().content_hash == stored_hash

    call_command(
        "load_instruments",
        str(write_instrument(version=2, prompt="Have you ever left home without saying?")),
    )
    assert list(InstrumentVersion.objects.values_list("number", flat=True)) == [1, 2]


def test_a_draft_may_change_until_it_is_published(write_instrument, capsys):
    call_command("load_instruments", str(write_instrument(status="draft")))
    call_command("load_instruments", str(write_instrument(status="draft", prompt="Reworded?")))
    assert "updated draft" in capsys.readouterr().out
    call_command("load_instruments", str(write_instrument(status="published", prompt="Reworded?")))
    assert "published draft" in capsys.readouterr().out
    assert InstrumentVersion.objects.get().status == "published"


def test_every_problem_is_reported_with_file_item_and_field_and_nothing_is_loaded(
    write_instrument, tmp_path, capsys
):
    good = write_instrument()
    broken = tmp_path / "broken-screen.v1.yaml"
    document = yaml.safe_load(good.read_text())
    document["slug"] = "broken-screen"
    items = document["sections"][0]["items"]
    items[0]["domain"] = "not_a_domain"
    items[2]["response_type"] = "maybe"
    text = yaml.safe_dump(document, sort_keys=False)
    broken.write_text(text)

    with pytest.raises(CommandError, match="nothing was loaded"):
        call_command("load_instruments", str(good), str(broken))
    errors = capsys.readouterr().err
    assert "broken-screen.v1.yaml" in errors
    assert "item=ran_away" in errors and "domain" in errors
    assert "item=injury" in errors and "response_type" in errors
    assert not InstrumentVersion.objects.exists()


def test_every_seed_instrument_loads_and_exports(capsys):
    call_command("load_instruments")
    capsys.readouterr()
    slugs = set(Instrument.objects.values_list("slug", flat=True))
    assert {
        "ilo-ec-adult-labour",
        "ilo-ec-adult-sexual",
        "ilo-ec-child-labour",
        "ilo-ec-child-sexual",
        "ilo-forced-labour-11",
        "imb-premises",
        "youth-short-screen",
        "qyit",
        "frontline-adult-conversation",
        "hotline-triage",
    } <= slugs
    for slug in slugs:
        call_command("instrument_export", slug, "--version", "1")
        document = json.loads(capsys.readouterr().out)
        assert document["slug"] == slug and document["version"] == 1
        assert document["sources"], slug
        for item in document["items"]:
            assert {"key", "domain", "dimension", "strength", "response_type", "options"} <= set(
                item
            )


def test_a_provenance_claiming_checked_without_a_source_is_refused_and_nothing_loaded(
    write_instrument, capsys
):
    good = write_instrument()
    claimed = write_instrument(version=2)
    text = claimed.read_text().replace(
        "        source: test-source\n",
        "        source: test-source\n        provenance: {status: confirmed}\n",
        1,
    )
    assert text != claimed.read_text()
    claimed.write_text(text)
    with pytest.raises(CommandError, match="1 problem"):
        call_command("load_instruments", str(good), str(claimed))
    errors = capsys.readouterr().err
    assert "item=ran_away" in errors
    assert "a confirmed entry must name the source(s) it was checked against" in errors
    assert not InstrumentVersion.objects.exists()
