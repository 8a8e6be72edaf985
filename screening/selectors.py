"""Reads for cases, consents and screenings. Every read goes through the access rules in
`screening.permissions`; lists filter in the database with one query per page."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.lockout import lockout_usernames_locked
from config.models import AccessLogEntry
from screening.models import (
    Agency,
    Case,
    CaseAssignment,
    CaseNote,
    CaseShare,
    CaseTask,
    CaseTransfer,
    Consent,
    Notification,
    Screening,
    ScreeningOverride,
    User,
)
from screening.permissions import (
    CaseAction,
    ScreeningAction,
    case_access,
    is_case_worker,
    require_agency_admin,
    screening_access,
)
from screening.querysets import CASE_WORKER_ROLES
from screening.roles import Role
from screening.timeline import who_fields


def case_list(
    *, user: User, status: str | None = None, assigned_to_me: bool = False
) -> QuerySet[Case]:
    """Cases `user` may view, newest first, with what they may do with each
    (`user_can_change`, `user_supervises`). One query, however many cases."""
    cases = _case_rows(Case.objects.visible_to(user), user=user, status=status)
    if assigned_to_me:
        cases = cases.assigned_to(user)
    return cases


def _case_rows(cases: QuerySet[Case], *, user: User, status: str | None) -> QuerySet[Case]:
    """A case list's rows: what the user may do with each, the related rows, newest first."""
    cases = cases.with_access(user).with_related()
    if status is not None:
        cases = cases.filter(status=status)
    return cases.order_by("-created_at", "-pk")


def my_case_list(*, user: User, status: str | None = None) -> QuerySet[Case]:
    """The cases `user` created or is assigned to ("my cases"), not the whole agency a
    supervisor can see. Driven from the user's own `view_case` grants (creators and
    assignees hold one, `grant_worker`; a grant is one of the ways to see a case,
    `CaseQuerySet.granted_to`), so a supervisor of a large agency does not walk the agency's
    cases looking for theirs. One query, however many cases."""
    return _case_rows(
        Case.objects.granted_to(user).created_or_assigned_to(user), user=user, status=status
    )


def agency_case_list(*, user: User, status: str | None = None) -> QuerySet[Case]:
    """The supervisor's view: cases owned by the user's own agency that they may view
    (`CaseQuerySet.visible_in_own_agency`), on the index of the agency's cases in list
    order."""
    return _case_rows(Case.objects.visible_in_own_agency(user), user=user, status=status)


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


STAFF_STATUSES = ("active", "deactivated")


def staff_list(*, user: User, status: str | None = None) -> QuerySet[User]:
    """The members of `user`'s agency, for its administrators (`ActionNotAllowed` for anyone
    else), by username; `status` "active" or "deactivated" narrows it. Each row says whether
    its sign-in is paused now (`is_locked`) and whether two-step sign-in is set up
    (`mfa_set_up`), and carries its roles (`role_groups`): one query for a page of rows and
    one for their roles, however many."""
    require_agency_admin(user)
    members = User.objects.filter(agency_id=user.agency_id)
    if status == "active":
        members = members.filter(is_active=True)
    elif status == "deactivated":
        members = members.filter(is_active=False)
    return (
        members.annotate(
            is_locked=Exists(lockout_usernames_locked().filter(username=OuterRef("username"))),
            mfa_set_up=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        )
        .prefetch_related(
            Prefetch(
                "groups",
                queryset=Group.objects.filter(name__in=Role.values).order_by("name"),
                to_attr="role_groups",
            )
        )
        .order_by("username", "pk")
    )


def staff_is_locked(*, member: User) -> bool:
    """Whether the member's sign-in is paused now (config/lockout.py)."""
    return lockout_usernames_locked().filter(username=member.get_username()).exists()


# --- case work (issue 14) ------------------------------------------------------------------


def case_assignment_list(*, case: Case) -> QuerySet[CaseAssignment]:
    """The workers assigned to a case the caller already accessed, earliest first."""
    return case.assignments.select_related("worker", "assigned_by").order_by("assigned_at", "pk")


def case_share_list(*, case: Case) -> QuerySet[CaseShare]:
    return case.shares.select_related("shared_with_agency", "shared_by").order_by("shared_at", "pk")


