"""A closed referral always says what came of it (issue 14): the database refuses a closed row
without its outcome however it is written, and the migration that adds the constraint marks
rows closed before outcomes existed "other"."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from referrals.models import Referral

BEFORE = [("referrals", "0008_place_referrals")]
CONSTRAINT = [("referrals", "0009_referral_closed_has_outcome")]


@pytest.mark.django_db
def test_the_database_refuses_a_closed_referral_without_its_outcome(referral_factory):
    referral = referral_factory(status="accepted")
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(status="closed")
    referral.refresh_from_db()
    assert referral.status == "accepted"
    Referral.objects.filter(pk=referral.pk).update(status="closed", outcome="not_reached")
    assert Referral.objects.get(pk=referral.pk).status == "closed"


@pytest.mark.django_db
def test_a_closed_referral_cannot_lose_its_outcome(referral_factory):
    referral = referral_factory(status="closed", outcome="moved_away")
    with pytest.raises(IntegrityError), transaction.atomic():
        Referral.objects.filter(pk=referral.pk).update(outcome="")
    assert Referral.objects.get(pk=referral.pk).outcome == "moved_away"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_marks_earlier_closed_rows_other_and_keeps_recorded_outcomes(
    referral_factory,
):
    earlier = referral_factory(status="accepted")
    recorded = referral_factory(status="accepted", service_type="medical")
    still_open = referral_factory(status="accepted", service_type="legal_aid")
    try:
        old = _migrate(BEFORE).get_model("referrals", "Referral")
        old.objects.filter(pk=earlier.pk).update(status="closed")
        old.objects.filter(pk=recorded.pk).update(status="closed", outcome="moved_away")
        _migrate(CONSTRAINT)
        assert dict(Referral.objects.values_list("pk", "outcome")) == {
            earlier.pk: "other",
            recorded.pk: "moved_away",
            still_open.pk: "",
        }
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
