"""The one consent gate for referrals: which active consent, if any, covers disclosing a case
to a provider for a service type."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Case, IntegerField, Q, Value, When

from referrals.models import ServiceProvider
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
    consents = (
        Consent.objects.filter(case_id=case_id)
        .active(at)
        .filter(
            Q(scope=Consent.Scope.REFERRAL_SERVICE_TYPE, service_type=service_type)
            | Q(scope=Consent.Scope.REFERRAL_PROVIDER)
            & (Q(provider_ref=provider.slug) | Q(provider_name__iexact=provider.name))
        )
        .annotate(
            specific=Case(
                When(scope=Consent.Scope.REFERRAL_PROVIDER, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("specific", "-given_at", "-pk")
    )
    if exclude_id is not None:
        consents = consents.exclude(pk=exclude_id)
    return consents.first()


def missing_consent_text(*, provider: ServiceProvider, service_type: str) -> str:
    """What the worker must record to unblock the referral (no case data)."""
    return (
        f"written, time-limited consent to a referral for {service_type} "
        f"or to this provider ({provider.slug})"
    )
