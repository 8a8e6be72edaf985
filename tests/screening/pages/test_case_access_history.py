"""The access history page of a case: who read or changed it and how it ended, for supervisors
of the case's agency. All people are fictional."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from config.models import AccessLogEntry
from screening.roles import Role
from tests.factories import UserFactory
from tests.pages import follow, page_link

pytestmark = pytest.mark.django_db


def history_url(case) -> str:
    return reverse("screening:case-access-history", kwargs={"reference": case.reference})


def record(case, user, *, minutes_ago: int = 0, **fields) -> AccessLogEntry:
    """An entry straight in the table, as the middleware writes it."""
    values = {
        "user": user,
        "agency_id": user.agency_id,
        "roles": ",".join(sorted(user.role_names)),
        "method": "GET",
        "route": "screening:case-detail",
        "object_type": "case",
        "object_ref": case.reference,
        "case": case,
        "status_code": 200,
        "outcome": AccessLogEntry.Outcome.ALLOWED,
        **fields,
    }
    return AccessLogEntry.objects.create(
        at=timezone.now() - timedelta(minutes=minutes_ago), **values
    )


def test_the_history_needs_login(client, case):
    url = history_url(case)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={url}")


def test_another_agency_gets_404(client_for, outsider, case):
    assert client_for(outsider).get(history_url(case)).status_code == 404


def test_a_frontline_officer_may_see_the_case_but_not_its_history(client_for, officer, case):
    assert client_for(officer).get(f"/cases/{case.reference}/").status_code == 200
    assert client_for(officer).get(history_url(case)).status_code == 403

    refused = AccessLogEntry.objects.get(route="screening:case-access-history")
    assert refused.outcome == AccessLogEntry.Outcome.DENIED
    assert refused.case_id == case.pk and refused.user == officer


def test_an_agency_administrator_gets_404(client_for, agency, case):
    admin = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    assert client_for(admin).get(history_url(case)).status_code == 404


def test_a_supervisor_sees_who_opened_the_case_newest_first(client_for, supervisor, officer, case):
    client_for(officer).get(f"/cases/{case.reference}/")
    record(
        case,
        supervisor,
        minutes_ago=5,
        route="api-case-detail",
        status_code=404,
        outcome="not_found",
    )
    record(case, supervisor, minutes_ago=10, route="screening:consent-new", method="POST")

    response = client_for(supervisor).get(history_url(case))

    assert response.status_code == 200
    page = response.content.decode()
    rows = page.split("<tbody")[1].split("<tr ")[1:]
    assert len(rows) == 3
    assert officer.get_full_name() in rows[0] and "Frontline officer" in rows[0]
    assert "Case page · Read" in rows[0] and "Allowed" in rows[0]
    assert "API: case · Read" in rows[1] and "Not found or not visible" in rows[1]
    assert "Record a consent · Change" in rows[2] and "Supervisor" in rows[2]
    assert "3 entries" in page


def test_the_history_shows_the_roles_held_at_the_time(client_for, supervisor, officer, case):
    from django.contrib.auth.models import Group

    client_for(officer).get(f"/cases/{case.reference}/")  # recorded by the middleware
    assert AccessLogEntry.objects.get(user=officer).roles == Role.FRONTLINE_OFFICER.value
    officer.groups.set([Group.objects.get(name=Role.SOCIAL_WORKER.value)])  # a new job

    page = client_for(supervisor).get(history_url(case)).content.decode()
    officer_row = next(
        row for row in page.split("<tbody")[1].split("<tr ")[1:] if "Case page" in row
    )
    assert "Frontline officer" in officer_row and "Social worker" not in officer_row
    assert "held at the time" in page


def test_the_history_lists_this_case_only(client_for, supervisor, officer, case):
    from screening import services

    other = services.case_create(created_by=officer, age=40)
    record(other, officer)
    page = client_for(supervisor).get(history_url(case)).content.decode()
    assert "Nobody has opened this case" in page


def test_the_case_page_links_the_history_for_supervisors_only(
    client_for, supervisor, officer, case
):
    url = history_url(case)
    assert url in client_for(supervisor).get(f"/cases/{case.reference}/").content.decode()
    assert url not in client_for(officer).get(f"/cases/{case.reference}/").content.decode()


def test_the_history_is_paginated_by_50(client_for, supervisor, officer, case):
    for minute in range(52):
        record(case, officer, minutes_ago=minute)
    client = client_for(supervisor)
    # Each visit to the history is in the history too: read the second page first.
    first = client.get(history_url(case)).content.decode()
    second = follow(client, history_url(case), page_link(first, "next"))
    assert first.split("<tbody")[1].count("<tr ") == 50
    assert "52 entries" in first  # counted (up to 1,000): cheap, one case's entries
    # Newest first: this visit is in the history now, so the older page still holds two.
    assert second.split("<tbody")[1].count("<tr ") == 2
    assert page_link(second, "next") is None and "Newer" in second


@pytest.mark.parametrize("count", [3, 6])
def test_the_history_runs_a_fixed_number_of_queries(
    client_for, supervisor, agency, case, count, django_assert_num_queries
):
    for _ in range(count):
        record(case, UserFactory(agency=agency, role=Role.SOCIAL_WORKER))
    client = client_for(supervisor)
    # session, user, the device of the second sign-in step, the case's access check, the
    # header's roles, count, page rows (with their users and roles), the session save
    # (savepoint, update, release) and the access log entry
    with django_assert_num_queries(11):
        response = client.get(history_url(case))
    assert response.content.decode().split("<tbody")[1].count("<tr ") == count
