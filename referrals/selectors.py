"""Reads for referrals: the supervisor queue, the provider inbox, a referral and its history,
the referrals of a screening."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from config.errors import ActionNotAllowed
from referrals.models import (
    INBOX_STATUSES,
    Referral,
    ReferralEvent,
    RoutingRuleSet,
    ServiceProvider,
)
from referrals.permissions import ReferralAction, is_active_staff, referral_access
from referrals.services.delivery import (
    PACKET_FIELDS,
    delivered_packet,
    packet_result,
    packet_result_keys,
)
from screening.history import CHANGES_LIMIT, ChangeRow, change_rows
from screening.models import Case as CaseModel
from screening.models import Screening, ScreeningOverride, User
from screening.roles import Role


def referral_queue(
    *,
    user: User,
    status: str | None = None,
    service_type: str | None = None,
    region: str | None = None,
    escalation: str | None = None,
) -> QuerySet[Referral]:
    """The supervisor's queue: referrals of cases their agency owns that wait for someone —
    failed deliveries first, then by priority and due time. Escalated delivered referrals
    (not answered, not started in time, or escalated by hand) are in it too
    (`Referral.queue_rank`). `escalation`: "any", "none" or one escalation reason. The role
    is checked in Python from the roles already loaded; the list walks the partial index
    `referral_waiting_queue` in this order and stops after a page."""
    if not (is_active_staff(user) and user.has_role(Role.SUPERVISOR)):
        raise ActionNotAllowed("Only supervisors work the referral queue.")
    referrals = (
        Referral.objects.filter(case_agency_id=user.agency_id, queue_rank__isnull=False)
        .select_related("case", "provider")
        .order_by(*QUEUE_ORDER)
    )
    if status:
        referrals = referrals.filter(status=status)
    if escalation == "any":
        referrals = referrals.filter(escalated_at__isnull=False)
    elif escalation == "none":
        referrals = referrals.filter(escalated_at__isnull=True)
    elif escalation:
        referrals = referrals.filter(escalation_reason=escalation)
    if service_type:
        referrals = referrals.filter(service_type=service_type)
    if region:
        referrals = referrals.filter(case__region__iexact=region)
    return referrals


QUEUE_ORDER = ("queue_rank", "priority", "due_at", "pk")
INBOX_ORDER = ("priority", "due_at", "pk")


# What an inbox card and its packet (`delivered_packet`) read of the rows joined to a
# referral: the provider's name and the packet's fields (`PACKET_FIELDS`).
INBOX_RELATED_FIELDS = ("provider__name", *PACKET_FIELDS)


def referral_inbox(*, user: User) -> QuerySet[Referral]:
    """Referrals delivered to the providers of a provider-staff member's agency, oldest due
    first, on the partial index `referral_provider_inbox`. The case is joined only so that
    `referral_packet_get` can show the packet fields that were disclosed, and nothing else.
    Of the screening's result (some 15 kB of JSON a row) the database reads out only the
    two keys a packet shows; the rows are for reading, never for saving."""
    if not (is_active_staff(user) and user.has_role(Role.PROVIDER_STAFF)):
        raise ActionNotAllowed("Only provider staff have a referral inbox.")
    return inbox_columns(
        Referral.objects.filter(status__in=INBOX_STATUSES, provider_agency_id=user.agency_id)
    ).order_by(*INBOX_ORDER)


def inbox_columns(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """What the inbox reads of each referral: its own columns, the packet's columns of its
    provider, case and screening, and two keys of the screening's result (also the list
    benchmark's baseline, unfiltered)."""
    return (
        referrals.select_related("provider", "case", "case__agency", "screening")
        .only(*(field.name for field in Referral._meta.concrete_fields), *INBOX_RELATED_FIELDS)
        .annotate(**packet_result_keys())
    )


