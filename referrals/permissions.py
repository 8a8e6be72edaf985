"""Who may see and decide referrals. One access function; "missing" and "forbidden" are the
same `ReferralNotFound` (404).

- Viewing a referral follows its case (`case_access` with `view`); provider staff of the
  provider's agency also view a referral once it was sent to them (`sent_at` set), without
  its case: they see the packet and the history, never the case (`referral.case` is not
  theirs to show, and the pages for them do not read it).
- Approving, declining and retrying delivery need a supervisor of the case's owning agency
  (`case_access` with `assign`, which is exactly that).
- Closing with an outcome, escalating by hand and proposing by hand are for who may change
  the case (`case_access` with `change`): its workers and the agency's supervisors.
- Provider staff answer (and close) referrals sent to a provider of their own agency.
"""

from __future__ import annotations

from django.db import models

from config.access_log import REFERRAL, access_log_note, access_log_note_refused
from config.errors import ActionNotAllowed, CaseNotFound
from referrals.errors import ReferralNotFound
from referrals.models import Referral
from screening.models import User
from screening.permissions import CaseAction, case_access
from screening.roles import Role


def is_active_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.agency_id)


class ReferralAction(models.TextChoices):
    VIEW = "view", "View"
    DECIDE = "decide", "Approve, decline, retry delivery"
    CHANGE = "change", "Close, escalate as the referring agency"
    ANSWER = "answer", "Answer as the provider"


CASE_ACTIONS = {
    ReferralAction.VIEW: CaseAction.VIEW,
    ReferralAction.DECIDE: CaseAction.ASSIGN,
    ReferralAction.CHANGE: CaseAction.CHANGE,
}
REFUSALS = {
    ReferralAction.DECIDE: "Only a supervisor of the case's agency decides referrals.",
    ReferralAction.CHANGE: "Only the case's workers and supervisors change its referrals.",
}


def is_provider_staff(user) -> bool:
    return is_active_staff(user) and user.has_role(Role.PROVIDER_STAFF)


def referral_access(
    *, user: User, referral_id: int | str, action: str, for_update: bool = False
) -> Referral:
    """The referral, if `user` may do `action` with it; else `ReferralNotFound` (cannot see it)
    or `ActionNotAllowed` (can see it, may not do this)."""
    action = ReferralAction(action)
    try:
        referral_pk = int(referral_id)
    except (TypeError, ValueError):
        raise ReferralNotFound() from None
    referrals = Referral.objects.select_related("provider")
    if action == ReferralAction.ANSWER or (
        action == ReferralAction.VIEW and is_provider_staff(user)
    ):
        if not is_provider_staff(user):
            raise ReferralNotFound()
        referrals = referrals.filter(provider__agency_id=user.agency_id)
        if action == ReferralAction.VIEW:
            referrals = referrals.filter(sent_at__isnull=False)
        if for_update:
            referrals = referrals.select_for_update(of=("self",))
        referral = referrals.filter(pk=referral_pk).first()
        if referral is None:
            _note_refused(referral_pk)
            raise ReferralNotFound()
        access_log_note(object_type=REFERRAL, object_ref=str(referral.pk), case_id=referral.case_id)
        return referral
    case_id = Referral.objects.filter(pk=referral_pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise ReferralNotFound()
    try:
        case = case_access(
            user=user,
            case_reference_or_id=case_id,
            action=CASE_ACTIONS[action],
            for_update=for_update,
        )
    except CaseNotFound:
        access_log_note_refused(object_type=REFERRAL, object_ref=str(referral_pk), case_id=case_id)
        raise ReferralNotFound() from None
    except ActionNotAllowed:
        raise ActionNotAllowed(REFUSALS.get(action, "Not allowed.")) from None
    if for_update:
        referrals = referrals.select_for_update(of=("self",))
    referral = referrals.get(pk=referral_pk)
    referral.case = case
    access_log_note(object_type=REFERRAL, object_ref=str(referral.pk), case_id=case.pk)
    return referral


def _note_refused(referral_pk: int) -> None:
    """A referral that exists but is not the caller's to answer goes in the refusal's entry
    (one query, on refusals only); the answer stays the 404 of a missing referral."""
    case_id = Referral.objects.filter(pk=referral_pk).values_list("case_id", flat=True).first()
    if case_id is not None:
        access_log_note_refused(object_type=REFERRAL, object_ref=str(referral_pk), case_id=case_id)
