"""The change history page of a case: what changed, who changed it and when, for supervisors
of the case's agency. All people and details are fictional."""

import pytest
from django.urls import reverse

from config.models import AccessLogEntry
from screening import services
from screening.models import Consent
from screening.roles import Role
from tests.factories import UserFactory
from tests.pages import follow, page_link

pytestmark = pytest.mark.django_db

CLOSE_REASON = "Moved in with Aunt Perpetua Gowlsby"
WITHDRAWAL_NOTE = "Perpetua Gowlsby called to withdraw"


def changes_url(case) -> str:
    return reverse("screening:case-changes", kwargs={"reference": case.reference})


def table_rows(page: str) -> list[str]:
    return page.split("<tbody")[1].split("</tbody>")[0].split("<tr")[1:]


def test_the_changes_need_login(client, case):
    url = changes_url(case)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={url}")


def test_another_agency_gets_404(client_for, outsider, case):
    assert client_for(outsider).get(changes_url(case)).status_code == 404


def test_a_frontline_officer_may_see_the_case_but_not_its_changes(client_for, officer, case):
    assert client_for(officer).get(f"/cases/{case.reference}/").status_code == 200
    assert client_for(officer).get(changes_url(case)).status_code == 403

    refused = AccessLogEntry.objects.get(route="screening:case-changes")
    assert refused.outcome == AccessLogEntry.Outcome.DENIED
    assert refused.case_id == case.pk and refused.user == officer


def test_an_agency_administrator_gets_404(client_for, agency, case):
    admin = UserFactory(agency=agency, role=Role.AGENCY_ADMIN)
    assert client_for(admin).get(changes_url(case)).status_code == 404


def test_a_supervisor_sees_what_changed_newest_first_without_protected_text(
    client_for, supervisor, officer, case
):
    consent = services.consent_record(
        case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
    )
    services.consent_withdraw(consent=consent, by=officer, note=WITHDRAWAL_NOTE)
    services.case_close(case=case, by=supervisor, reason=CLOSE_REASON)

    response = client_for(supervisor).get(changes_url(case))

    assert response.status_code == 200
    page = response.content.decode()
    rows = table_rows(page)
    assert len(rows) == 4
    assert "Case · Changed" in rows[0] and supervisor.get_full_name() in rows[0]
    assert "Status: Open → Closed" in rows[0]
    assert "Close reason: <em>changed</em>" in rows[0]
    assert f"Consent {consent.pk} · Changed" in rows[1] and officer.get_full_name() in rows[1]
    assert "Withdrawal note: <em>changed</em>" in rows[1]
    assert f"Consent {consent.pk} · Created" in rows[2] and "created" in rows[2]
    assert "Case · Created" in rows[3]
    assert "4 changes." in page
    assert CLOSE_REASON not in page and WITHDRAWAL_NOTE not in page


def test_the_page_lists_referral_changes_too(client_for, supervisor, officer, case, draft):
    from referrals.models import Referral, ReferralStatus
    from referrals.services.transitions import referral_transition
    from tests.referrals.conftest import make_provider

    referral = Referral.objects.create(
        case=case,
        case_agency_id=case.agency_id,
        screening=services.screening_submit(screening=draft, by=officer),
        provider=make_provider(service_types=["shelter"]),
        service_type="shelter",
        mandatory=True,
        status=ReferralStatus.PENDING_APPROVAL,
        due_at=case.created_at,
    )
    referral_transition(
        referral=referral, to=ReferralStatus.DECLINED, by=supervisor, reason_code="duplicate"
    )

    rows = table_rows(client_for(supervisor).get(changes_url(case)).content.decode())
    declined = next(row for row in rows if f"Referral {referral.pk} · Changed" in row)
    assert "Status: Waiting for approval → Declined" in declined
    assert "Decline reason: — → Duplicate of another referral" in declined
    assert supervisor.get_full_name() in declined
    created = next(row for row in rows if f"Referral {referral.pk} · Created" in row)
    assert "System" in created  # routing (here: the test) wrote it, nobody signed in


def test_the_case_page_links_the_changes_for_supervisors_only(
    client_for, supervisor, officer, case
):
    url = changes_url(case)
    assert url in client_for(supervisor).get(f"/cases/{case.reference}/").content.decode()
    assert url not in client_for(officer).get(f"/cases/{case.reference}/").content.decode()


def test_the_changes_are_paginated_by_50(client_for, supervisor, officer, case):
    for _ in range(51):
        services.consent_record(
            case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
        )
    client = client_for(supervisor)
    first = client.get(changes_url(case)).content.decode()
    second = follow(client, changes_url(case), page_link(first, "next"))
    assert len(table_rows(first)) == 50
    assert len(table_rows(second)) == 2 and "Case · Created" in second
    assert page_link(second, "next") is None and "Newer" in second
    back = follow(client, changes_url(case), page_link(second, "prev"))
    assert table_rows(back) == table_rows(first)


@pytest.mark.parametrize("count", [3, 6])
def test_the_changes_run_a_fixed_number_of_queries(
    client_for, supervisor, officer, case, count, django_assert_num_queries
):
    for _ in range(count):
        consent = services.consent_record(
            case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
        )
        services.consent_withdraw(consent=consent, by=officer)
    client = client_for(supervisor)
    # session, user, the device of the second sign-in step, the case's access check, the
    # header's roles, one query per model (case, consents, screenings, overrides, contacts,
    # referrals), the staff named in changed fields, the session save (savepoint, update,
    # release) and the access log entry
    with django_assert_num_queries(16):
        response = client.get(changes_url(case))
    assert len(table_rows(response.content.decode())) == 2 * count + 1
