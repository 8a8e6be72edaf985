"""Reads about access itself: who can see a case and why, the break-glass grants a supervisor
has to review, and the staff refused on many cases in a short time.

`case_access_list` restates `CaseQuerySet.visible_to` from the case's side (which users does
the rule let see this case?) and must stay in step with it:
tests/screening/test_case_access_list.py proves the two agree over random grants.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.utils import timezone

from config.errors import ActionNotAllowed
from config.models import AccessLogEntry
from screening.models import (
    BreakGlassGrant,
    Case,
    CaseAssignment,
    CaseShare,
    CaseUserObjectPermission,
    User,
)
from screening.permissions import CaseAction, case_access, is_case_worker
from screening.querysets import CASE_WORKER_ROLES
from screening.roles import Role


class GrantKind(models.TextChoices):
    """Why a person can see a case, in the words of the "who can see" page."""

    CREATOR = "creator", "Opened the case"
    ASSIGNMENT = "assignment", "Assigned to the case"
    GRANT = "grant", "Given access to this case"
    SUPERVISOR = "supervisor", "Supervisor of the case's agency"
    SHARE = "share", "The case was shared with their agency"
    BREAK_GLASS = "break_glass", "Emergency access (break-glass)"


@dataclass(frozen=True)
class AccessGrant:
    kind: str
    since: datetime | None = None
    until: datetime | None = None
    # The agency a share went to; who assigned or shared, where recorded.
    agency_name: str = ""
    by: User | None = None

    @property
    def label(self) -> str:
        return GrantKind(self.kind).label


@dataclass
class CaseAccessHolder:
    """One person who can see the case, with every grant that lets them."""

    user: User
    grants: list[AccessGrant] = field(default_factory=list)


@dataclass(frozen=True)
class CaseAccessList:
    """The case (checked with `CaseAction.SEE_ACCESS`) and the people who can see it:
    `people` is a lazy, ordered queryset to paginate; `holders(page)` adds the grants of
    one page's people in three queries, however many they are."""

    case: Case
    people: QuerySet[User]

    def holders(self, users: Iterable[User]) -> list[CaseAccessHolder]:
        users = list(users)
        ids = [user.pk for user in users]
        assignments = {
            assignment.worker_id: assignment
            for assignment in CaseAssignment.objects.filter(
                case_id=self.case.pk, worker_id__in=ids
            ).select_related("assigned_by")
        }
        shares = {
            share.shared_with_agency_id: share
            for share in CaseShare.objects.filter(case_id=self.case.pk).select_related(
                "shared_with_agency", "shared_by"
            )
        }
        break_glass: dict[int, BreakGlassGrant] = {}
        for grant in BreakGlassGrant.objects.filter(
            case_id=self.case.pk, user_id__in=ids, expires_at__gt=timezone.now()
        ).order_by("expires_at"):
            break_glass[grant.user_id] = grant  # the one that lasts longest
        holders = []
        for user in users:
            grants = []
            if user.via_grant:
                if user.pk == self.case.created_by_id:
                    grants.append(AccessGrant(GrantKind.CREATOR, since=self.case.created_at))
                assignment = assignments.get(user.pk)
                if assignment is not None:
                    grants.append(
                        AccessGrant(
                            GrantKind.ASSIGNMENT,
                            since=assignment.assigned_at,
                            by=assignment.assigned_by,
                        )
                    )
                if not grants:
                    grants.append(AccessGrant(GrantKind.GRANT))
            if user.via_supervisor:
                grants.append(AccessGrant(GrantKind.SUPERVISOR))
            if user.via_share and user.agency_id in shares:
                share = shares[user.agency_id]
                grants.append(
                    AccessGrant(
                        GrantKind.SHARE,
                        since=share.shared_at,
                        agency_name=share.shared_with_agency.name,
                        by=share.shared_by,
                    )
                )
            if user.via_break_glass and user.pk in break_glass:
                grant = break_glass[user.pk]
                grants.append(
                    AccessGrant(
                        GrantKind.BREAK_GLASS, since=grant.granted_at, until=grant.expires_at
                    )
                )
            holders.append(CaseAccessHolder(user=user, grants=grants))
        return holders


def _holds(roles: Iterable[str]) -> Exists:
    return Exists(
        User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name__in=list(roles))
    )


def case_access_people(case: Case) -> QuerySet[User]:
    """Every user the visibility rule lets see `case`, annotated with the ways it does
    (`via_grant`, `via_supervisor`, `via_share`, `via_break_glass`), by name. One query."""
    granted = Exists(
        CaseUserObjectPermission.objects.filter(
            content_object_id=case.pk, user_id=OuterRef("pk"), permission__codename="view_case"
        )
    )
    supervises = Q(agency_id=case.agency_id) & _holds((Role.SUPERVISOR,))
    shared = Q(
        agency_id__in=CaseShare.objects.filter(case_id=case.pk).values("shared_with_agency_id")
    )
    break_glass = Exists(
        BreakGlassGrant.objects.filter(
            case_id=case.pk, user_id=OuterRef("pk"), expires_at__gt=timezone.now()
        )
    )

    def flag(condition) -> ExpressionWrapper:
        return ExpressionWrapper(condition, output_field=BooleanField())

    return (
        User.objects.filter(is_active=True, agency__isnull=False)
        .filter(_holds(CASE_WORKER_ROLES))
        .filter(granted | supervises | shared | break_glass)
        .annotate(
            via_grant=flag(granted),
            via_supervisor=flag(supervises),
            via_share=flag(shared),
            via_break_glass=flag(break_glass),
        )
        .select_related("agency")
        .prefetch_related("groups")
        .order_by("last_name", "first_name", "username", "pk")
    )


