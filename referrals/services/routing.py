"""Routing a submitted screening: evaluate the routing rules in force for the case's agency
(its own published version, else the platform default's), rank matching
providers and propose referrals, each behind the consent gate (minors' child-welfare referral
excepted). Idempotent: running it again proposes nothing twice."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from referrals.models import (
    Priority,
    Referral,
    ReferralStatus,
    RoutingRuleSet,
    ServiceProvider,
    ServiceType,
)
from referrals.routing import (
    PLACE_SERVICE_TYPES,
    RoutingDefinition,
    RoutingFacts,
    ServiceNeed,
    evaluate_rules,
    parse_routing,
)
from referrals.services.consent_gate import covering_consent, missing_consent_text
from referrals.services.transitions import referral_transition
from screening.models import Case, Consent, Screening, User

logger = logging.getLogger(__name__)

# The law, not the rule file, says a child goes to child welfare (practice guide: minors).
MINOR_FLAGS = frozenset({"minor", "mandatory_report", "child_welfare_referral"})
OPEN_STATUSES = frozenset(
    {
        ReferralStatus.PROPOSED,
        ReferralStatus.BLOCKED_NEEDS_CONSENT,
        ReferralStatus.PENDING_APPROVAL,
        ReferralStatus.APPROVED,
        ReferralStatus.SENT,
        ReferralStatus.ACKNOWLEDGED,
        ReferralStatus.ACCEPTED,
        ReferralStatus.SERVICES_STARTED,
        ReferralStatus.FAILED,
    }
)
_CAPACITY_RANK = {"available": 0, "limited": 1, "full": 2}


@dataclass
class RoutingReport:
    screening_id: int
    rule_set: str | None = None
    proposed: list[int] = field(default_factory=list)
    unblocked: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)


def routing_rule_set_current(*, agency_id: int | None = None) -> RoutingRuleSet | None:
    """The rules in force for cases of `agency_id`: the agency's newest published version if
    it has published its own, else the platform default's newest (REFERRAL_ROUTING_RULES).
    One query."""
    default = Q(agency__isnull=True, slug=settings.REFERRAL_ROUTING_RULES)
    lines = default | Q(agency_id=agency_id) if agency_id is not None else default
    return (
        RoutingRuleSet.objects.filter(lines, status=RoutingRuleSet.Status.PUBLISHED)
        .select_related("published_by")
        .order_by(F("agency_id").asc(nulls_last=True), "-number")
        .first()
    )


def _case_facts(case: Case) -> dict[str, Any]:
    return {
        "age": case.age,
        "age_band": case.age_band,
        "gender": case.gender,
        "exploitation_type": case.exploitation_type,
        "region": case.region,
        "nationality": case.nationality,
        "languages": list(case.languages or []),
        "urgent": case.urgent,
        "mandatory_report_required": case.mandatory_report_required,
    }


def _age_fits(provider: ServiceProvider, case: Case) -> bool:
    low, high = provider.min_age, provider.max_age
    if case.age is not None:
        return (low is None or case.age >= low) and (high is None or case.age <= high)
    if case.age_band == Case.AgeBand.MINOR:
        return low is None or low < 18
    if case.age_band == Case.AgeBand.ADULT:
        return high is None or high >= 18
    return True


def _serves(provider: ServiceProvider, case: Case, service_type: str) -> bool:
    if service_type not in provider.service_types:
        return False
    regions = {region.lower() for region in provider.regions}
    if case.region and "national" not in regions and case.region.lower() not in regions:
        return False
    if not _age_fits(provider, case):
        return False
    if (
        provider.genders
        and case.gender != Case.Gender.NOT_STATED
        and case.gender not in provider.genders
    ):
        return False
    if provider.exploitation_types and case.exploitation_type not in ("unknown", ""):
        wanted = {case.exploitation_type}
        if case.exploitation_type == "both":
            wanted = {"labour", "sexual", "both"}
        if not wanted & set(provider.exploitation_types):
            return False
    return True


def provider_ranking(*, case: Case, service_type: str) -> list[ServiceProvider]:
    """Providers that serve this person for this service, best first: region (local before
    national), a shared language, then capacity. Full providers only when no other serves."""
    providers = ServiceProvider.objects.filter(is_active=True).exclude(
        capacity=ServiceProvider.Capacity.CLOSED
    )
    languages = set(case.languages or [])
    region = (case.region or "").lower()

    def rank(provider: ServiceProvider) -> tuple:
        local = 0 if region and region in {r.lower() for r in provider.regions} else 1
        speaks = 0 if not languages or languages & set(provider.languages) else 1
        return (_CAPACITY_RANK.get(provider.capacity, 3), local, speaks, provider.name)

    matching = sorted((p for p in providers if _serves(p, case, service_type)), key=rank)
    open_ones = [p for p in matching if p.capacity != ServiceProvider.Capacity.FULL]
    return open_ones or matching


def routing_needs(
    *,
    definition: RoutingDefinition | None,
    outcome: str,
    result: dict[str, Any] | None,
    case: Case,
) -> list[ServiceNeed]:
    """The service needs of one screening's stored result under `definition` (None: no rules),
    with the law's rule for children on top. Pure: routing and the dry run both come here."""
    facts = RoutingFacts.from_result(outcome=outcome, result=result or {}, case=_case_facts(case))
    needs: list[ServiceNeed] = []
    if definition is not None:
        needs = evaluate_rules(definition, facts)
    if case.is_minor or facts.flags & MINOR_FLAGS:
        child = [n for n in needs if n.service_type == ServiceType.CHILD_WELFARE]
        needs = [n for n in needs if n.service_type != ServiceType.CHILD_WELFARE]
        needs.insert(
            0,
            ServiceNeed(
                service_type=ServiceType.CHILD_WELFARE,
                priority=Priority.URGENT,
                mandatory=True,
                providers=child[0].providers if child else 1,
                rule_key=child[0].rule_key if child else "law:minor_child_welfare",
            ),
        )
    return needs


