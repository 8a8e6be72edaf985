"""The home page per role (issue 14): what waits for the person, each count linking to its
list, bounded counts, and a fixed number of queries however much waits."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.home import HOME_COUNT_LIMIT, HomeCount
from screening.models import CaseTask
from screening.roles import Role
from tests.factories import UserFactory
from tests.referrals.pages.conftest import login_redirect

pytestmark = pytest.mark.django_db
URL = "/referrals/home/"


def test_home_needs_login(client):
    assert login_redirect(client.get(URL), URL)


def test_a_supervisor_sees_queue_counts_linking_to_the_filtered_queue(
    client_for, referral_factory, supervisor, outsider
):
    referral_factory(status="failed")
    referral_factory(service_type="medical")
    referral_factory(status="accepted", service_type="legal_aid", escalated_at=timezone.now())
    html = client_for(supervisor).get(URL).content.decode()
    assert (
        '<a href="/referrals/queue/?status=failed">'
        '<strong class="home-count badge-urgent">1</strong> Delivery failed' in html
    )
    assert (
        'href="/referrals/queue/?status=pending_approval"><strong class="home-count">1</strong>'
        in html
    )
    assert (
        'href="/referrals/queue/?escalation=any"><strong class="home-count badge-urgent">1</strong>'
        in html
    )
    # Another agency's supervisor counts none of ours.
    other = client_for(outsider).get(URL).content.decode()
    assert '<strong class="home-count">0</strong> Waiting for approval' in other


def test_provider_staff_see_their_inbox_and_overdue_answers(client_for, delivered, provider_staff):
    delivered(status="sent", due_at=timezone.now() - timedelta(hours=1))
    delivered(status="accepted", service_type="medical")
    html = client_for(provider_staff).get(URL).content.decode()
    assert '<strong class="home-count badge-urgent">1</strong> Answers overdue' in html
    assert '<strong class="home-count">1</strong> Accepted' in html
    assert "Referral queue" not in html and "Your work" not in html


def test_a_worker_sees_tasks_due(client_for, officer, case):
    CaseTask.objects.create(
        case=case,
        description="Call back",
        due_at=timezone.now() - timedelta(hours=1),
        assignee=officer,
        created_by=officer,
    )
    html = client_for(officer).get(URL).content.decode()
    assert 'href="/tasks/"><strong class="home-count badge-urgent">1</strong> Tasks due' in html
    assert "Referral queue" not in html


def test_hotline_staff_see_todays_contacts_and_an_admin_sees_no_counts(client_for, agency):
    hotline = UserFactory(agency=agency, role=Role.HOTLINE_STAFF)
    assert "Contacts logged today" in client_for(hotline).get(URL).content.decode()
    admin = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    assert "Nothing to count for your role" in client_for(admin).get(URL).content.decode()


def test_a_count_beyond_the_limit_is_shown_as_limit_plus():
    assert HomeCount("x", HOME_COUNT_LIMIT + 1, "/").shown == f"{HOME_COUNT_LIMIT}+"
    assert HomeCount("x", HOME_COUNT_LIMIT, "/").shown == str(HOME_COUNT_LIMIT)


@pytest.mark.parametrize("count", [1, 3])
def test_the_supervisor_home_runs_a_fixed_number_of_queries(
    client_for, referral_factory, supervisor, count, django_assert_num_queries
):
    for index, service in enumerate(["shelter", "medical", "legal_aid"]):
        if index < count:
            referral_factory(service_type=service)
    client = client_for(supervisor)
    client.get(URL)
    # The same for 1 and 3 referrals: session, user, roles, the header, 4 worker counts, 4
    # queue counts (each a bounded COUNT), the access log and the session save.
    with django_assert_num_queries(16):
        assert client.get(URL).status_code == 200


def test_the_menu_offers_a_new_case_to_case_workers_but_not_to_provider_staff(
    client_for, officer, provider_staff
):
    new_case = 'href="/cases/new/">New case</a>'
    assert new_case in client_for(officer).get(URL).content.decode()
    provider_menu = client_for(provider_staff).get(URL).content.decode()
    assert new_case not in provider_menu
    assert 'href="/referrals/inbox/">Referral inbox</a>' in provider_menu
