"""Paged case lists read the visible set through its indexed parts (issue 12): on PostgreSQL a
supervisor's page reads the ids of a UNION of their agency's cases, the cases shared with
it from elsewhere (walked on the share index in list order) and the cases granted to them,
each cut at a page; a worker's, of the shared cases and their grants. The rows, their order and what
the user may do with them are exactly those of the plain query, on every page, forwards and
backwards."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.keyset import keyset_page
from screening import services
from screening.models import BreakGlassGrant, Case, CaseShare
from screening.roles import Role
from screening.selectors import case_list
from screening.services._common import grant_worker
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

ORDER = ("-created_at", "-pk")


@pytest.fixture
def supervisor_scene():
    """A supervisor of agency A; cases of A, cases of B shared with A, a case of B the
    supervisor was assigned to by B's supervisor, one in break-glass, and B's own cases."""
    agency, elsewhere = AgencyFactory(), AgencyFactory()
    supervisor = UserFactory(agency=agency, role=Role.SUPERVISOR)
    officer = UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER)
    other_officer = UserFactory(agency=elsewhere, role=Role.FRONTLINE_OFFICER)
    other_supervisor = UserFactory(agency=elsewhere, role=Role.SUPERVISOR)
    now = timezone.now()
    made = []
    for index in range(23):
        creator = officer if index % 2 else other_officer
        case = services.case_create(created_by=creator)
        made.append(case)
        if creator is other_officer and index % 3 == 0:
            services.case_share(case=case, agency=agency, reason="Joint work", by=other_supervisor)
        if index == 8:
            services.case_create(created_by=supervisor)  # their own: in A
    # Spread the times and make ties on created_at, as a bulk import would.
    for index, case in enumerate(made):
        Case.objects.filter(pk=case.pk).update(created_at=now - timedelta(minutes=index // 2))
        # The shares' copy of the creation time follows (case_share copies it; cases never
        # change it in the product).
        CaseShare.objects.filter(case=case).update(
            case_created_at=now - timedelta(minutes=index // 2)
        )
    BreakGlassGrant.objects.create(
        user=supervisor,
        case=made[4],
        reason="Out of hours: the person is at the station now",
        expires_at=now + timedelta(hours=4),
    )
    assert supervisor.role_names  # loaded once per request, as in the product
    return supervisor


def _walk(queryset, per_page):
    pages, cursor = [], None
    while True:
        page = keyset_page(queryset, per_page=per_page, ordering=ORDER, after=cursor)
        pages.append(page)
        if not page.has_next:
            return pages
        cursor = page.next_cursor


def test_a_supervisors_pages_hold_exactly_the_rows_of_the_plain_query(supervisor_scene):
    queryset = case_list(user=supervisor_scene)
    assert len(queryset.visibility_parts) == 3
    expected = [
        (case.pk, case.user_supervises, case.user_can_change, case.agency.name)
        for case in queryset.order_by(*ORDER)
    ]
    assert len(expected) > 12  # own agency, shared in and break-glass
    pages = _walk(queryset, per_page=5)
    got = [
        (case.pk, case.user_supervises, case.user_can_change, case.agency.name)
        for page in pages
        for case in page
    ]
    assert got == expected
    # And back again from the last page.
    backwards, cursor = [], pages[-1].previous_cursor
    while cursor:
        page = keyset_page(queryset, per_page=5, ordering=ORDER, before=cursor)
        backwards = [case.pk for case in page] + backwards
        cursor = page.previous_cursor
    assert backwards + [case.pk for case in pages[-1]] == [row[0] for row in expected]


def test_shared_in_cases_are_view_only_and_own_agency_cases_supervised(supervisor_scene):
    rows = keyset_page(case_list(user=supervisor_scene), per_page=50, ordering=ORDER).rows
    for case in rows:
        own = case.agency_id == supervisor_scene.agency_id
        assert case.user_supervises is own
        assert case.user_can_change is own


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite allows no LIMIT inside a UNION, so it reads the OR",
)
def test_on_postgresql_a_supervisors_page_is_one_union_of_pieces_cut_at_a_page(
    supervisor_scene,
):
    queryset = case_list(user=supervisor_scene)
    with CaptureQueriesContext(connection) as queries:
        keyset_page(queryset, per_page=5, ordering=ORDER)
    assert len(queries) == 1
    sql = queries[0]["sql"].upper()
    # The three pieces merged (a case in two is one) and cut to a page before the page's
    # query joins its related rows; the granted piece's grants and break-glass ids, one more.
    assert sql.count(" UNION ") == 3 and "UNION ALL" not in sql
    assert sql.count("LIMIT 6") == 5  # each piece, their merge and the page
    # The shared-in piece walks the share index in list order.
    assert re.search(r'ORDER BY \S+\."CASE_CREATED_AT" DESC', sql)


@pytest.fixture
def worker_scene(supervisor_scene):
    worker = UserFactory(agency=supervisor_scene.agency, role=Role.SOCIAL_WORKER)
    services.case_create(created_by=worker)
    assert worker.role_names
    return worker


def test_a_worker_reads_their_grants_and_their_agencys_shares(worker_scene):
    worker = worker_scene
    queryset = case_list(user=worker)
    assert len(queryset.visibility_parts) == 2
    with CaptureQueriesContext(connection) as queries:
        page = keyset_page(queryset, per_page=5, ordering=ORDER)
    # Their own case and the four shared with their agency; none of the agency's others.
    assert len(page.rows) == 5
    assert sum(case.agency_id == worker.agency_id for case in page.rows) == 1
    assert len(queries) == 1
    if connection.vendor == "postgresql":
        assert queries[0]["sql"].upper().count(" UNION ") == 2


def test_a_workers_pages_hold_exactly_the_rows_of_the_plain_query(worker_scene):
    worker = worker_scene
    # Their own case, one of the agency's they are assigned to and the four shared in, one
    # of which they also hold a grant on: each once.
    assigned = services.case_create(
        created_by=UserFactory(agency=worker.agency, role=Role.FRONTLINE_OFFICER)
    )
    boss = UserFactory(agency=worker.agency, role=Role.SUPERVISOR)
    services.case_assign(case=assigned, worker=worker, by=boss)
    shared = CaseShare.objects.filter(shared_with_agency=worker.agency).first().case
    grant_worker(case=shared, user=worker)
    queryset = case_list(user=worker)
    expected = [(case.pk, case.user_can_change) for case in queryset.order_by(*ORDER)]
    assert len(expected) == 6
    assert len({pk for pk, _ in expected}) == 6
    assert (shared.pk, True) in expected
    pages = _walk(queryset, per_page=2)
    assert [(case.pk, case.user_can_change) for page in pages for case in page] == expected
    backwards, cursor = [], pages[-1].previous_cursor
    while cursor:
        page = keyset_page(queryset, per_page=2, ordering=ORDER, before=cursor)
        backwards = [case.pk for case in page] + backwards
        cursor = page.previous_cursor
    assert backwards + [case.pk for case in pages[-1]] == [row[0] for row in expected]


def test_a_page_after_a_cursor_starts_at_the_key_by_a_row_comparison(worker_scene):
    first = keyset_page(case_list(user=worker_scene), per_page=2, ordering=ORDER)
    with CaptureQueriesContext(connection) as queries:
        keyset_page(
            case_list(user=worker_scene), per_page=2, ordering=ORDER, after=first.next_cursor
        )
    sql = queries[0]["sql"]
    assert '("screening_case"."created_at", "screening_case"."id") <' in sql
    if connection.vendor == "postgresql":
        assert re.search(r'\(\S+\."case_created_at", \S+\."case_id"\) <', sql)


def _sql(queryset):
    return queryset.query.sql_with_params()


@pytest.mark.parametrize("who", ["supervisor", "worker"])
def test_the_visible_condition_built_at_compile_time_is_the_eager_filter(
    supervisor_scene, worker_scene, who, monkeypatch
):
    """`visible_to` builds its condition only when a query is compiled with it (a paged list
    on PostgreSQL reads the parts instead): pinned to what filtering by the same `Q` renders,
    as a list, a count, inside a subquery whose aliases were relabeled, and in an OR of two
    querysets, with the same rows (inside a subquery its own subqueries keep their table
    names: same rows, tested)."""
    from django.db.models import Exists, OuterRef, Q

    from config.keyset import parted_filter
    from screening.querysets import explicitly_visible

    user = worker_scene if who == "worker" else supervisor_scene
    now = timezone.now()  # the break-glass expiry is compared with the time of the query
    monkeypatch.setattr(timezone, "now", lambda: now)
    lazy = Case.objects.visible_to(user)
    ids = explicitly_visible(user)
    condition = Q(agency_id=user.agency_id) | ids if who == "supervisor" else ids
    eager = parted_filter(Case.objects.all(), condition)
    assert _sql(lazy) == _sql(eager)
    assert _sql(lazy.filter(status="open").order_by("pk")) == _sql(
        eager.filter(status="open").order_by("pk")
    )
    assert sorted(lazy.values_list("pk", flat=True)) == sorted(
        Case.objects.filter(condition).values_list("pk", flat=True)
    )
    assert lazy.count() == Case.objects.filter(condition).count()

    def shared(cases):  # rows of another table whose case is visible: shares
        return CaseShare.objects.filter(Exists(cases.filter(pk=OuterRef("case_id"))))

    # In a subquery the condition is built on the query being compiled, whose aliases were
    # relabeled (U0): its own subqueries keep their tables' names, which Django itself
    # deems clash-free for a query of another prefix; they refer to no outer column.
    assert re.search(r'"screening_case" [A-Z]0\b', _sql(shared(lazy))[0])
    assert list(shared(lazy).order_by("pk")) == list(shared(eager).order_by("pk"))
    assert shared(lazy).exists()
    others = Case.objects.filter(agency_id=user.agency_id + 1000)
    assert _sql(others | lazy) == _sql(others | eager)
    assert _sql(lazy | others) == _sql(eager | others)


def test_my_cases_and_agency_cases_are_the_visible_set_narrowed(supervisor_scene, worker_scene):
    """ "My cases" reads the user's own grants and a supervisor's "agency cases" the agency's
    cases, neither through the whole visibility rule: pinned to that rule narrowed by the
    list's own condition, for a supervisor, a worker, an inactive account and staff without
    a case-work role."""
    from django.db.models import Exists, OuterRef, Q

    from screening.models import CaseAssignment
    from screening.selectors import agency_case_list, my_case_list

    admin = UserFactory(agency=supervisor_scene.agency, role=Role.AGENCY_ADMIN)
    gone = UserFactory(agency=supervisor_scene.agency, role=Role.SUPERVISOR, is_active=False)
    for user in (supervisor_scene, worker_scene, admin, gone):
        visible = Case.objects.visible_to(user)
        mine = Q(created_by_id=user.pk) | Exists(
            CaseAssignment.objects.filter(case=OuterRef("pk"), worker_id=user.pk)
        )
        assert [c.pk for c in my_case_list(user=user)] == [
            c.pk for c in visible.filter(mine).order_by(*ORDER)
        ]
        assert [c.pk for c in agency_case_list(user=user)] == [
            c.pk for c in visible.filter(agency_id=user.agency_id).order_by(*ORDER)
        ]
    assert my_case_list(user=supervisor_scene).exists()
    assert agency_case_list(user=supervisor_scene).count() > 10
    assert my_case_list(user=worker_scene).exists()


def test_each_id_set_given_as_sql_selects_the_rows_of_its_queryset(worker_scene, monkeypatch):
    """The visibility rule's three id sets and "my cases"' assignments are rendered as SQL
    (`SqlPiece`, for the cost of building querysets on every case request): each pinned to
    the rows of the queryset it stands for, for users with and without grants, shares,
    assignments and break-glass grants, live and expired, and with rows of other users,
    other agencies and other permissions about."""
    from guardian.shortcuts import assign_perm

    from screening.querysets import (
        _assigned_ids,
        _assigned_ids_sql,
        _break_glass_ids,
        _break_glass_ids_sql,
        _granted_ids_sql,
        _shared_ids,
        _shared_ids_sql,
        granted_case_ids,
    )

    worker = worker_scene
    elsewhere = AgencyFactory()
    stranger = UserFactory(agency=elsewhere, role=Role.SOCIAL_WORKER)
    cases = list(Case.objects.order_by("pk"))
    assign_perm("change_case", worker, cases[0])  # change without view: not in view_case
    grant_worker(case=cases[1], user=stranger)
    services.case_share(
        case=cases[2],
        agency=elsewhere,
        reason="Joint work",
        by=UserFactory(agency=cases[2].agency, role=Role.SUPERVISOR),
    )
    boss = UserFactory(agency=worker.agency, role=Role.SUPERVISOR)
    assigned = services.case_create(
        created_by=UserFactory(agency=worker.agency, role=Role.FRONTLINE_OFFICER)
    )
    services.case_assign(case=assigned, worker=worker, by=boss)
    other_case = services.case_create(created_by=stranger)
    services.case_assign(
        case=other_case,
        worker=UserFactory(agency=elsewhere, role=Role.FRONTLINE_OFFICER),
        by=UserFactory(agency=elsewhere, role=Role.SUPERVISOR),
    )
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now)  # one time for both renderings
    for user, case, expires in (
        (worker, cases[3], now + timedelta(hours=1)),
        (worker, cases[5], now - timedelta(seconds=1)),  # expired
        (worker, cases[6], now),  # expires at this instant: no longer in force
        (stranger, cases[7], now + timedelta(hours=1)),
    ):
        BreakGlassGrant.objects.create(
            user=user,
            case=case,
            reason="Out of hours: at the station now",
            granted_at=now - timedelta(hours=2),
            expires_at=expires,
        )

    def rows(piece):
        from django.db.models import Q

        from config.keyset import IdsIn

        return sorted(Case.objects.filter(Q(IdsIn([piece]))).values_list("pk", flat=True))

    def expected(queryset):
        return sorted(Case.objects.filter(pk__in=queryset).values_list("pk", flat=True))

    seen = 0
    for user in (worker, stranger, UserFactory(agency=AgencyFactory(), role=Role.SUPERVISOR)):
        for piece, queryset in (
            (_granted_ids_sql(user, "view_case"), granted_case_ids(user, "view_case")),
            (_granted_ids_sql(user, "change_case"), granted_case_ids(user, "change_case")),
            (_shared_ids_sql(user), _shared_ids(user)),
            (_break_glass_ids_sql(user), _break_glass_ids(user)),
            (_assigned_ids_sql(user), _assigned_ids(user)),
        ):
            want = expected(queryset)
            assert rows(piece) == want
            seen += len(want)
    # The scene holds rows of every kind for the worker (the test could tell a wrong piece).
    assert rows(_break_glass_ids_sql(worker)) == [cases[3].pk]
    assert cases[0].pk in rows(_granted_ids_sql(worker, "change_case"))
    assert cases[0].pk not in rows(_granted_ids_sql(worker, "view_case"))
    assert rows(_shared_ids_sql(stranger)) == [cases[2].pk]
    assert rows(_assigned_ids_sql(worker)) == [assigned.pk]
    assert len(rows(_shared_ids_sql(worker))) >= 4
    assert seen > 10
