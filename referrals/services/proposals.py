"""A case worker proposes a referral by hand (a service the routing rules did not suggest, or
a second provider): it goes behind the same consent gate and into the same supervisor queue
as routed ones (`referral_propose_behind_gate`)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from config.errors import InvalidState, ValidationError
from referrals.models import Priority, Referral, ServiceProvider, ServiceType
from referrals.routing import PLACE_SERVICE_TYPES
from referrals.services.answers import NOTE_MAX_LENGTH
from referrals.services.routing import (
    OPEN_STATUSES,
    provider_ranking,
    referral_propose_behind_gate,
)
from screening.models import Case, Screening, User
from screening.permissions import CaseAction, case_access
from screening.services._common import clean_text

MANUAL_RULE_KEY = "manual"


def referral_providers_for(*, case: Case, service_type: str) -> list[ServiceProvider]:
    """The providers a referral for `service_type` may go to for this person, best first
    (the routing's ranking: active, not closed, serving the person's region, age, gender)."""
    if service_type not in ServiceType.values:
        return []
    return provider_ranking(case=case, service_type=service_type)


@transaction.atomic
def referral_propose(
    *,
    case_reference: str,
    by: User,
    service_type: str,
    provider_slug: str,
    priority: int = Priority.NORMAL,
    note: str = "",
) -> Referral:
    """Propose a referral of the case (for who may change it) from its latest submitted
    screening. Raises `ValidationError` for an unknown service or priority or a too long
    note; `InvalidState` for a provider that does not serve this person for the service, a
    closed case, a case not screened yet, or an open referral already there for this service
    and provider."""
    note = clean_text(note)
    case = case_access(
        user=by, case_reference_or_id=case_reference, action=CaseAction.CHANGE, for_update=True
    )
    problems: dict[str, list[str]] = {}
    if service_type not in ServiceType.values:
        problems["service_type"] = ["Choose a service."]
    if priority not in Priority.values:
        problems["priority"] = ["Choose a priority."]
    if len(note) > NOTE_MAX_LENGTH:
        problems["note"] = [f"Keep the note to {NOTE_MAX_LENGTH} characters."]
    if problems:
        raise ValidationError("Please correct the highlighted fields.", problems)
    # Which providers serve this person is the directory's state, not the request's shape.
    provider = next(
        (
            candidate
            for candidate in referral_providers_for(case=case, service_type=service_type)
            if candidate.slug == provider_slug
        ),
        None,
    )
    if provider is None:
        raise InvalidState(
            "This provider does not take referrals for this service for this person: "
            "choose one that serves them."
        )
    if not case.is_open:
        raise InvalidState("This case is closed; reopen it to refer the person.")
    screening = (
        Screening.objects.filter(
            case_id=case.pk, status__in=(Screening.Status.SUBMITTED, Screening.Status.REVIEWED)
        )
        .order_by("-submitted_at", "-pk")
        .first()
    )
    if screening is None:
        raise InvalidState("Screen the person first: a referral comes from a screening.")
    if (screening.result or {}).get("observations") is not None and (
        service_type not in PLACE_SERVICE_TYPES
    ):
        # An observation checklist of a place: a building gets no shelter or medical care.
        raise InvalidState(
            "This case records an observation of a place: refer it only to the "
            "anti-trafficking unit, the labour inspectorate or the law-enforcement liaison. "
            "A worker met there gets their own case and screening."
        )
    if Referral.objects.filter(
        case_id=case.pk, provider=provider, service_type=service_type, status__in=OPEN_STATUSES
    ).exists():
        raise InvalidState("An open referral for this service to this provider already exists.")
    if Referral.objects.filter(
        screening=screening, provider=provider, service_type=service_type
    ).exists():
        raise InvalidState(
            "This screening was already referred to this provider for this service; "
            "screen again to refer anew."
        )
    return referral_propose_behind_gate(
        screening=screening,
        case=case,
        provider=provider,
        service_type=service_type,
        priority=priority,
        mandatory=False,
        rule_set=None,
        rule_key=MANUAL_RULE_KEY,
        now=timezone.now(),
        by=by,
        note=note,
    )
