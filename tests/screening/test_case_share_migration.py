"""Migration screening 0013 gives every existing share its case's creation time, which the
"cases shared with my agency" walk orders on (issue 12)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from screening.models import CaseShare

BEFORE = [("screening", "0012_case_work")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_shares_made_before_the_migration_get_their_cases_creation_time():
    try:
        old = _migrate(BEFORE)
        Agency = old.get_model("screening", "Agency")  # noqa: N806
        User = old.get_model("screening", "User")  # noqa: N806
        Case = old.get_model("screening", "Case")  # noqa: N806
        OldShare = old.get_model("screening", "CaseShare")  # noqa: N806
        owner = Agency.objects.create(name="Owner", kind="ngo_social_services")
        receiving = Agency.objects.create(name="Receiving", kind="child_welfare")
        supervisor = User.objects.create(username="migration.supervisor", agency=owner)
        made = {}
        for index in range(3):
            case = Case.objects.create(
                reference=f"C-MIGR-{index:04d}", agency=owner, created_by=supervisor
            )
            when = timezone.now() - timedelta(days=400 * index)
            Case.objects.filter(pk=case.pk).update(created_at=when)
            OldShare.objects.create(
                case=case, shared_with_agency=receiving, reason="Joint work", shared_by=supervisor
            )
            made[case.pk] = Case.objects.get(pk=case.pk).created_at

        _migrate(_latest())

        shares = CaseShare.objects.filter(case_id__in=made)
        assert {share.case_id: share.case_created_at for share in shares} == made
    finally:
        _migrate(_latest())
