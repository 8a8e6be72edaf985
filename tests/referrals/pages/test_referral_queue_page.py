"""The supervisor's referral queue page: who sees it, its order, markers, filters, pages and a
fixed number of queries."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from screening import services
from tests.pages import follow, link_query, page_link
from tests.referrals.pages.conftest import login_redirect

pytestmark = pytest.mark.django_db

URL = "/referrals/queue/"


def _row_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'href="/referrals/(\d+)/"', html)]


def test_the_queue_needs_login(client):
    assert login_redirect(client.get(URL), URL)


@pytest.mark.parametrize("role", ["officer", "colleague", "provider_staff"])
def test_the_queue_is_for_supervisors_only(client_for, role, request):
    response = client_for(request.getfixturevalue(role)).get(URL)
    assert response.status_code == 403


def test_a_supervisor_of_another_agency_does_not_see_our_referrals(
    client_for, referral_factory, outsider
):
    referral_factory()
    response = client_for(outsider).get(URL)
    assert response.status_code == 200
    assert _row_ids(response.content.decode()) == []
    assert "Nothing is waiting for you." in response.content.decode()


def test_failed_first_then_priority_then_due_time_each_linking_to_its_detail(
    client_for, referral_factory, supervisor
):
    now = timezone.now()
    later_normal = referral_factory(priority=3, due_at=now + timedelta(hours=5))
    sooner_normal = referral_factory(priority=3, due_at=now + timedelta(hours=1))
    urgent = referral_factory(priority=1, due_at=now + timedelta(hours=9))
    failed = referral_factory(status="failed", priority=4)
    referral_factory(status="accepted")  # nobody in the agency has to act on it

    html = client_for(supervisor).get(URL).content.decode()

    assert _row_ids(html) == [failed.pk, urgent.pk, sooner_normal.pk, later_normal.pk]
    assert "4 referrals waiting" in html


def test_overdue_and_escalated_referrals_are_marked(client_for, referral_factory, supervisor):
    referral_factory(due_at=timezone.now() - timedelta(hours=1))
    referral_factory(status="sent", escalated_at=timezone.now())
    html = client_for(supervisor).get(URL).content.decode()
    assert "Overdue" in html
    assert "Escalated: no answer from the provider" in html


def test_the_queue_filters_by_status_service_type_and_region(
    client_for, referral_factory, supervisor, officer, submitted
):
    northern = services.case_create(created_by=officer, age=40, region="Northshire")
    shelter = referral_factory(service_type="shelter")
    medical = referral_factory(service_type="medical")
    blocked = referral_factory(status="blocked_needs_consent", consent=None)
    in_the_north = referral_factory(case=northern, service_type="legal_aid")
    client = client_for(supervisor)

    def rows(query: str) -> set[int]:
        return set(_row_ids(client.get(f"{URL}?{query}").content.decode()))

    assert rows("service_type=medical") == {medical.pk}
    assert rows("status=blocked_needs_consent") == {blocked.pk}
    assert rows("region=northshire") == {in_the_north.pk}
    assert rows("status=pending_approval&service_type=shelter") == {shelter.pk}
    # An unknown value is shown as an error on the filter and not applied.
    html = client.get(f"{URL}?status=nonsense").content.decode()
    assert set(_row_ids(html)) == {shelter.pk, medical.pk, blocked.pk, in_the_north.pk}
    assert "Select a valid choice" in html


def test_the_queue_is_paginated_and_keeps_the_filters(client_for, referral_factory, supervisor):
    for _ in range(27):
        referral_factory(service_type="medical")
    client = client_for(supervisor)
    first = client.get(f"{URL}?service_type=medical").content.decode()
    link = page_link(first, "next")
    assert link_query(link)["service_type"] == ["medical"]
    second = follow(client, URL, link)
    assert len(_row_ids(first)) == 25
    assert len(_row_ids(second)) == 2
    assert not set(_row_ids(first)) & set(_row_ids(second))
    assert page_link(second, "next") is None
    assert link_query(page_link(second, "prev"))["service_type"] == ["medical"]


@pytest.mark.parametrize("count", [3, 6])
def test_the_queue_page_runs_a_fixed_number_of_queries(
    client_for, referral_factory, supervisor, count, django_assert_num_queries
):
    for index in range(count):
        referral_factory(status="failed" if index == 0 else "pending_approval")
    client = client_for(supervisor)
    # session, user, the device of the second sign-in step, roles (read once for the header
    # and the queue's supervisor check), page rows (no COUNT), the access log entry, and the
    # session save every request makes for the idle timeout (savepoint, update, release)
    with django_assert_num_queries(9):
        response = client.get(URL)
    assert len(_row_ids(response.content.decode())) == count


def test_the_navigation_links_the_queue_for_supervisors_and_the_inbox_for_provider_staff(
    client_for, supervisor, officer, provider_staff
):
    supervisor_page = client_for(supervisor).get("/").content.decode()
    officer_page = client_for(officer).get("/").content.decode()
    provider_page = client_for(provider_staff).get("/referrals/inbox/").content.decode()
    assert 'href="/referrals/queue/"' in supervisor_page
    assert 'href="/referrals/inbox/"' not in supervisor_page
    assert 'href="/referrals/queue/"' not in officer_page
    assert 'href="/referrals/inbox/"' not in officer_page
    assert 'href="/referrals/inbox/"' in provider_page
    assert 'href="/referrals/queue/"' not in provider_page
