"""Keyset pages on the referral queue and the provider inbox (config/keyset.py): Next and
Previous in the list's own order, ties on priority and due time broken by id, the filters
kept in the links, no COUNT and no OFFSET asked of the database, an edited cursor answered with
the first page and a message."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.pages import assert_no_count_or_offset, follow, link_query, page_link
from tests.referrals.conftest import make_provider
from tests.referrals.pages.conftest import CONSENTED_FIELDS

pytestmark = pytest.mark.django_db

QUEUE = "/referrals/queue/"
INBOX = "/referrals/inbox/"
SERVICE_TYPES = ["shelter", "medical", "legal_aid", "case_management"]


def _queue_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/referrals/(\d+)/"', html)]


def _inbox_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'id="referral-(\d+)"', html)]


def _walk(client, url: str, first_query: str, ids) -> tuple[list[int], list[str]]:
    pages = [client.get(f"{url}{first_query}").content.decode()]
    while link := page_link(pages[-1], "next"):
        pages.append(follow(client, url, link))
    return [pk for page in pages for pk in ids(page)], pages


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr("referrals.views.pages.PER_PAGE", 2)


@pytest.fixture
def queue(referral_factory):
    """Seven referrals waiting: one failed, the rest tying on priority and due time in pairs."""
    due = timezone.now() + timedelta(hours=4)
    made = [referral_factory(status="failed", priority=3, due_at=due)]
    for index in range(6):
        made.append(
            referral_factory(
                priority=2 if index < 2 else 3,
                due_at=due + timedelta(hours=index // 2),
                service_type="medical" if index % 2 else "shelter",
            )
        )
    return made


def test_the_queue_pages_walk_it_in_order_each_referral_once(
    client_for, supervisor, queue, small_pages
):
    failed, *waiting = queue
    client = client_for(supervisor)
    seen, pages = _walk(client, QUEUE, "", _queue_ids)
    expected = [failed] + sorted(waiting, key=lambda r: (r.priority, r.due_at, r.pk))
    assert seen == [referral.pk for referral in expected]
    assert "More than 2 referrals waiting" in pages[0]  # a total only when it is free
    assert "referrals waiting" not in pages[1]  # a later page cannot know the total
    last = pages[-1]
    assert page_link(last, "next") is None and len(_queue_ids(last)) == 1
    back = follow(client, QUEUE, page_link(last, "prev"))
    assert _queue_ids(back) == _queue_ids(pages[-2])


def test_the_queue_pages_keep_the_filters(client_for, supervisor, queue, small_pages):
    client = client_for(supervisor)
    seen, pages = _walk(client, QUEUE, "?service_type=medical", _queue_ids)
    medical = [r for r in queue if r.service_type == "medical"]
    assert sorted(seen) == sorted(r.pk for r in medical) and len(pages) == 2
    assert link_query(page_link(pages[0], "next"))["service_type"] == ["medical"]
    assert link_query(page_link(pages[1], "prev"))["service_type"] == ["medical"]
    assert "3 referrals match these filters" not in pages[0]  # not all on one page


def test_a_queue_of_one_page_says_how_many_wait(client_for, supervisor, referral_factory):
    referral_factory()
    referral_factory(service_type="medical")
    html = client_for(supervisor).get(QUEUE).content.decode()
    assert "2 referrals waiting" in html and page_link(html, "next") is None


def test_the_queue_pages_ask_for_no_count_and_no_offset(client_for, supervisor, queue, small_pages):
    client = client_for(supervisor)
    with CaptureQueriesContext(connection) as captured:
        _, pages = _walk(client, QUEUE, "?status=pending_approval", _queue_ids)
        follow(client, QUEUE, page_link(pages[-1], "prev"))
    assert len(pages) == 3
    assert_no_count_or_offset(captured)


def test_an_edited_queue_cursor_shows_the_first_page(client_for, supervisor, queue, small_pages):
    response = client_for(supervisor).get(QUEUE, {"after": "eyJub3QiOiJhIGtleSJ9"})
    html = response.content.decode()
    assert response.status_code == 200
    assert _queue_ids(html) == [queue[0].pk, queue[1].pk]
    assert "That page link did not work" in html


def test_the_inbox_pages_walk_it_with_no_count_and_no_offset(
    client_for, delivered, referral_factory, provider_staff, provider_agency, small_pages
):
    due = timezone.now() + timedelta(hours=6)
    made = [delivered(service_type=service_type, due_at=due) for service_type in SERVICE_TYPES]
    second_provider = make_provider(
        slug="second-inbox", channel="inbox", agency=provider_agency, service_types=["shelter"]
    )
    made.append(
        referral_factory(
            provider=second_provider,
            service_type="shelter",
            priority=1,
            due_at=due,
            status="accepted",
            fields_disclosed=CONSENTED_FIELDS,
        )
    )
    client = client_for(provider_staff)
    with CaptureQueriesContext(connection) as captured:
        seen, pages = _walk(client, INBOX, "", _inbox_ids)
        back = follow(client, INBOX, page_link(pages[-1], "prev"))
    assert_no_count_or_offset(captured)
    # Priority first, then due time (all tie here), then id.
    assert seen == [r.pk for r in sorted(made, key=lambda r: (r.priority, r.due_at, r.pk))]
    assert len(pages) == 3 and _inbox_ids(back) == _inbox_ids(pages[1])
