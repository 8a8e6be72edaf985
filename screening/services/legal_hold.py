"""Legal hold: a supervisor of the case's agency keeps a case out of the retention purge
(docs/retention.md), with a reason, e.g. proceedings it is evidence in or a records request.
Setting and releasing are recorded in the case's change history (who, when; the reason is
sealed and shows only as "changed")."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from config.errors import InvalidState
from config.history import history_user_set
from screening.models import Case, User
from screening.permissions import CaseAction, case_access
from screening.services._common import clean_text, raise_if

MAX_REASON_LENGTH = Case._meta.get_field("legal_hold_reason").max_length
HOLD_FIELDS = ["legal_hold_at", "legal_hold_by", "legal_hold_reason", "updated_at"]


@transaction.atomic
def case_legal_hold_set(*, case: Case, by: User, reason: str) -> Case:
    """Put the case on legal hold: the purge never deletes it, closed or not, until released.
    Supervisors of the owning agency only; the reason is required."""
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.LEGAL_HOLD, for_update=True
    )
    reason = clean_text(reason)
    if not reason:
        raise_if({"reason": ["Say why the case must be kept (e.g. the proceedings it is for)."]})
    if len(reason) > MAX_REASON_LENGTH:
        raise_if({"reason": [f"Keep the reason to {MAX_REASON_LENGTH} characters."]})
    if case.on_legal_hold:
        raise InvalidState("The case is already on legal hold.")
    case.legal_hold_at = timezone.now()
    case.legal_hold_by = by
    case.legal_hold_reason = reason
    history_user_set(case, by)
    case.save(update_fields=HOLD_FIELDS)
    return case


@transaction.atomic
def case_legal_hold_release(*, case: Case, by: User) -> Case:
    """Release the hold: from now on the case follows the retention periods again.
    Supervisors of the owning agency only."""
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.LEGAL_HOLD, for_update=True
    )
    if not case.on_legal_hold:
        raise InvalidState("The case is not on legal hold.")
    case.legal_hold_at = None
    case.legal_hold_by = None
    case.legal_hold_reason = ""
    history_user_set(case, by)
    case.save(update_fields=HOLD_FIELDS)
    return case
