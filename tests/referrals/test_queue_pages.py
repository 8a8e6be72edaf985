"""The supervisor queue and the provider inbox paged by keyset (issue 12): a page after a cursor
is cut by one row comparison over the list's order, `(queue_rank, priority, due_at, id) > (...)`
(one range of the partial index in queue order), and every page, forwards and backwards, holds
exactly the rows of the plain query, ties on every leading field included."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.keyset import keyset_page
from referrals.models import Referral
from referrals.selectors import INBOX_ORDER, QUEUE_ORDER, referral_inbox, referral_queue
from screening.models import Agency
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import make_provider

pytestmark = pytest.mark.django_db

# Waiting states of the queue (failed first, then the others) and delivered inbox states.
STATUSES = ("failed", "pending_approval", "sent", "acknowledged", "accepted", "declined")
SERVICES = (
    "shelter",
    "medical",
    "mental_health",
    "legal_aid",
    "immigration_legal",
    "labour_rights",
)


@pytest.fixture
def referrals(referral_factory):
    """24 referrals of one case agency to four providers of one agency: queue ranks 0 and 1
    (a sent one escalated joins the queue), three priorities and due times that tie in
    pairs."""
    agency = AgencyFactory(kind=Agency.Kind.SERVICE_PROVIDER, name="Harbour Light Shelter")
    providers = [make_provider(agency=agency, service_types=list(SERVICES)) for _ in range(4)]
    start = timezone.now().replace(microsecond=0) + timedelta(hours=2)
    made = []
    for index in range(24):
        status = STATUSES[index % len(STATUSES)]
        made.append(
            referral_factory(
                provider=providers[index % 4],
                service_type=SERVICES[index // 4],
                status=status,
                priority=(1, 2, 3)[index % 3],
                due_at=start + timedelta(hours=index // 2),
                escalated_at=timezone.now() if status == "sent" and index % 4 == 2 else None,
                decline_reason="no_capacity" if status == "declined" else "",
            )
        )
    return made


def _walk(queryset, ordering, per_page):
    pages, cursor = [], None
    while True:
        page = keyset_page(queryset, per_page=per_page, ordering=ordering, after=cursor)
        pages.append(page)
        if not page.has_next:
            break
        cursor = page.next_cursor
    backwards, cursor = [], pages[-1].previous_cursor
    while cursor:
        page = keyset_page(queryset, per_page=per_page, ordering=ordering, before=cursor)
        backwards = [row.pk for row in page] + backwards
        cursor = page.previous_cursor
    forwards = [row.pk for page in pages for row in page]
    return forwards, backwards + [row.pk for row in pages[-1]]


@pytest.mark.parametrize("per_page", [1, 3, 5])
def test_queue_pages_hold_exactly_the_rows_of_the_plain_query(referrals, supervisor, per_page):
    queryset = referral_queue(user=supervisor)
    expected = list(queryset.values_list("pk", flat=True))
    assert len(expected) == 10  # 4 failed, 4 waiting for approval, 2 escalated after sending
    assert len(set(Referral.objects.filter(pk__in=expected).values_list("queue_rank"))) == 2
    forwards, backwards = _walk(queryset, QUEUE_ORDER, per_page)
    assert forwards == expected
    assert backwards == expected


@pytest.mark.parametrize("per_page", [1, 3, 5])
def test_inbox_pages_hold_exactly_the_rows_of_the_plain_query(referrals, per_page):
    staff = UserFactory(agency=referrals[0].provider.agency, role=Role.PROVIDER_STAFF)
    queryset = referral_inbox(user=staff)
    expected = list(queryset.values_list("pk", flat=True))
    assert len(expected) >= 8
    forwards, backwards = _walk(queryset, INBOX_ORDER, per_page)
    assert forwards == expected
    assert backwards == expected


def test_a_deep_queue_page_starts_at_the_cursor_by_one_row_comparison(referrals, supervisor):
    queryset = referral_queue(user=supervisor)
    first = keyset_page(queryset, per_page=3, ordering=QUEUE_ORDER)
    with CaptureQueriesContext(connection) as queries:
        keyset_page(queryset, per_page=3, ordering=QUEUE_ORDER, after=first.next_cursor)
    (sql,) = [q["sql"] for q in queries if 'FROM "referrals_referral"' in q["sql"]]
    where = sql.split("WHERE", 1)[1]
    columns = ", ".join(f'"referrals_referral"."{name}"' for name in ("queue_rank", "priority"))
    assert re.search(rf'\({re.escape(columns)}, "referrals_referral"."due_at", \S+\) > \(', where)
    assert " OR " not in where
