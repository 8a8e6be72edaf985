"""The keyset engine (config/keyset.py): every row once and in order whichever way a list is
walked, ties on the leading field, cursors that carry ids and timestamps only and are refused
when edited, no COUNT and no OFFSET, the same engine behind the API's cursor pages."""

from __future__ import annotations

import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.keyset import (
    CursorInvalid,
    KeysetPage,
    cursor_decode,
    cursor_encode,
    keyset_ordering,
    keyset_page,
    keyset_rows,
)
from config.models import AccessLogEntry
from screening.models import Case, User
from tests.factories import AgencyFactory, UserFactory
from tests.pages import list_queries

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _entry(at: datetime, status_code: int = 200) -> AccessLogEntry:
    return AccessLogEntry.objects.create(
        at=at,
        method="GET",
        route="screening:case-detail",
        status_code=status_code,
        outcome=AccessLogEntry.Outcome.ALLOWED,
    )


@pytest.fixture
def entries() -> list[AccessLogEntry]:
    """23 entries, many sharing a time (the leading field ties), two status codes."""
    made = []
    for index in range(23):
        at = START + timedelta(minutes=index // 4)  # four entries a minute
        made.append(_entry(at, status_code=200 if index % 3 else 404))
    return made


def _expected(entries, ordering) -> list[int]:
    rows = list(entries)
    for field in reversed(ordering):
        name = field.removeprefix("-")
        rows.sort(key=lambda row, n=name: getattr(row, n), reverse=field.startswith("-"))
    return [row.pk for row in rows]


def _walk_forward(queryset, ordering, per_page) -> tuple[list[int], list[KeysetPage]]:
    pages = [keyset_page(queryset, ordering=ordering, per_page=per_page)]
    while pages[-1].has_next:
        pages.append(
            keyset_page(queryset, ordering=ordering, per_page=per_page, after=pages[-1].next_cursor)
        )
    return [row.pk for page in pages for row in page], pages


ORDERINGS = [
    ("-at", "-pk"),
    ("at", "pk"),
    ("status_code", "at", "pk"),  # three fields one way: a row comparison
    ("status_code", "-at", "pk"),
    ("-status_code", "at", "-pk"),
]


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("per_page", [1, 4, 5, 23, 30])
def test_walking_forward_gives_every_row_once_in_order(entries, ordering, per_page):
    seen, pages = _walk_forward(AccessLogEntry.objects.all(), ordering, per_page)
    assert seen == _expected(entries, ordering)
    assert not pages[0].has_previous and not pages[-1].has_next
    assert all(page.has_previous for page in pages[1:])


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("per_page", [1, 4, 5])
def test_walking_back_from_the_last_page_gives_the_same_pages(entries, ordering, per_page):
    queryset = AccessLogEntry.objects.all()
    _, forward = _walk_forward(queryset, ordering, per_page)
    back = [forward[-1]]
    while back[-1].has_previous:
        back.append(
            keyset_page(
                queryset, ordering=ordering, per_page=per_page, before=back[-1].previous_cursor
            )
        )
    assert [[row.pk for row in page] for page in reversed(back)] == [
        [row.pk for row in page] for page in forward
    ]
    assert back[-1].previous_cursor is None and not back[-1].has_previous


def test_a_page_is_one_query_with_no_count_and_no_offset(entries):
    first = keyset_page(AccessLogEntry.objects.all(), ordering=("-at", "-pk"), per_page=5)
    with CaptureQueriesContext(connection) as captured:
        page = keyset_page(
            AccessLogEntry.objects.all(),
            ordering=("-at", "-pk"),
            per_page=5,
            after=first.next_cursor,
        )
    assert len(page) == 5
    (sql,) = list_queries(captured)
    assert "COUNT(" not in sql.upper() and "OFFSET" not in sql.upper()
    assert "LIMIT 6" in sql  # a page and one row to know whether another follows


def test_an_order_running_one_way_is_cut_by_one_row_comparison(entries):
    cursor = cursor_encode([START, 7])
    with CaptureQueriesContext(connection) as captured:
        keyset_page(AccessLogEntry.objects.all(), ordering=("-at", "-pk"), per_page=5, after=cursor)
    (sql,) = list_queries(captured)
    where = sql.split("WHERE", 1)[1]
    # (at, id) < (t, 7): one range of an index on (at, id), on PostgreSQL and SQLite alike.
    assert '("core_accesslogentry"."at", "core_accesslogentry"."id") < (' in where
    assert " OR " not in where


def test_an_order_mixing_directions_bounds_the_leading_field_for_the_index_scan(entries):
    cursor = cursor_encode([200, START, 7])
    with CaptureQueriesContext(connection) as captured:
        keyset_page(
            AccessLogEntry.objects.all(),
            ordering=("status_code", "-at", "pk"),
            per_page=5,
            after=cursor,
        )
    (sql,) = list_queries(captured)
    where = sql.split("WHERE", 1)[1]
    # status >= s AND (status > s OR (status = s AND at < t) OR (... AND id > 7))
    assert '"status_code" >= ' in where and '"at" < ' in where and '"id" > ' in where
    assert where.index('"status_code" >= ') < where.index(" OR ")


def test_a_bounded_count_stops_at_its_bound(entries):
    queryset = AccessLogEntry.objects.all()
    exact = keyset_page(queryset, ordering=("-at", "-pk"), per_page=5, count_up_to=100)
    assert exact.count == 23 and not exact.count_more
    bounded = keyset_page(queryset, ordering=("-at", "-pk"), per_page=5, count_up_to=10)
    assert bounded.count == 11 and bounded.count_more and bounded.count_bound == 10


def test_rows_after_the_last_one_are_an_empty_page_leading_back_to_the_first(entries):
    queryset = AccessLogEntry.objects.all()
    page = keyset_page(queryset, ordering=("at", "pk"), per_page=5, after=cursor_encode([START, 0]))
    assert len(page) == 5  # before everything: the start
    past = keyset_page(
        queryset,
        ordering=("at", "pk"),
        per_page=5,
        after=cursor_encode([START + timedelta(days=1), 1]),
    )
    assert list(past) == [] and past.has_previous and past.previous_cursor is None
    assert not past.has_next


def test_going_back_to_rows_that_went_shows_the_first_page_full(entries):
    queryset = AccessLogEntry.objects.all()
    _, pages = _walk_forward(queryset, ("-at", "-pk"), 5)
    AccessLogEntry.objects.filter(pk__in=[row.pk for row in pages[0]][:3]).delete()
    back = keyset_page(
        queryset, ordering=("-at", "-pk"), per_page=5, before=pages[1].previous_cursor
    )
    assert len(back) == 5 and not back.has_previous and back.has_next


# --- cursors -------------------------------------------------------------------------------


def _token(values) -> str:
    return urlsafe_b64encode(json.dumps(values).encode()).decode()


def test_a_cursor_carries_the_key_and_nothing_else(entries):
    page = keyset_page(AccessLogEntry.objects.all(), ordering=("-at", "-pk"), per_page=5)
    when, pk = json.loads(urlsafe_b64decode(page.next_cursor))
    assert datetime.fromisoformat(when) == page.rows[-1].at and pk == page.rows[-1].pk


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-cursor",
        "\U0009ac1c\x9c",
        urlsafe_b64encode(b"{not json").decode(),
        _token({"at": "2026-03-01T09:00:00+00:00"}),
        _token(["2026-03-01T09:00:00+00:00"]),  # too short
        _token(["2026-03-01T09:00:00+00:00", 1, 2]),  # too long
        _token(["2026-03-01T09:00:00", 1]),  # no offset
        _token(["yesterday", 1]),
        _token([1, 1]),
        _token(["2026-03-01T09:00:00+00:00", "1"]),
        _token(["2026-03-01T09:00:00+00:00", True]),
        _token(["2026-03-01T09:00:00+00:00", 2**63]),
        _token(["2026-03-01T09:00:00+00:00", 1.5]),
    ],
)
def test_an_edited_cursor_is_refused(entries, token):
    with pytest.raises(CursorInvalid):
        keyset_page(AccessLogEntry.objects.all(), ordering=("-at", "-pk"), per_page=5, after=token)
    with pytest.raises(CursorInvalid):
        keyset_page(AccessLogEntry.objects.all(), ordering=("-at", "-pk"), per_page=5, before=token)


