"""Provider answers: acknowledge, accept, decline (with a reason), services started. Each is a
transition with its event; the same answer twice changes nothing (callbacks are retried)."""

from __future__ import annotations

from django.db import transaction

from config.access_log import REFERRAL, access_log_note
from config.errors import ValidationError
from referrals.errors import ReferralNotFound
from referrals.models import Referral, ServiceProvider
from referrals.models import ReferralStatus as S
from referrals.permissions import ReferralAction, referral_access
from referrals.services.transitions import referral_transition
from screening.models import User
from screening.services._common import clean_text

ANSWERS: dict[str, str] = {
    "acknowledge": S.ACKNOWLEDGED,
    "accept": S.ACCEPTED,
    "decline": S.DECLINED,
    "services_started": S.SERVICES_STARTED,
}
# As on the provider's page and in the API; the signed callback has no form to limit it.
NOTE_MAX_LENGTH = 2000
PROVIDER_DECLINE_REASONS = (
    Referral.DeclineReason.NO_CAPACITY,
    Referral.DeclineReason.OUT_OF_SCOPE,
    Referral.DeclineReason.NOT_ELIGIBLE,
    Referral.DeclineReason.PERSON_DECLINED,
    Referral.DeclineReason.OTHER,
)


def referral_for_callback(*, referral_id: int, provider: ServiceProvider) -> Referral:
    """The signed callback's access check: the referral, locked, if it was sent to this
    provider (`ReferralNotFound` otherwise), with the access noted in the access log."""
    referral = (
        Referral.objects.select_for_update().filter(pk=referral_id, provider=provider).first()
    )
    if referral is None:
        raise ReferralNotFound()
    access_log_note(object_type=REFERRAL, object_ref=str(referral.pk), case_id=referral.case_id)
    return referral


@transaction.atomic
def referral_provider_answer(
    *,
    referral_id: int,
    answer: str,
    provider: ServiceProvider | None = None,
    by: User | None = None,
    reason_code: str = "",
    note: str = "",
) -> Referral:
    """Record a provider's answer, from its signed callback (`provider`) or one of its staff
    on the provider page (`by`). Raises `ReferralNotFound` for a referral not sent to them,
    `ValidationError` for a bad answer, `IllegalTransition` for an answer out of order."""
    if (provider is None) == (by is None):
        raise TypeError("give exactly one of provider or by")
    problems: dict[str, list[str]] = {}
    if answer not in ANSWERS:
        problems["answer"] = [f"Choose one of: {', '.join(ANSWERS)}."]
    elif answer == "decline" and reason_code not in PROVIDER_DECLINE_REASONS:
        problems["reason_code"] = [f"Choose one of: {', '.join(PROVIDER_DECLINE_REASONS)}."]
    elif answer == "decline" and reason_code == "other" and not clean_text(note):
        problems["note"] = ["Explain the reason."]
    if len(clean_text(note)) > NOTE_MAX_LENGTH:
        problems["note"] = [f"Keep the note to {NOTE_MAX_LENGTH} characters."]
    if problems:
        raise ValidationError("The answer is not valid.", problems)
    if by is not None:
        referral = referral_access(
            user=by, referral_id=referral_id, action=ReferralAction.ANSWER, for_update=True
        )
        answering_provider = referral.provider
    else:
        referral = referral_for_callback(referral_id=referral_id, provider=provider)
        answering_provider = provider
    target = ANSWERS[answer]
    if referral.status == target:
        return referral
    return referral_transition(
        referral=referral,
        to=target,
        by=by,
        by_provider=answering_provider,
        reason_code=reason_code if answer == "decline" else "",
        note=clean_text(note),
    )