def _needs(screening: Screening, case: Case, rule_set: RoutingRuleSet | None) -> list[ServiceNeed]:
    override = screening.overrides.order_by("-at", "-pk").first()
    outcome = override.outcome if override else screening.outcome
    definition = None
    if rule_set is not None:
        definition = parse_routing(rule_set.definition, origin=str(rule_set))
    return routing_needs(definition=definition, outcome=outcome, result=screening.result, case=case)


def referral_route_screening(*, screening_id: int) -> RoutingReport:
    """Propose referrals for a submitted screening (see the module docstring)."""
    report = RoutingReport(screening_id=screening_id)
    with transaction.atomic():
        screening = Screening.objects.filter(pk=screening_id).select_related("case").first()
        if screening is None or not screening.has_result:
            return report
        # Lock the case: two routing runs for one case never interleave.
        case = Case.objects.select_for_update().get(pk=screening.case_id)
        rule_set = routing_rule_set_current(agency_id=case.agency_id)
        report.rule_set = str(rule_set) if rule_set else None
        now = timezone.now()
        for need in _needs(screening, case, rule_set):
            # The case's open referrals for this service count, whichever provider they went
            # to: a provider that closed (or fell in the ranking) since the first routing
            # must not get a second referral for the same service beside the first (issue 14).
            existing = list(
                Referral.objects.select_for_update()
                .filter(case=case, service_type=need.service_type, status__in=OPEN_STATUSES)
                .select_related("provider")
                .order_by("pk")
            )
            for referral in existing:
                report.existing.append(referral.pk)
                _unblock_if_consented(report, referral)
            wanted = need.providers - len(existing)
            if wanted <= 0:
                continue
            taken = {referral.provider_id for referral in existing}
            providers = [
                provider
                for provider in provider_ranking(case=case, service_type=need.service_type)
                if provider.pk not in taken
            ]
            if not providers:
                if not existing:
                    report.unmatched.append(need.service_type)
                    logger.warning(
                        "routing: no provider for %s (screening %s)",
                        need.service_type,
                        screening_id,
                    )
                continue
            for provider in providers[:wanted]:
                referral = referral_propose_behind_gate(
                    screening=screening,
                    case=case,
                    provider=provider,
                    service_type=need.service_type,
                    priority=need.priority,
                    mandatory=need.mandatory,
                    rule_set=rule_set,
                    rule_key=need.rule_key,
                    now=now,
                )
                report.proposed.append(referral.pk)
    logger.info(
        "routing: screening %s proposed %s unblocked %s",
        screening_id,
        len(report.proposed),
        len(report.unblocked),
    )
    return report