@dataclass(frozen=True)
class PacketRecipient:
    """A referral packet that left for a provider: outside this service for a webhook or
    email provider, in the in-system inbox of `inbox_staff` (provider staff of the provider's
    agency, while the referral is in their inbox) otherwise. They see the packet, never the
    case."""

    referral: Referral
    inbox_staff: list[User]


def case_packet_recipient_list(*, case: CaseModel) -> list[PacketRecipient]:
    """The packets sent for a case the caller already fetched through `case_access` (for the
    "who can see this case" page), oldest first. Two queries."""
    referrals = list(
        Referral.objects.filter(case_id=case.pk, sent_at__isnull=False)
        .select_related("provider", "provider__agency")
        .order_by("sent_at", "pk")
    )
    in_inbox = {
        referral.provider.agency_id
        for referral in referrals
        if referral.provider.channel == ServiceProvider.Channel.INBOX
        and referral.status in INBOX_STATUSES
    }
    staff: dict[int, list[User]] = {agency_id: [] for agency_id in in_inbox}
    for member in (
        User.objects.filter(
            agency_id__in=in_inbox, is_active=True, groups__name=Role.PROVIDER_STAFF.value
        )
        .distinct()
        .order_by("last_name", "first_name", "username", "pk")
    ):
        staff[member.agency_id].append(member)
    return [
        PacketRecipient(
            referral=referral,
            inbox_staff=staff.get(referral.provider.agency_id, [])
            if referral.provider.agency_id in in_inbox and referral.status in INBOX_STATUSES
            else [],
        )
        for referral in referrals
    ]


def referral_packet_get(*, referral: Referral) -> dict[str, Any]:
    """The disclosure packet a provider received for `referral` (from `referral_inbox`, or
    fetched whole): only the fields named in `Referral.fields_disclosed`. No queries."""
    screening = referral.screening
    if "result" not in screening.__dict__ and hasattr(referral, "packet_flags"):
        # An inbox row: the result's keys a packet reads, as the database read them out.
        screening.result = packet_result(referral)
    return delivered_packet(referral)


def referral_get(*, user: User, referral_id: int | str) -> Referral:
    return referral_access(user=user, referral_id=referral_id, action=ReferralAction.VIEW)


def referral_history(*, referral: Referral) -> QuerySet[ReferralEvent]:
    """The events of a referral already fetched through `referral_access`, oldest first."""
    return referral.events.select_related("by", "by_provider").order_by("at", "pk")


def referral_event_list(*, user: User, referral_id: int | str) -> QuerySet[ReferralEvent]:
    return referral_history(referral=referral_get(user=user, referral_id=referral_id))


def referral_list_for_screening(*, screening: Screening) -> QuerySet[Referral]:
    """The referrals routing proposed for a screening the caller already fetched through
    `screening_access` (so viewing the case is checked): mandatory first, then priority."""
    return (
        Referral.objects.filter(screening_id=screening.pk)
        .select_related("provider")
        .order_by("-mandatory", "priority", "service_type", "pk")
    )


def referral_change_rows(case: CaseModel, limit: int = CHANGES_LIMIT) -> list[ChangeRow]:
    """The referrals' part of a case's change history (`screening.history`), for a case the
    caller already fetched for its history: status, decisions, delivery. One query."""
    return change_rows(
        Referral.history.filter(case_id=case.pk),
        what=lambda row: f"Referral {row.id}",
        hidden=("case", "idempotency_key"),
        limit=limit,
    )


def referral_list_for_case(*, user: User, case_reference: str) -> tuple[CaseModel, list[Referral]]:
    """Every referral of a case the user may view, newest first, with its provider. Two
    queries (the case through `case_access`, then its referrals)."""
    from screening.permissions import CaseAction, case_access

    case = case_access(user=user, case_reference_or_id=case_reference, action=CaseAction.VIEW)
    referrals = list(
        Referral.objects.filter(case_id=case.pk)
        .select_related("provider")
        .order_by("-created_at", "-pk")
    )
    return case, referrals


