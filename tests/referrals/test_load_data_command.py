"""`manage.py generate_load_data` as a command: reproducible, refuses what it must refuse.
(The invariants of the data it writes: test_load_data.py.)"""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings

from config.models import AccessLogEntry
from referrals.loadgen import LoadGenerator, LoadPlan
from referrals.models import Referral
from screening.models import Case, Screening
from tests.referrals.test_load_data import generate

pytestmark = pytest.mark.django_db


def _fingerprint() -> list[tuple]:
    cases = [
        (c.reference, c.agency.name, c.age, c.age_band, c.status, c.created_at, c.identifying_name)
        for c in Case.objects.select_related("agency").order_by("pk")
    ]
    screenings = list(Screening.objects.order_by("pk").values_list("status", "outcome"))
    referrals = list(Referral.objects.order_by("pk").values_list("status", "service_type"))
    return [*cases, *screenings, *referrals]


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data():
    runs = []
    for seed in (3, 3, 4):
        with transaction.atomic():
            generate(cases=60, seed=seed)
            runs.append(_fingerprint())
            transaction.set_rollback(True)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_a_database_with_cases_is_refused_unless_appending():
    generate(cases=30)
    with pytest.raises(CommandError, match="--append"):
        generate(cases=30)
    assert Case.objects.count() == 30
    output = generate(cases=30, append=True)
    assert "Generated 30 cases" in output
    assert Case.objects.count() == 60
    assert Case.objects.values("reference").distinct().count() == 60


@override_settings(DEMO_SEEDS_ALLOWED=False)
def test_the_production_profile_is_refused():
    with pytest.raises(CommandError, match="local and test profiles only"):
        generate(cases=10)
    assert not Case.objects.exists()


def test_generated_references_never_repeat_one_already_taken():
    first = LoadGenerator(LoadPlan.sized(cases=5), password="x")._reference()
    again = LoadGenerator(LoadPlan.sized(cases=5), password="x")
    assert again._reference() == first  # the same seed draws the same reference...
    again = LoadGenerator(LoadPlan.sized(cases=5), password="x")
    again.existing_references = frozenset({first})
    assert again._reference() != first  # ...unless a case has it: then the next one


def test_a_reference_another_chunk_took_is_drawn_again_in_the_case_and_its_log_entries():
    generator = LoadGenerator(LoadPlan.sized(cases=5), password="x")
    taken = "C-AAAA-AAAA"
    generator.taken_references.add(taken)
    case = {"id": 7, "reference": taken}
    entries = [{"case_id": 7, "object_ref": taken}, {"case_id": 8, "object_ref": taken}]
    generator._reference_redraw(case, {AccessLogEntry: entries})
    assert case["reference"] != taken and case["reference"].startswith("C-")
    assert entries[0]["object_ref"] == case["reference"]
    assert entries[1]["object_ref"] == taken  # another case's entry is left alone


def test_bad_sizes_are_refused_with_a_clear_error():
    with pytest.raises(CommandError, match="at least 1"):
        generate(cases=0)
    with pytest.raises(CommandError, match="per agency"):
        generate(cases=100, agencies=10, staff=5)


def test_the_data_do_not_depend_on_how_many_processes_make_them():
    runs = []
    for workers in (1, 2):
        with transaction.atomic():
            generate(cases=90, seed=5, workers=workers, chunk=30)
            runs.append(_fingerprint())
            transaction.set_rollback(True)
    assert runs[0] == runs[1]
