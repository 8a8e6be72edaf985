"""The consent gate: which of the person's active consents, if any, lets their case go to
someone else. Every disclosure asks here, referrals to providers (referrals/services/
consent_gate.py, through `recipient_consents`) as well as sharing and transfers between
agencies (`agency_disclosure_check`). It lives in screening/, beside the consents, so the
case work below referrals can use it (DESIGN "Layers point down").

The legal exception the gate knows: a case that carries a mandatory report (the person is or
may be under 18) goes to child welfare and to law enforcement without consent, because the
law requires the report (practice guide; referrals route the mandatory child-welfare report
the same way). Everything else needs the person's written, time-limited consent naming the
recipient (consent_record enforces written and time-limited for these scopes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import IntegerField, Q, QuerySet, Value, When

from screening.models import Agency, Case, Consent


def recipient_consents(
    *,
    case_id: int,
    recipient_ref: str = "",
    recipient_name: str = "",
    service_type: str = "",
    at: datetime | None = None,
) -> QuerySet[Consent]:
    """Active consents covering a recipient named by reference or name, or a service type,
    best first: one naming the recipient before one for a type of service (a release per
    recipient is the better practice), then the newest."""
    covers = Q(pk__in=[])
    if service_type:
        covers |= Q(scope=Consent.Scope.REFERRAL_SERVICE_TYPE, service_type=service_type)
    named = Q(pk__in=[])
    if recipient_ref:
        named |= Q(provider_ref=recipient_ref)
    if recipient_name:
        named |= Q(provider_name__iexact=recipient_name)
    covers |= Q(scope=Consent.Scope.REFERRAL_PROVIDER) & named
    return (
        Consent.objects.filter(case_id=case_id)
        .active(at)
        .filter(covers)
        .annotate(
            specific=models.Case(
                When(scope=Consent.Scope.REFERRAL_PROVIDER, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("specific", "-given_at", "-pk")
    )


@dataclass(frozen=True)
class DisclosureDecision:
    """May the case go to this agency? `consent` is the consent that allows it, or None when
    the law does (`mandatory_report`) or nothing does (`allowed` False, `missing` says what
    to record, in words without case data)."""

    allowed: bool
    consent: Consent | None = None
    mandatory_report: bool = False
    missing: str = ""


def agency_disclosure_check(
    *, case: Case, agency: Agency, at: datetime | None = None
) -> DisclosureDecision:
    """Whether the case (identifying data, narrative, screenings) may be disclosed to the
    staff of `agency`: by sharing it or by transferring it there."""
    if case.mandatory_report_required and agency.kind in (
        Agency.Kind.CHILD_WELFARE,
        Agency.Kind.LAW_ENFORCEMENT,
    ):
        return DisclosureDecision(allowed=True, mandatory_report=True)
    if agency.kind == Agency.Kind.LAW_ENFORCEMENT:
        consent = (
            case.consents.filter(scope=Consent.Scope.LAW_ENFORCEMENT_SHARING)
            .active(at)
            .order_by("-given_at", "-pk")
            .first()
        )
        if consent is not None:
            return DisclosureDecision(allowed=True, consent=consent)
        return DisclosureDecision(
            allowed=False,
            missing="the person's written, time-limited consent to sharing with law enforcement",
        )
    consent = recipient_consents(case_id=case.pk, recipient_name=agency.name, at=at).first()
    if consent is not None:
        return DisclosureDecision(allowed=True, consent=consent)
    return DisclosureDecision(
        allowed=False,
        missing="the person's written, time-limited consent naming this agency "
        "(a consent to a referral to a named provider, with the agency's name)",
    )
