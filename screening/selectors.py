"""Reads for cases, consents and screenings. Every read goes through the access rules in
`screening.permissions`; lists filter in the database with one query per page."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from config.lockout import lockout_usernames_locked
from config.models import AccessLogEntry
from screening.models import Case, CaseAssignment, Consent, Screening, ScreeningOverride, User
from screening.permissions import (
    CaseAction,
    ScreeningAction,
    case_access,
    screening_access,
)
from screening.querysets import granted_case_ids


def case_list(
    *, user: User, status: str | None = None, assigned_to_me: bool = False
) -> QuerySet[Case]:
    """Cases `user` may view, newest first, with what they may do with each
    (`user_can_change`, `user_supervises`). One query, however many cases."""
    cases = Case.objects.visible_to(user).with_access(user).with_related()
    if status is not None:
        cases = cases.filter(status=status)
    if assigned_to_me:
        cases = cases.assigned_to(user)
    return cases.order_by("-created_at", "-pk")


def my_case_list(*, user: User, status: str | None = None) -> QuerySet[Case]:
    """The cases `user` created or is assigned to ("my cases"), not the whole agency a
    supervisor can see. Driven from the user's own `view_case` grants (creators and
    assignees hold one, `grant_worker`), so a supervisor of a large agency does not walk the
    agency's cases looking for theirs. One query, however many cases."""
    created_or_assigned = Q(created_by_id=user.pk) | Exists(
        CaseAssignment.objects.filter(case=OuterRef("pk"), worker_id=user.pk)
    )
    mine = case_list(user=user, status=status).filter(
        created_or_assigned, pk__in=granted_case_ids(user, "view_case")
    )
    mine.visibility_parts = ()
    return mine


def agency_case_list(*, user: User, status: str | None = None) -> QuerySet[Case]:
    """The supervisor's view: cases owned by the user's own agency that they may view, on the
    index of the agency's cases in list order."""
    cases = case_list(user=user, status=status).filter(agency_id=user.agency_id)
    cases.visibility_parts = ()
    return cases


def case_get(*, user: User, case_reference_or_id: str | int) -> Case:
    """The case, or `CaseNotFound` for missing and forbidden alike."""
    return case_access(user=user, case_reference_or_id=case_reference_or_id, action=CaseAction.VIEW)


def consent_list(*, user: User, case_reference_or_id: str | int) -> QuerySet[Consent]:
    case = case_get(user=user, case_reference_or_id=case_reference_or_id)
    return case.consents.select_related("given_by", "withdrawn_by").order_by("-given_at", "-pk")


def consent_active_for(*, case: Case, scope: str) -> Consent | None:
    """The newest active consent of `scope` on a case the caller already accessed."""
    return case.consents.filter(scope=scope).active().order_by("-given_at", "-pk").first()


def screening_list(*, user: User, case_reference_or_id: str | int) -> QuerySet[Screening]:
    case = case_get(user=user, case_reference_or_id=case_reference_or_id)
    return case.screenings.select_related("instrument_version__instrument", "screener").order_by(
        "-started_at", "-pk"
    )


def screening_get(*, user: User, screening_id: int | str) -> Screening:
    """The screening, or `ScreeningNotFound` for missing and forbidden alike."""
    return screening_access(user=user, screening_id=screening_id, action=ScreeningAction.VIEW)


def screening_override_current(*, screening: Screening) -> ScreeningOverride | None:
    """The override in force (the newest), if any."""
    return screening.overrides.select_related("by").order_by("-at", "-pk").first()


def screening_outcome_in_force(*, screening: Screening) -> str:
    """The supervisor's override if there is one, else the computed outcome ("" for drafts)."""
    override = screening_override_current(screening=screening)
    return override.outcome if override else screening.outcome


def case_access_log_list(
    *, user: User, case_reference_or_id: str | int
) -> QuerySet[AccessLogEntry]:
    """Who read or changed the case and how it ended, newest first: for supervisors of the
    case's agency (`case_access` with `assign`, which is exactly them). `CaseNotFound` for
    anyone who cannot see the case, `ActionNotAllowed` for those who can but do not supervise
    it. Rows come with their user (and carry the roles held at the time): a page of rows is
    one query, however many."""
    case = case_access(
        user=user, case_reference_or_id=case_reference_or_id, action=CaseAction.ASSIGN
    )
    return (
        AccessLogEntry.objects.filter(case_id=case.pk).select_related("user").order_by("-at", "-pk")
    )


def staff_locked_list(*, agency_id: int) -> QuerySet[User]:
    """The agency's active members whose sign-in is paused now, by their username
    (config/lockout.py; a pause on an address names nobody), by username: one query."""
    return (
        User.objects.filter(agency_id=agency_id, is_active=True)
        .filter(username__in=lockout_usernames_locked())
        .order_by("username")
    )
