"""Reusable query pieces for cases, consents and screenings.

Visibility is index-driven (issue 12). Role questions are answered in Python from the roles
already loaded for the request (`User.role_names`); "cases this user may see" is then a set
the database reaches through indexes, never a Python list of ids:
- the explicit set: guardian `view_case` grants by user (creator, assignees), shares by the
  user's agency and unexpired break-glass grants by user, one `UNION` of three index scans;
- for supervisors, also the owning agency's cases (index `case_agency_created`).
One `OR` of these serves single-row checks and whole-set reads. A paged list reads the set
in parts, each walked on its own index in list order and stopped after a page, then
merged (`visibility_parts`, read by `config.keyset`): the agency's cases (supervisors), the
cases shared with the user's agency (index `case_share_agency_created`, which holds
each case's creation time for that walk), and the granted and break-glass cases (the
user's own grants: they grow with what the user may see, not with the table).
The first version was one `OR` of `Exists()` subqueries with the role check in SQL: correct,
but PostgreSQL could only scan every case (1 s a page at 100k).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from config.keyset import IdsIn, ListPart, SqlPiece, parted_filter
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


def _may_see_cases(user: User | None) -> bool:
    """An active account of an agency holding a case-work role (decided from loaded roles)."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and user.agency_id
        and user.has_any_role(CASE_WORKER_ROLES)
    )


def _supervises_agency(user: User) -> bool:
    return user.has_role(Role.SUPERVISOR)


def granted_case_ids(user: User, codename: str) -> QuerySet:
    """Case ids of the user's guardian grants (unique index user, permission, case)."""
    from screening.models import CaseUserObjectPermission

    return (
        CaseUserObjectPermission.objects.filter(user_id=user.pk, permission__codename=codename)
        .values("content_object_id")
        .order_by()
    )


def _shared_ids(user: User) -> QuerySet:
    """Case ids shared with the user's agency (index case_share_agency)."""
    from screening.models import CaseShare

    return (
        CaseShare.objects.filter(shared_with_agency_id=user.agency_id).values("case_id").order_by()
    )


def _break_glass_ids(user: User) -> QuerySet:
    """Case ids of the user's unexpired break-glass grants: the expiry is compared with the
    time of the query itself, so access ends on time without any job
    (index break_glass_user_case_exp)."""
    from screening.models import BreakGlassGrant

    return (
        BreakGlassGrant.objects.filter(user_id=user.pk, expires_at__gt=timezone.now())
        .values("case_id")
        .order_by()
    )


# The same id sets as SQL (`SqlPiece`), for the visibility rule and "my cases", which every
# case request builds: a queryset of each cost more to build and compile than the index scan
# costs to run (a worker's page of cases built three in 0.6 ms; docs/benchmarks.md). Each
# selects the rows of its queryset, pinned by tests/screening/test_visible_lists.py, and
# names its tables and columns from the models' own metadata.


def _granted_ids_sql(user: User, codename: str) -> SqlPiece:
    """`granted_case_ids(user, codename)` as SQL."""
    from django.contrib.auth.models import Permission

    from screening.models import CaseUserObjectPermission

    grants, permissions = CaseUserObjectPermission._meta, Permission._meta

    def render(connection: Any) -> tuple[str, list[Any]]:
        q = connection.ops.quote_name
        grant, permission = q(grants.db_table), q(permissions.db_table)

        def column(meta: Any, table: str, field: str) -> str:
            return f"{table}.{q(meta.get_field(field).column)}"

        return (
            f"SELECT {column(grants, grant, 'content_object')} FROM {grant}"  # noqa: S608 (names only)
            f" INNER JOIN {permission} ON ({column(grants, grant, 'permission')}"
            f" = {permission}.{q(permissions.pk.column)})"
            f" WHERE ({column(permissions, permission, 'codename')} = %s"
            f" AND {column(grants, grant, 'user')} = %s)",
            [codename, user.pk],
        )

    return SqlPiece(render)