@dataclass(frozen=True)
class CallbackContact:
    """Whom provider staff call back about a referral: a member of staff of the referring
    agency, by name, role and agency. Nothing about the person referred."""

    name: str
    roles: list[str]
    agency: str


def referral_callback_contacts(*, referral: Referral) -> list[CallbackContact]:
    """The case's assigned workers (or, with none, the worker who opened it) and the
    supervisor who approved the referral. Two queries."""
    from screening.models import CaseAssignment

    workers = [
        assignment.worker
        for assignment in CaseAssignment.objects.filter(
            case_id=referral.case_id, worker__is_active=True
        )
        .select_related("worker__agency")
        .prefetch_related("worker__groups")
        .order_by("assigned_at", "pk")
    ]
    if not workers:
        creator = (
            User.objects.filter(cases_created__pk=referral.case_id)
            .select_related("agency")
            .prefetch_related("groups")
            .first()
        )
        workers = [creator] if creator else []
    if referral.approved_by_id and referral.approved_by_id not in {w.pk for w in workers}:
        approver = (
            User.objects.filter(pk=referral.approved_by_id, is_active=True)
            .select_related("agency")
            .prefetch_related("groups")
            .first()
        )
        if approver:
            workers.append(approver)
    return [
        CallbackContact(
            name=worker.get_full_name() or worker.get_username(),
            roles=sorted(group.name for group in worker.groups.all()),
            agency=worker.agency.name if worker.agency_id else "",
        )
        for worker in workers
    ]


# What the dry run reads of a case: the facts routing rules look at, and the reference.
DRY_RUN_CASE_FIELDS = (
    "case__id",
    "case__reference",
    "case__row_uid",
    "case__age",
    "case__age_band",
    "case__gender",
    "case__exploitation_type",
    "case__region",
    "case__nationality",
    "case__languages",
    "case__urgent",
    "case__mandatory_report_required",
)


def routing_dry_run_screenings(*, agency_id: int, limit: int) -> list[Screening]:
    """The agency's last `limit` screenings with a result (submitted or reviewed, newest
    first), each with its case's routing facts and `outcome_in_force` (the newest override's
    outcome, else the computed one): one query, whatever `limit`. Nothing else of the case
    is loaded (names, contact details and narrative stay in the database)."""
    newest_override = (
        ScreeningOverride.objects.filter(screening_id=OuterRef("pk"))
        .order_by("-at", "-pk")
        .values("outcome")[:1]
    )
    return list(
        Screening.objects.filter(
            case__agency_id=agency_id,
            status__in=(Screening.Status.SUBMITTED, Screening.Status.REVIEWED),
        )
        .select_related("case")
        .only("id", "outcome", "result", "submitted_at", "status", "case_id", *DRY_RUN_CASE_FIELDS)
        .annotate(outcome_in_force=Coalesce(Subquery(newest_override), "outcome"))
        .order_by("-submitted_at", "-pk")[:limit]
    )


ROUTING_VERSIONS_SHOWN = 50


def routing_rule_set_versions(*, agency_id: int) -> list[RoutingRuleSet]:
    """The published versions an agency's rules came from: its own line and the default's,
    newest first (at most ROUTING_VERSIONS_SHOWN), with who published each: one query."""
    lines = Q(agency_id=agency_id) | Q(agency__isnull=True, slug=settings.REFERRAL_ROUTING_RULES)
    return list(
        RoutingRuleSet.objects.filter(lines, status=RoutingRuleSet.Status.PUBLISHED)
        .select_related("published_by")
        .defer("definition", "source_text")
        .order_by(F("published_at").desc(nulls_last=True), "-pk")[:ROUTING_VERSIONS_SHOWN]
    )


def routing_draft_get(*, agency_id: int) -> RoutingRuleSet | None:
    return (
        RoutingRuleSet.objects.filter(agency_id=agency_id, status=RoutingRuleSet.Status.DRAFT)
        .select_related("created_by", "based_on")
        .first()
    )
