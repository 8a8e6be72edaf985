"""The consent gate for referrals: which active consent, if any, covers disclosing a case to
a provider for a service type. The query itself is screening's (`screening.consent_gate`),
shared with the sharing and transfer of cases between agencies."""

from __future__ import annotations

from datetime import datetime

from config.labels import label
from referrals.models import ServiceProvider
from screening.consent_gate import recipient_consents
from screening.models import Consent


def covering_consent(
    *,
    case_id: int,
    provider: ServiceProvider,
    service_type: str,
    at: datetime | None = None,
    exclude_id: int | None = None,
) -> Consent | None:
    """The newest active consent covering this provider or service type; a consent naming the
    provider comes first (a release per recipient is the better practice and allows more)."""
    consents = recipient_consents(
        case_id=case_id,
        recipient_ref=provider.slug,
        recipient_name=provider.name,
        service_type=service_type,
        at=at,
    )
    if exclude_id is not None:
        consents = consents.exclude(pk=exclude_id)
    return consents.first()


def missing_consent_text(*, provider: ServiceProvider, service_type: str) -> str:
    """What the worker must record to unblock the referral (no case data), in the words the
    pages use: the service's label and the provider's name, never their codes."""
    return (
        f"written, time-limited consent to a referral for "
        f"{label(service_type, 'service_type').lower()} or to this provider ({provider.name})"
    )
