"""`manage.py load_instruments` and the observation declaration (issue 16): a bad `subject` is
refused with the file, field and line and loads nothing; the premises checklist v2 loads beside
v1, which keeps its content hash."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from indicators.models import InstrumentVersion

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "instruments"
V1_HASH = "bc472517e37c8f52d74a348cc0e7b4f808b83835b8b1bb4b7d5fda10ce1a6bd8"


def test_a_bad_subject_is_refused_naming_file_field_and_line(tmp_path, capsys):
    text = (SEEDS / "imb-premises.v2.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "imb-premises.v2.yaml"
    bad.write_text(text.replace("subject: place\n", "subject: premises\n", 1), encoding="utf-8")
    line = text.splitlines().index("subject: place") + 1
    with pytest.raises(CommandError, match="1 problem"):
        call_command("load_instruments", str(bad), stdout=io.StringIO())
    errors = capsys.readouterr().err
    assert f"{bad}: item=- field=subject: `subject` is `person`" in errors
    assert f"(line {line})" in errors
    assert not InstrumentVersion.objects.exists()


def test_the_premises_checklist_v2_loads_beside_v1():
    call_command(
        "load_instruments",
        str(SEEDS / "imb-premises.v1.yaml"),
        str(SEEDS / "imb-premises.v2.yaml"),
        stdout=io.StringIO(),
    )
    v1, v2 = InstrumentVersion.objects.filter(instrument__slug="imb-premises").order_by("number")
    assert v1.content_hash == V1_HASH
    assert "subject" not in v1.definition
    assert v2.definition["subject"] == "place"