def _case_ids_where_sql(model: type[models.Model], *conditions: tuple[str, str, Any]) -> SqlPiece:
    """The `case` column of `model`'s rows that meet every `(field, operator, value)`, as
    SQL; a callable value is called with the connection when the query is compiled."""
    meta = model._meta

    def render(connection: Any) -> tuple[str, list[Any]]:
        q = connection.ops.quote_name
        table = q(meta.db_table)
        where = " AND ".join(
            f"{table}.{q(meta.get_field(field).column)} {operator} %s"
            for field, operator, _ in conditions
        )
        params = [value(connection) if callable(value) else value for *_, value in conditions]
        return (
            f"SELECT {table}.{q(meta.get_field('case').column)} FROM {table}"  # noqa: S608 (names only)
            f" WHERE {f'({where})' if len(conditions) > 1 else where}",
            params,
        )

    return SqlPiece(render)


def _shared_ids_sql(user: User) -> SqlPiece:
    """`_shared_ids(user)` as SQL."""
    from screening.models import CaseShare

    return _case_ids_where_sql(CaseShare, ("shared_with_agency", "=", user.agency_id))


def _break_glass_ids_sql(user: User) -> SqlPiece:
    """`_break_glass_ids(user)` as SQL: the expiry compared with the time the query is
    compiled, adapted for the database as a `DateTimeField` lookup adapts it."""
    from screening.models import BreakGlassGrant

    def now(connection: Any) -> Any:
        return connection.ops.adapt_datetimefield_value(timezone.now())

    return _case_ids_where_sql(BreakGlassGrant, ("expires_at", ">", now), ("user", "=", user.pk))


def _assigned_ids(user: User) -> QuerySet:
    """Case ids the user is assigned to (index on the assignment's worker)."""
    from screening.models import CaseAssignment

    return CaseAssignment.objects.filter(worker_id=user.pk).values("case_id").order_by()


def _assigned_ids_sql(user: User) -> SqlPiece:
    """`_assigned_ids(user)` as SQL (a worker's "my cases" builds it on every request)."""
    from screening.models import CaseAssignment

    return _case_ids_where_sql(CaseAssignment, ("worker", "=", user.pk))


def explicitly_visible(user: User) -> Q:
    """The cases `user` sees other than by agency scope: grants, shares, break-glass. One
    `IN` of a `UNION` of three index scans, each rendered as it stands (`IdsIn`: Django's
    `__in` on a union relabels every piece first, for a check made on every case request;
    the pieces are `SqlPiece`s, above)."""
    return Q(
        IdsIn(
            [
                _granted_ids_sql(user, "view_case"),
                _shared_ids_sql(user),
                _break_glass_ids_sql(user),
            ],
            union_all=False,
        )
    )


def _shared(user: User) -> Exists:
    """Per-row: is the outer case shared with the user's agency? (unique case, agency)"""
    from screening.models import CaseShare

    return Exists(
        CaseShare.objects.filter(case=OuterRef("pk"), shared_with_agency_id=user.agency_id)
    )


def _visible_parts(user: User, *, supervises: bool) -> tuple[ListPart, ...]:
    """The visible set in parts for paged lists (module docstring): the agency's cases
    (supervisors), the cases shared with the agency, walked in list order on the share rows'
    copy of the case's creation time, and the user's grants and break-glass cases. A case in
    two parts (a shared case the user also holds a grant on) is read once: a page reads its
    rows by the ids the parts give."""
    shared_in = ListPart(
        Q(shares__shared_with_agency_id=user.agency_id),
        walk=(("created_at", "shares__case_created_at"), ("pk", "shares__case_id")),
    )
    granted = ListPart(
        Q(
            IdsIn(
                [_granted_ids_sql(user, "view_case"), _break_glass_ids_sql(user)],
                union_all=False,
            )
        )
    )
    if not supervises:
        return (shared_in, granted)
    return (ListPart(Q(agency_id=user.agency_id)), shared_in, granted)


def _granted(user: User, codename: str) -> Exists:
    """Per-row: does the user hold `codename` on the outer case? (for annotations on a page)"""
    from screening.models import CaseUserObjectPermission

    return Exists(
        CaseUserObjectPermission.objects.filter(
            content_object=OuterRef("pk"), user_id=user.pk, permission__codename=codename
        )
    )


