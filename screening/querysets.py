"""Reusable query pieces for cases, consents and screenings.

Visibility is decided in the database, in the same query that fetches the rows: explicit
guardian grants (creator, assignees), shares and unexpired break-glass grants are `Exists()`
subqueries, agency scope for supervisors is a filter. No list of ids is ever built in Python.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, Value
from django.utils import timezone

from screening.roles import Role

if TYPE_CHECKING:
    from screening.models import User

# Roles whose holders work with case data. Agency administrators manage staff, not cases.
CASE_WORKER_ROLES: tuple[str, ...] = (
    Role.FRONTLINE_OFFICER,
    Role.SOCIAL_WORKER,
    Role.SUPERVISOR,
    Role.HOTLINE_STAFF,
    Role.PROVIDER_STAFF,
)


def _holds_role(user: User, roles: tuple[str, ...]) -> Exists:
    """Does `user` hold one of `roles`? A subquery, so it joins the caller's single query."""
    from screening.models import User

    return Exists(User.groups.through.objects.filter(user_id=user.pk, group__name__in=list(roles)))


def _granted(user: User, codename: str) -> Exists:
    from screening.models import CaseUserObjectPermission

    return Exists(
        CaseUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"), user_id=user.pk, permission__codename=codename
        )
    )


def _supervises(user: User) -> Q:
    """The user is a supervisor of the case's owning agency (agency scope, not per-row grants)."""
    return Q(agency_id=user.agency_id) & _holds_role(user, (Role.SUPERVISOR,))


def _shared_with_agency_of(user: User) -> Exists:
    from screening.models import CaseShare

    return Exists(
        CaseShare.objects.filter(case=OuterRef("pk"), shared_with_agency_id=user.agency_id)
    )


def _break_glass(user: User) -> Exists:
    """An unexpired break-glass grant: the expiry is compared with the time of the query
    itself, so access ends on time without any job (index break_glass_user_case_exp)."""
    from screening.models import BreakGlassGrant

    return Exists(
        BreakGlassGrant.objects.filter(
            user_id=user.pk, case=OuterRef("pk"), expires_at__gt=timezone.now()
        )
    )


def _may_see_cases(user: User | None) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.agency_id)


class CaseQuerySet(models.QuerySet):
    def visible_to(self, user: User | None) -> CaseQuerySet:
        """Cases `user` may view: a `view_case` grant (creator, assignee), a share to the
        user's agency, the user supervises the owning agency, or an unexpired break-glass
        grant. Staff without a case-work role, inactive accounts and accounts without an
        agency see nothing. `screening.access.case_access_list` lists the same people per
        case; keep the two in step."""
        if not _may_see_cases(user):
            return self.none()
        return self.filter(
            (
                _granted(user, "view_case")
                | _shared_with_agency_of(user)
                | _supervises(user)
                | _break_glass(user)
            )
            & _holds_role(user, CASE_WORKER_ROLES)
        )

    def with_access(self, user: User) -> CaseQuerySet:
        """Annotate what `user` may do with each row, in the same query:
        `user_supervises` (view, change, assign, share) and `user_can_change`."""
        if not _may_see_cases(user):
            no = Value(False, output_field=BooleanField())
            return self.annotate(user_supervises=no, user_can_change=no)
        return self.annotate(
            user_supervises=ExpressionWrapper(_supervises(user), output_field=BooleanField()),
            user_can_change=ExpressionWrapper(
                _granted(user, "change_case") | _supervises(user), output_field=BooleanField()
            ),
        )

    def with_break_glass(self, user: User) -> CaseQuerySet:
        """Annotate, for rows `visible_to(user)` only, `user_by_break_glass`: the user sees the
        row through a break-glass grant and no other way (its reads are logged as such)."""
        if not _may_see_cases(user):
            return self.annotate(user_by_break_glass=Value(False, output_field=BooleanField()))
        other_ways = _granted(user, "view_case") | _shared_with_agency_of(user) | _supervises(user)
        return self.annotate(
            user_by_break_glass=ExpressionWrapper(~other_ways, output_field=BooleanField())
        )

    def open(self) -> CaseQuerySet:
        return self.filter(status="open")

    def assigned_to(self, user: User) -> CaseQuerySet:
        from screening.models import CaseAssignment

        return self.filter(
            Exists(CaseAssignment.objects.filter(case=OuterRef("pk"), worker_id=user.pk))
        )

    def with_related(self) -> CaseQuerySet:
        return self.select_related("agency", "created_by")


class ConsentQuerySet(models.QuerySet):
    def active(self, at: datetime | None = None) -> ConsentQuerySet:
        """Given by `at`, not expired, not withdrawn (mirrors `Consent.is_active`)."""
        at = at or timezone.now()
        return self.filter(
            Q(given_at__lte=at),
            Q(valid_until__isnull=True) | Q(valid_until__gt=at),
            Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=at),
        )


class ScreeningQuerySet(models.QuerySet):
    def visible_to(self, user: User | None) -> ScreeningQuerySet:
        """Screenings of cases `user` may view (one query, the case rule as a subquery)."""
        from screening.models import Case

        return self.filter(Exists(Case.objects.visible_to(user).filter(pk=OuterRef("case_id"))))