def test_a_page_has_one_cursor_not_two(entries):
    cursor = cursor_encode([START, 1])
    with pytest.raises(CursorInvalid):
        keyset_page(
            AccessLogEntry.objects.all(),
            ordering=("-at", "-pk"),
            per_page=5,
            after=cursor,
            before=cursor,
        )


def test_an_encrypted_field_cannot_order_a_paged_list():
    with pytest.raises(ImproperlyConfigured, match="encrypted"):
        keyset_ordering(Case.objects.all(), ("identifying_name", "pk"))


def test_the_last_field_of_the_order_must_be_unique():
    with pytest.raises(ImproperlyConfigured, match="unique"):
        keyset_ordering(AccessLogEntry.objects.all(), ("-at",))
    with pytest.raises(ImproperlyConfigured):
        keyset_ordering(AccessLogEntry.objects.all(), ("-at", "case__created_at", "pk"))


def test_the_order_is_the_querysets_own_unless_given():
    fields = keyset_ordering(AccessLogEntry.objects.order_by("-at", "-pk"))
    assert [(field.name, field.descending, field.kind) for field in fields] == [
        ("at", True, datetime),
        ("pk", True, int),
    ]


# --- a list ordered on text: the cursor is the row's id ------------------------------------


@pytest.fixture
def staff() -> list[User]:
    agency = AgencyFactory()
    # Surnames that tie, and first names that tie within them.
    return [
        UserFactory(agency=agency, last_name=f"Fictional{index % 3}", first_name=f"Ana{index % 2}")
        for index in range(11)
    ]


