"""The "who can see this case" page: every person who can open the case and why, for the
case's own workers and supervisors of its agency; the referral packets sent for it. All
people and providers are fictional."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from config.models import AccessLogEntry
from screening import services
from screening.models import BreakGlassGrant
from screening.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def access_url(case) -> str:
    return reverse("screening:case-who-can-see", kwargs={"reference": case.reference})


def rows_of(response) -> list[str]:
    return response.content.decode().split("<tbody")[1].split("</tbody>")[0].split("<tr")[1:]


def test_the_page_needs_login(client, case):
    response = client.get(access_url(case))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_another_agency_gets_404(client_for, outsider, case):
    assert client_for(outsider).get(access_url(case)).status_code == 404


def test_a_colleague_who_is_not_on_the_case_gets_404(client_for, colleague, case):
    assert client_for(colleague).get(access_url(case)).status_code == 404


def test_an_agency_administrator_gets_404(client_for, agency, case):
    admin = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    assert client_for(admin).get(access_url(case)).status_code == 404


def test_a_shared_to_agency_sees_the_case_but_not_who_else_does(
    client_for, supervisor, outsider, case, other_agency
):
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    client = client_for(outsider)
    assert client.get(f"/cases/{case.reference}/").status_code == 200
    assert client.get(access_url(case)).status_code == 403


def test_the_creator_sees_everyone_and_why(
    client_for, officer, supervisor, colleague, case, other_agency
):
    services.case_assign(case=case, worker=colleague, by=supervisor)
    partner = UserFactory(agency=other_agency, role=Role.SOCIAL_WORKER)
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    helper = UserFactory(agency=other_agency, role=Role.HOTLINE_STAFF)
    # Another account of the shared-to agency without a case-work role sees nothing.
    UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN)
    ends = timezone.now() + timedelta(hours=3)
    BreakGlassGrant.objects.create(
        case=case,
        user=helper,
        reason="Fictional emergency",
        granted_at=ends - timedelta(hours=4),
        expires_at=ends,
    )

    response = client_for(officer).get(access_url(case))

    assert response.status_code == 200
    rows = {row.split("</td>")[0].split(">")[-1]: row for row in rows_of(response)}
    assert set(rows) == {
        person.get_full_name() for person in (officer, supervisor, colleague, partner, helper)
    }
    assert "Opened the case" in rows[officer.get_full_name()]
    assert "Assigned to the case" in rows[colleague.get_full_name()]
    assert "Supervisor of the case" in rows[supervisor.get_full_name()]
    assert f"shared with their agency ({other_agency.name})" in rows[partner.get_full_name()]
    assert "Emergency access" in rows[helper.get_full_name()]
    assert f"{ends:%H:%M}" in rows[helper.get_full_name()]
    assert "5 people" in response.content.decode()
    entry = AccessLogEntry.objects.get(route="screening:case-who-can-see")
    assert (entry.case_id, entry.outcome) == (case.pk, AccessLogEntry.Outcome.ALLOWED)


def test_the_page_lists_referral_packets_and_who_reads_them(
    client_for, supervisor, case, submitted, agency
):
    from referrals.models import Referral, ServiceProvider
    from tests.factories import AgencyFactory

    shelter_agency = AgencyFactory(name="Fictional Harbour Shelter")
    shelter_worker = UserFactory(agency=shelter_agency, role=Role.PROVIDER_STAFF)
    shelter = ServiceProvider.objects.create(
        slug="harbour",
        name="Harbour Shelter",
        service_types=["shelter"],
        channel=ServiceProvider.Channel.INBOX,
        agency=shelter_agency,
    )
    Referral.objects.create(
        case=case,
        case_agency_id=case.agency_id,
        screening=submitted,
        provider=shelter,
        service_type="shelter",
        status="sent",
        mandatory=True,
        due_at=timezone.now() + timedelta(days=1),
        sent_at=timezone.now(),
    )

    page = client_for(supervisor).get(access_url(case)).content.decode()

    packets = page.split('id="packets-title"')[1]
    assert "Harbour Shelter" in packets
    assert f"In the inbox of: {shelter_worker.get_full_name()}" in packets
    # The provider's staff see the packet, not the case: they are not among the people.
    assert shelter_worker.get_full_name() not in page.split('id="packets-title"')[0]


def test_the_case_page_links_the_list_for_its_workers_and_supervisors(
    client_for, officer, supervisor, outsider, case, other_agency
):
    services.case_share(case=case, agency=other_agency, reason="Joint work", by=supervisor)
    url = access_url(case)
    assert url in client_for(officer).get(f"/cases/{case.reference}/").content.decode()
    assert url in client_for(supervisor).get(f"/cases/{case.reference}/").content.decode()
    assert url not in client_for(outsider).get(f"/cases/{case.reference}/").content.decode()


@pytest.mark.parametrize("count", [3, 6])
def test_the_page_runs_a_fixed_number_of_queries(
    client_for, supervisor, agency, case, count, django_assert_num_queries
):
    for _ in range(count):
        services.case_assign(
            case=case, worker=UserFactory(agency=agency, role=Role.SOCIAL_WORKER), by=supervisor
        )
    client = client_for(supervisor)
    client.get(access_url(case))  # the session is warm, as for every later page
    # session, user, the second sign-in step's device, the case's access check, count, page
    # of people, their roles, assignments, shares, break-glass grants, packets, the header's
    # roles, the access log entry and the session save (savepoint, update, release)
    with django_assert_num_queries(16):
        response = client.get(access_url(case))
    assert len(rows_of(response)) == count + 2
