"""A case moved to another agency (screening's `case.transferred` event): its referrals now
belong to the new owner, in the supervisors' queue and on their pages."""

from __future__ import annotations

from django.db import transaction

from referrals.models import Referral
from screening.models import Case


@transaction.atomic
def referrals_case_agency_move(*, case_id: int) -> int:
    """Set every referral of the case to the case's owning agency as it is now (idempotent,
    and right whatever order repeated events arrive in). Returns how many moved; a purged
    case moves nothing."""
    agency_id = Case.objects.filter(pk=case_id).values_list("agency_id", flat=True).first()
    if agency_id is None:
        return 0
    return (
        Referral.objects.filter(case_id=case_id)
        .exclude(case_agency_id=agency_id)
        .update(case_agency_id=agency_id)
    )