def test_a_list_ordered_on_names_keeps_names_out_of_its_cursors(staff):
    ordering = ("last_name", "first_name", "username", "pk")
    queryset = User.objects.filter(pk__in=[user.pk for user in staff])
    seen, pages = _walk_forward(queryset, ordering, 4)
    assert seen == _expected(staff, ordering)
    for page in pages[:-1]:
        assert json.loads(urlsafe_b64decode(page.next_cursor)) == [page.rows[-1].pk]
    back = keyset_page(queryset, ordering=ordering, per_page=4, before=pages[-1].previous_cursor)
    assert [row.pk for row in back] == [row.pk for row in pages[-2]]


def test_a_named_row_outside_the_list_starts_no_page(staff):
    """The row a cursor names is looked up within the list itself: a cursor naming someone
    outside it says nothing about where their name falls."""
    ordering = ("last_name", "first_name", "username", "pk")
    outside = UserFactory(last_name="Fictional1")
    queryset = User.objects.filter(pk__in=[user.pk for user in staff])
    page = keyset_page(queryset, ordering=ordering, per_page=4, after=cursor_encode([outside.pk]))
    assert list(page) == []


# --- a list built in memory ----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    at: datetime
    history_id: int


def test_a_list_in_memory_is_paged_the_same_way():
    rows = [Row(START + timedelta(seconds=index // 3), index) for index in range(10)]
    ordering = (("-at", datetime), ("-history_id", int))
    first = keyset_page(rows, ordering=ordering, per_page=4, count_up_to=200)
    second = keyset_page(rows, ordering=ordering, per_page=4, after=first.next_cursor)
    third = keyset_page(rows, ordering=ordering, per_page=4, after=second.next_cursor)
    assert [row.history_id for row in first] == [9, 8, 7, 6] and first.count == 10
    assert [row.history_id for row in second] == [5, 4, 3, 2]
    assert [row.history_id for row in third] == [1, 0] and not third.has_next
    again = keyset_page(rows, ordering=ordering, per_page=4, before=third.previous_cursor)
    assert list(again) == list(second)


def test_keyset_rows_reads_a_page_backwards_in_list_order(entries):
    queryset = AccessLogEntry.objects.all()
    fields = keyset_ordering(queryset, ("-at", "-pk"))
    newest_first = _expected(entries, ("-at", "-pk"))
    anchor = AccessLogEntry.objects.get(pk=newest_first[10])
    read = keyset_rows(queryset, fields, before=[anchor.at, anchor.pk], limit=3)
    assert [row.pk for row in read.rows] == newest_first[7:10] and read.more
    assert cursor_decode(cursor_encode([anchor.at, anchor.pk]), fields) == [anchor.at, anchor.pk]


def _ids_in_scene():
    agency, elsewhere = AgencyFactory(), AgencyFactory()
    users = [UserFactory(agency=agency), UserFactory(agency=elsewhere), UserFactory(agency=agency)]
    return agency, users


def test_ids_in_selects_the_rows_of_djangos_in_on_the_union():
    """`IdsIn` (the parted read's merge) against Django's own `__in` on the same union:
    pieces of another model, a piece with a subquery of its own, overlapping pieces, a piece
    that can hold nothing, and no piece with a row at all."""
    from django.db.models import Q

    from config.keyset import IdsIn

    agency, users = _ids_in_scene()
    own = User.objects.filter(agency=agency).values("pk").order_by()
    named = User.objects.filter(pk__in=User.objects.filter(pk=users[1].pk)).values("pk").order_by()
    overlapping = User.objects.filter(pk=users[0].pk).values("pk").order_by()
    empty = User.objects.none().values("pk")
    for pieces, union_all in [
        ([own, named], True),
        ([own, overlapping], True),
        ([own, overlapping], False),
        ([named, empty], True),
    ]:
        expected = User.objects.filter(pk__in=pieces[0].union(*pieces[1:], all=union_all))
        got = User.objects.filter(Q(IdsIn(pieces, union_all=union_all)))
        assert sorted(got.values_list("pk", flat=True)) == sorted(
            expected.values_list("pk", flat=True)
        )
        # Negated and inside another query's subquery, where Django relabels the outer tables.
        outside = User.objects.exclude(Q(IdsIn(pieces, union_all=union_all)))
        assert set(outside.values_list("pk", flat=True)).isdisjoint(
            got.values_list("pk", flat=True)
        )
        wrapped = User.objects.filter(pk__in=got.values("pk"))
        assert sorted(wrapped.values_list("pk", flat=True)) == sorted(
            got.values_list("pk", flat=True)
        )
    assert list(User.objects.filter(Q(IdsIn([empty, empty])))) == []
    assert len(User.objects.exclude(Q(IdsIn([empty])))) == len(User.objects.all())


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite allows no ORDER BY or LIMIT inside a UNION",
)
def test_ids_in_keeps_each_pieces_order_and_cut():
    from django.db.models import Q

    from config.keyset import IdsIn

    _ids_in_scene()
    newest = User.objects.order_by("-pk").values("pk")[:1]
    oldest = User.objects.order_by("pk").values("pk")[:1]
    expected = User.objects.filter(pk__in=newest.union(oldest, all=True))
    got = User.objects.filter(Q(IdsIn([newest, oldest])))
    assert len(expected) == 2
    assert sorted(got.values_list("pk", flat=True)) == sorted(expected.values_list("pk", flat=True))


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite allows no ORDER BY or LIMIT inside a UNION",
)
def test_ids_in_cut_keeps_the_first_ids_of_the_merged_pieces_in_order():
    """With `order` and `limit`, the pieces' rows are merged (a row in two pieces once) and
    only the first `limit` in that order are kept: with each piece cut at `limit` in the same
    order, the rows a page of the plain query holds."""
    from django.db.models import Q

    from config.keyset import IdsIn

    agency, elsewhere = AgencyFactory(), AgencyFactory()
    UserFactory.create_batch(4, agency=agency)
    UserFactory.create_batch(4, agency=elsewhere)
    # Each piece its first four, as a parted page's pieces are each cut at a page.
    here = User.objects.filter(agency=agency).order_by("-pk").values("pk", "agency_id")[:4]
    there = User.objects.filter(agency=elsewhere).order_by("-pk").values("pk", "agency_id")[:4]
    both = User.objects.order_by("-pk").values("pk", "agency_id")[:4]  # overlaps `there`
    got = User.objects.filter(Q(IdsIn([here, there, both], order=[(0, True)], limit=4))).order_by(
        "-pk"
    )
    expected = User.objects.filter(agency__in=[agency, elsewhere]).order_by("-pk")[:4]
    assert list(got) == list(expected)
    # Cut on the second column first: the ids of the first agency (by id, descending) first.
    by_agency = User.objects.filter(
        Q(IdsIn([here, there], order=[(1, False), (0, True)], limit=3))
    ).order_by("-pk")
    assert list(by_agency) == list(User.objects.filter(agency=agency).order_by("-pk")[:3])