class CaseQuerySet(models.QuerySet):
    # For a paged list: whose visible set this is and whether they supervise its agency,
    # kept through `filter()` and friends. `config.keyset` reads `visibility_parts`, the
    # parts of that set (module docstring), built only when a page reads them.
    _parted_for: tuple[User, bool] | None = None

    def _clone(self):
        clone = super()._clone()
        clone._parted_for = self._parted_for
        return clone

    @property
    def visibility_parts(self) -> tuple[ListPart, ...]:
        if self._parted_for is None:
            return ()
        user, supervises = self._parted_for
        return _visible_parts(user, supervises=supervises)

    def visible_to(self, user: User | None) -> CaseQuerySet:
        """Cases `user` may view: a `view_case` grant (creator, assignee), a share to the
        user's agency, the user supervises the owning agency, or an unexpired break-glass
        grant. Staff without a case-work role, inactive accounts and accounts without an
        agency see nothing. `screening.access.case_access_list` lists the same people per
        case; keep the two in step."""
        if not _may_see_cases(user):
            return self.none()
        supervises = _supervises_agency(user)

        def condition() -> Q:
            # Built when the query is compiled: a paged list on PostgreSQL reads the parts
            # (`visibility_parts`) in its place and never builds it.
            visible_ids = explicitly_visible(user)
            return Q(agency_id=user.agency_id) | visible_ids if supervises else visible_ids

        visible = parted_filter(self, condition)
        visible._parted_for = (user, supervises)
        return visible

    def granted_to(self, user: User | None) -> CaseQuerySet:
        """The cases `user` holds a `view_case` grant on (creator, assignee): part of what
        `visible_to(user)` holds, read on the user's own grants (unique index user,
        permission, case) without the rest of the rule. Nothing for those who may see no
        case at all, as there."""
        if not _may_see_cases(user):
            return self.none()
        return self.filter(IdsIn([_granted_ids_sql(user, "view_case")]))

    def created_or_assigned_to(self, user: User) -> CaseQuerySet:
        """The cases `user` created or is assigned to ("my cases")."""
        return self.filter(Q(created_by_id=user.pk) | Q(IdsIn([_assigned_ids_sql(user)])))

    def visible_in_own_agency(self, user: User | None) -> CaseQuerySet:
        """The cases of `user`'s own agency that `visible_to(user)` holds: every one for a
        supervisor (the agency is part of what they see), on the index of the agency's
        cases in list order; for anyone else, the visible set narrowed to the agency."""
        if not _may_see_cases(user):
            return self.none()
        own = self.filter(agency_id=user.agency_id)
        if _supervises_agency(user):
            return own
        return own.visible_to(user).read_as_one_walk()

    def read_as_one_walk(self) -> CaseQuerySet:
        """Forget the visible set's parts: for a list already narrowed to one indexed set
        (the user's own grants, the agency's cases), which one walk serves best."""
        clone = self._chain()
        clone._parted_for = None
        return clone

    def with_access(self, user: User) -> CaseQuerySet:
        """Annotate what `user` may do with each row, in the same query:
        `user_supervises` (view, change, assign, share) and `user_can_change`."""
        if not _may_see_cases(user):
            no = Value(False, output_field=BooleanField())
            return self.annotate(user_supervises=no, user_can_change=no)
        granted_change = _granted(user, "change_case")
        if not _supervises_agency(user):
            return self.annotate(
                user_supervises=Value(False, output_field=BooleanField()),
                user_can_change=ExpressionWrapper(granted_change, output_field=BooleanField()),
            )
        # The role is decided above, in Python; only the agency is compared in SQL.
        own_agency = Q(agency_id=user.agency_id)
        return self.annotate(
            user_supervises=ExpressionWrapper(own_agency, output_field=BooleanField()),
            user_can_change=ExpressionWrapper(
                granted_change | own_agency, output_field=BooleanField()
            ),
        )

    def with_break_glass(self, user: User) -> CaseQuerySet:
        """Annotate, for rows `visible_to(user)` only, `user_by_break_glass`: the user sees the
        row through a break-glass grant and no other way (its reads are logged as such)."""
        if not _may_see_cases(user):
            return self.annotate(user_by_break_glass=Value(False, output_field=BooleanField()))
        other_ways = _granted(user, "view_case") | _shared(user)
        if _supervises_agency(user):
            other_ways |= Q(agency_id=user.agency_id)
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