def case_access_list(*, user: User, case_reference_or_id: str | int) -> CaseAccessList:
    """Who can see the case and why: for its own workers and the supervisors of its agency
    (`CaseAction.SEE_ACCESS`); `CaseNotFound` for anyone who cannot see the case,
    `ActionNotAllowed` for those who see it otherwise (a share, break-glass)."""
    case = case_access(
        user=user, case_reference_or_id=case_reference_or_id, action=CaseAction.SEE_ACCESS
    )
    return CaseAccessList(case=case, people=case_access_people(case))


# --- break-glass reviews -------------------------------------------------------------------


def _require_supervisor(user: User, message: str) -> None:
    if not (is_case_worker(user) and user.has_role(Role.SUPERVISOR)):
        raise ActionNotAllowed(message)


def break_glass_review_list(*, user: User, reviewed: bool = False) -> QuerySet[BreakGlassGrant]:
    """Break-glass grants on cases of the supervisor's agency: waiting for review, oldest
    first; or (`reviewed`) those already reviewed, newest review first. One query a page."""
    _require_supervisor(user, "Only supervisors review emergency access.")
    grants = BreakGlassGrant.objects.filter(
        case__agency_id=user.agency_id, reviewed_at__isnull=not reviewed
    ).select_related("case", "user", "user__agency", "reviewed_by")
    if reviewed:
        return grants.order_by("-reviewed_at", "-pk")
    return grants.order_by("granted_at", "pk")


# --- staff refused on many cases ---------------------------------------------------------------

REFUSED_OUTCOMES = (AccessLogEntry.Outcome.NOT_FOUND, AccessLogEntry.Outcome.DENIED)


@dataclass(frozen=True)
class RefusalFlag:
    """A person refused on at least REFUSAL_FLAG_CASES different cases within
    REFUSAL_FLAG_MINUTES: the busiest such window, and their refusals over the look-back."""

    user: User
    window_cases: int
    window_start: datetime
    window_end: datetime
    cases_refused: int
    refusals: int
    last_refused_at: datetime


def _busiest_window(
    refusals: list[tuple[datetime, int]], width: timedelta
) -> tuple[int, datetime, datetime]:
    """The most different cases refused within `width`, and that window's first and last
    refusal. `refusals` are (time, case id) in time order."""
    best = (0, refusals[0][0], refusals[0][0])
    in_window: Counter[int] = Counter()
    start = 0
    for at, case_id in refusals:
        in_window[case_id] += 1
        while at - refusals[start][0] > width:
            old = refusals[start][1]
            in_window[old] -= 1
            if not in_window[old]:
                del in_window[old]
            start += 1
        if len(in_window) > best[0]:
            best = (len(in_window), refusals[start][0], at)
    return best


def refusal_flag_list(*, user: User, now: datetime | None = None) -> list[RefusalFlag]:
    """Staff of the supervisor's agency (as it was when they were refused) who were refused
    on REFUSAL_FLAG_CASES or more different cases within REFUSAL_FLAG_MINUTES, over the last
    REFUSAL_FLAG_LOOKBACK_DAYS; most recent first. Refused: a case out of their sight (404)
    or an action their role may not take on it (403). Two queries."""
    _require_supervisor(user, "Only supervisors see who was refused often.")
    now = now or timezone.now()
    threshold = settings.REFUSAL_FLAG_CASES
    width = timedelta(minutes=settings.REFUSAL_FLAG_MINUTES)
    rows = (
        AccessLogEntry.objects.filter(
            agency_id=user.agency_id,
            at__gte=now - timedelta(days=settings.REFUSAL_FLAG_LOOKBACK_DAYS),
            outcome__in=REFUSED_OUTCOMES,
            case_id__isnull=False,
            user_id__isnull=False,
        )
        .order_by("user_id", "at", "pk")
        .values_list("user_id", "at", "case_id")
    )
    by_user: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for user_id, at, case_id in rows:
        by_user[user_id].append((at, case_id))
    found = {}
    for user_id, refusals in by_user.items():
        cases, start, end = _busiest_window(refusals, width)
        if cases >= threshold:
            found[user_id] = (cases, start, end, refusals)
    people = User.objects.select_related("agency").in_bulk(list(found))
    flags = [
        RefusalFlag(
            user=people[user_id],
            window_cases=cases,
            window_start=start,
            window_end=end,
            cases_refused=len({case_id for _, case_id in refusals}),
            refusals=len(refusals),
            last_refused_at=refusals[-1][0],
        )
        for user_id, (cases, start, end, refusals) in found.items()
    ]
    return sorted(flags, key=lambda flag: flag.last_refused_at, reverse=True)
