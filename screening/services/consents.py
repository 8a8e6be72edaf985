"""Writes for consent: recording it and withdrawing it (which takes effect at once)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config.access_log import CONSENT, access_log_note
from config.errors import InvalidState
from config.history import history_user_set
from screening.models import Case, Consent, Screening, User
from screening.permissions import CaseAction, case_access, consent_access
from screening.services._common import clean_text, full_clean, raise_if

# Scopes that disclose information to someone else. VAWA/VOCA: release of personally
# identifying information needs informed, *written*, reasonably *time-limited* consent.
DISCLOSURE_SCOPES = frozenset(
    {
        Consent.Scope.REFERRAL_SERVICE_TYPE,
        Consent.Scope.REFERRAL_PROVIDER,
        Consent.Scope.LAW_ENFORCEMENT_SHARING,
    }
)


@transaction.atomic
def consent_record(
    *,
    case: Case,
    by: User,
    scope: str,
    method: str,
    service_type: str = "",
    provider_name: str = "",
    provider_ref: str = "",
    interpreter_used: bool = False,
    interpreter_language: str = "",
    witness: str = "",
    given_at: datetime | None = None,
    valid_until: datetime | None = None,
) -> Consent:
    """Record one consent the person gave for one scope.

    Disclosure scopes (referrals, law enforcement) must be written and time-limited.
    """
    case = case_access(
        user=by, case_reference_or_id=case.pk, action=CaseAction.CHANGE, for_update=True
    )
    if not case.is_open:
        raise InvalidState("This case is closed.")
    now = timezone.now()
    given_at = given_at or now
    problems: dict[str, list[str]] = {}
    if scope not in Consent.Scope.values:
        problems["scope"] = [f"Choose one of: {', '.join(Consent.Scope.values)}."]
    if method not in Consent.Method.values:
        problems["method"] = [f"Choose one of: {', '.join(Consent.Method.values)}."]
    if scope == Consent.Scope.REFERRAL_SERVICE_TYPE and not clean_text(service_type):
        problems["service_type"] = ["Name the type of service the person agreed to."]
    if scope != Consent.Scope.REFERRAL_SERVICE_TYPE and clean_text(service_type):
        problems["service_type"] = ["Only a referral-to-a-service-type consent names one."]
    if scope == Consent.Scope.REFERRAL_PROVIDER and not (
        clean_text(provider_name) or clean_text(provider_ref)
    ):
        problems["provider_name"] = ["Name the provider the person agreed to."]
    if scope != Consent.Scope.REFERRAL_PROVIDER and (
        clean_text(provider_name) or clean_text(provider_ref)
    ):
        problems["provider_name"] = ["Only a referral-to-a-provider consent names one."]
    if scope in DISCLOSURE_SCOPES:
        if method != Consent.Method.WRITTEN:
            problems.setdefault("method", []).append(
                "Consent to pass information on must be written."
            )
        if valid_until is None:
            problems["valid_until"] = ["Consent to pass information on must have an end date."]
    if interpreter_used and not clean_text(interpreter_language):
        problems["interpreter_language"] = ["Say which language the interpreter used."]
    if given_at > now:
        problems["given_at"] = ["Consent cannot be given in the future."]
    if valid_until is not None and valid_until <= max(given_at, now):
        problems.setdefault("valid_until", []).append("The end date must be in the future.")
    raise_if(problems)
    consent = Consent(
        case=case,
        scope=scope,
        method=method,
        service_type=clean_text(service_type),
        provider_name=clean_text(provider_name),
        provider_ref=clean_text(provider_ref),
        interpreter_used=interpreter_used,
        interpreter_language=clean_text(interpreter_language) if interpreter_used else "",
        witness=clean_text(witness),
        given_by=by,
        given_at=given_at,
        valid_until=valid_until,
    )
    full_clean(consent)
    history_user_set(consent, by)
    consent.save()
    access_log_note(object_type=CONSENT, object_ref=str(consent.pk), case_id=case.pk)
    if scope in (Consent.Scope.REFERRAL_SERVICE_TYPE, Consent.Scope.REFERRAL_PROVIDER):
        # A referral blocked for want of consent waits for exactly this: ask for routing of
        # the latest result again (an outbox row in this transaction, so it is not lost);
        # routing moves the referrals this consent covers on to pending approval.
        from referrals.services import routing_request

        screening_id = _latest_screening_with_blocked_referrals(case=case)
        if screening_id is not None:
            routing_request(screening_id=screening_id)
    return consent


def _latest_screening_with_blocked_referrals(*, case: Case) -> int | None:
    """The case's latest submitted (or reviewed) screening, if any referral of the case is
    `blocked_needs_consent`; else None."""
    from referrals.models import ReferralStatus

    if not case.referrals.filter(status=ReferralStatus.BLOCKED_NEEDS_CONSENT).exists():
        return None
    return (
        case.screenings.filter(status__in=(Screening.Status.SUBMITTED, Screening.Status.REVIEWED))
        .order_by("-submitted_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )


@transaction.atomic
def consent_withdraw(*, consent: Consent, by: User, note: str = "") -> Consent:
    """The person withdrew this consent: it stops covering anything from now on.

    Oral withdrawal takes effect immediately (practice guide), so this works on closed cases
    too and needs nothing but a worker who may change the case. Withdrawing twice changes
    nothing.
    """
    consent = consent_access(
        user=by, consent_id=consent.pk, action=CaseAction.CHANGE, for_update=True
    )
    if consent.withdrawn_at is not None:
        return consent
    consent.withdrawn_at = timezone.now()
    consent.withdrawn_by = by
    consent.withdrawal_note = clean_text(note)
    history_user_set(consent, by)
    consent.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_note"])
    # Draft screenings resting on this consent cannot be saved or submitted any more: the
    # screening services check `consent.is_active()` on every write.
    _cancel_referrals_covered_by(consent_id=consent.pk, by=by)
    return consent


def _cancel_referrals_covered_by(*, consent_id: int, by: User) -> None:
    """Cancel, in this same transaction, every not-yet-accepted referral that only this
    consent covered; providers that already received one are told to discard it."""
    from referrals.services import referrals_cancel_for_withdrawn_consent

    referrals_cancel_for_withdrawn_consent(consent_id=consent_id, by=by)
