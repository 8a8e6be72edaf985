"""Writes for consent: recording it and withdrawing it (which takes effect at once)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config.access_log import CONSENT, access_log_note
from config.errors import InvalidState
from config.history import history_user_set
from config.outbox import outbox_emit
from screening.events import CONSENT_RECORDED, CONSENT_WITHDRAWN
from screening.models import Case, Consent, User
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
    # Referrals blocked for want of consent wait for exactly this: the event, committed with
    # the consent, lets referral routing move the ones it covers on to pending approval.
    outbox_emit(topic=CONSENT_RECORDED, subject=consent)
    return consent


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
    # screening services check `consent.is_active()` on every write. Every disclosure passes
    # the consent gate, which reads the consent as it is now; the event, committed with the
    # withdrawal, has referrals cancel what only this consent covered and ask providers that
    # received a referral to discard it.
    outbox_emit(topic=CONSENT_WITHDRAWN, subject=consent)
    return consent