def agency_worker_list(*, agency_id: int) -> QuerySet[User]:
    """Active case workers of an agency, by name: whom a case or task can be given to."""
    return (
        User.objects.filter(
            agency_id=agency_id, is_active=True, groups__name__in=list(CASE_WORKER_ROLES)
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def agency_other_list(*, agency_id: int) -> QuerySet[Agency]:
    """Active agencies other than this one, by name: where a case can be shared or sent."""
    return Agency.objects.filter(is_active=True).exclude(pk=agency_id).order_by("name")


def case_note_list(*, case: Case) -> QuerySet[CaseNote]:
    """The notes of a case the caller may change (the text is narrative), newest first."""
    return case.notes.select_related("author").order_by("-created_at", "-pk")


def case_task_list(*, case: Case) -> QuerySet[CaseTask]:
    """The tasks of a case the caller may change: open ones first, soonest due first."""
    return case.tasks.select_related("assignee", "done_by").order_by("done_at", "due_at", "pk")


def my_task_list(*, user: User, overdue_only: bool = False) -> QuerySet[CaseTask]:
    """The user's open tasks on cases they may still change, soonest due first (index
    case_task_open_by_assignee). One query a page."""
    if not is_case_worker(user):
        return CaseTask.objects.none()
    tasks = (
        CaseTask.objects.filter(assignee=user, done_at__isnull=True)
        .filter(case__in=Case.objects.visible_to(user).values("pk"))
        .select_related("case", "assignee")
        .order_by("due_at", "pk")
    )
    if overdue_only:
        tasks = tasks.filter(due_at__lte=timezone.now())
    return tasks


def notification_list(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first (index notification_user_created)."""
    notifications = Notification.objects.filter(user=user).order_by("-created_at", "-pk")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications


def notification_unread_count(*, user: User) -> int:
    if not (user and user.is_authenticated):
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def transfer_list(*, user: User, direction: str = "incoming") -> QuerySet[CaseTransfer]:
    """Supervisors' transfer requests: `incoming` (waiting for their agency's answer) or
    `outgoing` (asked by their agency, any state), newest first. Others see none."""
    if not (is_case_worker(user) and user.has_role(Role.SUPERVISOR)):
        return CaseTransfer.objects.none()
    transfers = CaseTransfer.objects.select_related(
        "case", "from_agency", "to_agency", "requested_by", "decided_by"
    ).order_by("-requested_at", "-pk")
    if direction == "outgoing":
        return transfers.filter(from_agency_id=user.agency_id)
    return transfers.filter(to_agency_id=user.agency_id, status=CaseTransfer.Status.PENDING)


def case_transfer_pending(*, case: Case) -> CaseTransfer | None:
    return (
        case.transfers.filter(status=CaseTransfer.Status.PENDING)
        .select_related("to_agency", "requested_by")
        .first()
    )


def case_identifying_visible(*, user: User, case: Case) -> bool:
    """May `user` see the identifying data and narrative of a case they already accessed?
    Those who may change it, and staff of an agency it was shared with *with* its
    identifying data, while the consent that allowed that share is active (a mandatory
    report's share has none and stays). One query, for shared-to readers only."""
    if getattr(case, "user_can_change", False):
        return True
    if not user.agency_id:
        return False
    active = Consent.objects.active(timezone.now()).values("pk")
    return (
        CaseShare.objects.filter(case=case, shared_with_agency_id=user.agency_id, identifying=True)
        .filter(Q(consent__isnull=True) | Q(consent__in=active))
        .exists()
    )


# --- the case page -------------------------------------------------------------------------


def case_page_screening_list(*, case: Case) -> list[Screening]:
    """Every screening of a case the caller already accessed, newest first, as the case page
    shows them and its timeline names them (`case_timeline_page`'s `already_read`): only
    those columns, of the screening, its instrument version and the people who started and
    submitted it (not the answers, the result or the version's definition). One query."""
    return list(
        case.screenings.select_related("instrument_version", "screener", "submitted_by")
        .only(
            "case",
            "status",
            "started_at",
            "submitted_at",
            "instrument_version",
            "instrument_version__title",
            "instrument_version__number",
            *who_fields("screener", "submitted_by"),
        )
        .order_by("-started_at", "-pk")
    )


def case_page_consent_list(*, case: Case) -> list[Consent]:
    """Every consent of a case the caller already accessed, newest first, as the case page
    shows them and its timeline names them (who gave and who withdrew each): only those
    columns (not the witness or the withdrawal note). One query."""
    return list(
        case.consents.select_related("given_by", "withdrawn_by")
        .only(
            "case",
            "scope",
            "service_type",
            "provider_name",
            "provider_ref",
            "method",
            "interpreter_used",
            "interpreter_language",
            "given_at",
            "valid_until",
            "withdrawn_at",
            *who_fields("given_by", "withdrawn_by"),
        )
        .order_by("-given_at", "-pk")
    )


def case_page_assignment_list(*, case: Case) -> list[CaseAssignment]:
    """`case_assignment_list` as the case page shows it (who and since when): the worker's
    name, not who assigned them. One query."""
    return list(
        case.assignments.select_related("worker")
        .only("case", "assigned_at", *who_fields("worker"))
        .order_by("assigned_at", "pk")
    )


def case_page_task_list(*, case: Case) -> list[CaseTask]:
    """`case_task_list` as the case page shows it: what, which kind, when due, whether done,
    and the assignee's name. One query."""
    return list(
        case.tasks.select_related("assignee")
        .only(
            "case", "kind", "row_uid", "description", "due_at", "done_at", *who_fields("assignee")
        )
        .order_by("done_at", "due_at", "pk")
    )


def case_page_share_list(*, case: Case) -> list[CaseShare]:
    """`case_share_list` as the case page shows it: the agency's name, since when, whether
    with the identifying data. One query."""
    return list(
        case.shares.select_related("shared_with_agency")
        .only("case", "shared_at", "identifying", "shared_with_agency", "shared_with_agency__name")
        .order_by("shared_at", "pk")
    )


def case_page_transfer_pending(*, case: Case) -> CaseTransfer | None:
    """`case_transfer_pending` as the case page shows it: to whom, asked when. One query."""
    return (
        case.transfers.filter(status=CaseTransfer.Status.PENDING)
        .select_related("to_agency")
        .only("case", "status", "requested_at", "to_agency", "to_agency__name")
        .first()
    )