REFERRAL_CONSENT_SCOPES = (Consent.Scope.REFERRAL_SERVICE_TYPE, Consent.Scope.REFERRAL_PROVIDER)


def referral_route_for_consent(*, consent_id: int) -> RoutingReport | None:
    """A consent was recorded (`consent.recorded`): a referral blocked for want of consent
    waits for exactly this, so the case's latest submitted (or reviewed) screening is routed
    again, which moves the referrals this consent covers on to pending approval. Nothing
    happens for other scopes, a consent no longer active, or a case with no blocked referral.
    """
    consent = Consent.objects.filter(pk=consent_id, scope__in=REFERRAL_CONSENT_SCOPES).first()
    if consent is None or not consent.is_active():
        return None
    blocked = Referral.objects.filter(
        case_id=consent.case_id, status=ReferralStatus.BLOCKED_NEEDS_CONSENT
    )
    if not blocked.exists():
        return None
    screening_id = (
        Screening.objects.filter(
            case_id=consent.case_id,
            status__in=(Screening.Status.SUBMITTED, Screening.Status.REVIEWED),
        )
        .order_by("-submitted_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if screening_id is None:
        return None
    return referral_route_screening(screening_id=screening_id)


def _unblock_if_consented(report: RoutingReport, referral: Referral) -> None:
    """A referral blocked for want of consent moves on to approval once a consent covers it."""
    if referral.status != ReferralStatus.BLOCKED_NEEDS_CONSENT:
        return
    consent = covering_consent(
        case_id=referral.case_id, provider=referral.provider, service_type=referral.service_type
    )
    if consent is None:
        return
    referral.consent_used = consent
    referral.missing_consent = ""
    referral_transition(
        referral=referral,
        to=ReferralStatus.PENDING_APPROVAL,
        note="A covering consent is now recorded.",
        update_fields=("consent_used", "missing_consent"),
    )
    report.unblocked.append(referral.pk)


def referral_propose_behind_gate(
    *,
    screening: Screening,
    case: Case,
    provider: ServiceProvider,
    service_type: str,
    priority: int,
    mandatory: bool,
    rule_set: RoutingRuleSet | None,
    rule_key: str,
    now,
    by: User | None = None,
    note: str = "",
) -> Referral:
    """Create one proposed referral (the caller holds the case locked) and put it behind the
    consent gate at once: waiting for approval when a consent covers it or the law makes it
    mandatory, blocked for want of consent otherwise. Routing and `referral_propose` both
    come here."""
    about_place = (screening.result or {}).get(
        "observations"
    ) is not None and service_type in PLACE_SERVICE_TYPES
    consent = (
        None
        if about_place
        else covering_consent(case_id=case.pk, provider=provider, service_type=service_type)
    )
    referral = Referral.objects.create(
        case=case,
        screening=screening,
        provider=provider,
        case_agency_id=case.agency_id,
        provider_agency_id=provider.agency_id,
        service_type=service_type,
        priority=priority,
        mandatory=mandatory,
        about_place=about_place,
        routing_rule_set=rule_set,
        rule_key=rule_key,
        due_at=now + timedelta(hours=settings.REFERRAL_APPROVAL_DUE_HOURS[priority]),
        created_at=now,
        status_changed_at=now,
    )
    referral.events.create(
        kind="transition",
        from_status="",
        to_status=ReferralStatus.PROPOSED,
        by=by,
        note=note or rule_key,
    )
    if about_place:
        referral_transition(
            referral=referral,
            to=ReferralStatus.PENDING_APPROVAL,
            by=by,
            note="An observation of a place: no person to consent; no person's details go.",
        )
    elif mandatory or consent is not None:
        referral.consent_used = consent
        referral_transition(
            referral=referral,
            to=ReferralStatus.PENDING_APPROVAL,
            by=by,
            note="Mandatory report: consent cannot block it." if consent is None else "",
            update_fields=("consent_used",),
        )
    else:
        referral.missing_consent = missing_consent_text(
            provider=provider, service_type=service_type
        )
        referral_transition(
            referral=referral,
            to=ReferralStatus.BLOCKED_NEEDS_CONSENT,
            by=by,
            note="No active consent covers this referral.",
            update_fields=("missing_consent",),
        )
    return referral
