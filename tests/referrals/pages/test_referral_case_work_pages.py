"""Referrals to the end on the web (issue 14): the provider's referral page (the packet, the
history since delivery, whom to call back; never the case), closing with an outcome by
either side, escalating by hand, the case's referrals with a proposal by hand, and the
queue's filters in words."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import Referral, ReferralStatus
from screening import services
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import make_provider
from tests.referrals.pages.conftest import login_redirect

pytestmark = pytest.mark.django_db


def url(referral, action: str = "") -> str:
    return f"/referrals/{referral.pk}/{action}"


@pytest.fixture
def stranger_staff():
    from screening.roles import Role

    return UserFactory(agency=AgencyFactory(name="Elsewhere Outreach"), role=Role.PROVIDER_STAFF)


# --- the provider's referral page -------------------------------------------------------------


def test_the_provider_page_needs_login(client, delivered):
    referral = delivered()
    assert login_redirect(client.get(url(referral)), url(referral))


def test_provider_staff_see_the_packet_history_and_whom_to_call_back_but_not_the_case(
    client_for, delivered, provider_staff, officer, supervisor
):
    referral = delivered(status="accepted", sent_at=timezone.now() - timedelta(hours=2))
    Referral.objects.filter(pk=referral.pk).update(approved_by=supervisor)
    referral.events.create(kind="transition", from_status="sent", to_status="accepted", note="ok")
    html = client_for(provider_staff).get(url(referral)).content.decode()
    assert "What you received" in html
    assert officer.get_full_name() in html and supervisor.get_full_name() in html
    assert "Frontline officer" in html and "Owner Agency" in html
    assert referral.case.reference not in html
    assert 'href="/cases/C-' not in html
    assert "Sent → Accepted" in html
    assert 'id="close-referral"' in html


def test_provider_staff_of_another_agency_or_before_delivery_get_404(
    client_for, delivered, provider_staff, stranger_staff
):
    sent = delivered(sent_at=timezone.now())
    not_sent = delivered(status="pending_approval", service_type="medical")
    assert client_for(stranger_staff).get(url(sent)).status_code == 404
    assert client_for(provider_staff).get(url(not_sent)).status_code == 404


def test_the_provider_page_runs_a_fixed_number_of_queries(
    client_for, delivered, provider_staff, django_assert_num_queries
):
    referral = delivered(status="accepted", sent_at=timezone.now() - timedelta(hours=1))
    for _ in range(3):
        referral.events.create(kind="transition", from_status="sent", to_status="accepted")
    client = client_for(provider_staff)
    client.get(url(referral))
    # session, user, roles, the referral (access), the case row for the packet, its agency
    # and screening, events, callback workers (+ groups), creator, access log, session save
    with django_assert_num_queries(15):
        response = client.get(url(referral))
    assert response.status_code == 200


# --- closing with an outcome ---


def test_the_provider_closes_with_an_outcome(client_for, delivered, provider_staff):
    referral = delivered(status="services_started", sent_at=timezone.now())
    client = client_for(provider_staff)
    response = client.post(url(referral, "close"), {"close-outcome": "services_delivered"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.outcome, referral.closed_by) == (
        "closed",
        "services_delivered",
        "provider",
    )
    assert "Services delivered" in client.get(url(referral)).content.decode()


def test_the_referring_worker_closes_and_other_needs_a_note(client_for, referral_factory, officer):
    referral = referral_factory(status="accepted")
    client = client_for(officer)
    assert 'id="close-referral"' in client.get(url(referral)).content.decode()
    response = client.post(url(referral, "close"), {"close-outcome": "other"})
    assert response.status_code == 400
    assert "Explain the outcome." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "accepted"
    response = client.post(url(referral, "close"), {"close-outcome": "moved_away"})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.closed_by) == ("closed", "referring_agency")


def test_closing_needs_login_the_agency_and_a_referral_taken_on(
    client, client_for, referral_factory, outsider, stranger_staff, officer
):
    referral = referral_factory(status="accepted")
    assert login_redirect(client.post(url(referral, "close")), url(referral, "close"))
    for who in (outsider, stranger_staff):
        response = client_for(who).post(url(referral, "close"), {"close-outcome": "moved_away"})
        assert response.status_code == 404
    waiting = referral_factory(status="sent", service_type="medical")
    response = client_for(officer).post(url(waiting, "close"), {"close-outcome": "moved_away"})
    assert response.status_code == 409
    referral.refresh_from_db()
    assert referral.status == "accepted"


# --- escalating by hand ---


def test_a_worker_escalates_by_hand_and_the_queue_says_why(
    client_for, referral_factory, officer, supervisor
):
    referral = referral_factory(status="accepted")
    client = client_for(officer)
    response = client.post(url(referral, "escalate"), {"escalate-note": ""})
    assert response.status_code == 400
    response = client.post(url(referral, "escalate"), {"escalate-note": "No reply for a week"})
    assert response.status_code == 302
    queue = client_for(supervisor).get("/referrals/queue/?escalation=manual").content.decode()
    assert f'href="/referrals/{referral.pk}/"' in queue
    assert "Escalated: escalated by hand" in queue


def test_escalating_needs_login_and_the_case(
    client, client_for, referral_factory, outsider, delivered, provider_staff
):
    referral = referral_factory(status="accepted")
    assert login_redirect(client.post(url(referral, "escalate")), url(referral, "escalate"))
    response = client_for(outsider).post(url(referral, "escalate"), {"escalate-note": "x"})
    assert response.status_code == 404
    # Provider staff answer and close; escalating is the referring agency's.
    theirs = delivered(status="accepted", sent_at=timezone.now(), service_type="medical")
    response = client_for(provider_staff).post(url(theirs, "escalate"), {"escalate-note": "x"})
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.escalated_at is None


# --- the queue filters in words ---


def test_the_queue_filters_say_what_they_mean(client_for, referral_factory, supervisor):
    escalated = referral_factory(
        status="acknowledged", escalated_at=timezone.now(), escalation_reason="answer_overdue"
    )
    waiting = referral_factory(service_type="medical")
    client = client_for(supervisor)
    html = client.get("/referrals/queue/").content.decode()
    assert "Escalated: acknowledged, no answer from the provider" in html
    assert ">Sent<" not in html

    def rows(query):
        page = client.get(f"/referrals/queue/?{query}").content.decode()
        return {int(pk) for pk in re.findall(r'href="/referrals/(\d+)/"', page)}

    assert rows("escalation=any") == {escalated.pk}
    assert rows("escalation=none") == {waiting.pk}
    assert rows("status=acknowledged") == {escalated.pk}
    assert rows("escalation=answer_overdue") == {escalated.pk}


# --- a case's referrals and proposing by hand --------------------------------------------------


def case_url(case, action=""):
    return f"/referrals/cases/{case.reference}/{action}"


def test_the_case_referrals_page_needs_login_and_the_case(
    client, client_for, case, outsider, provider_staff
):
    assert login_redirect(client.get(case_url(case)), case_url(case))
    assert client_for(outsider).get(case_url(case)).status_code == 404
    assert client_for(provider_staff).get(case_url(case)).status_code == 404
    response = client_for(outsider).post(
        case_url(case, "propose"), {"propose-service_type": "medical"}
    )
    assert response.status_code == 404


def test_the_case_lists_every_referral_with_its_status_in_fixed_queries(
    client_for, referral_factory, officer, case, django_assert_num_queries
):
    client = client_for(officer)
    made = [
        referral_factory(status=status, service_type=service)
        for status, service in [("accepted", "shelter"), ("sent", "medical")]
    ]
    client.get(case_url(case))
    with django_assert_num_queries(10):
        first = client.get(case_url(case))
    referral_factory(status="closed", service_type="legal_aid", outcome="moved_away")
    with django_assert_num_queries(10):
        html = client.get(case_url(case)).content.decode()
    assert first.status_code == 200
    for referral in made:
        assert f'href="/referrals/{referral.pk}/"' in html
    assert "Accepted" in html and "Sent" in html and "The person moved away" in html


def test_an_officer_proposes_a_referral_that_waits_for_a_supervisor(
    client_for, officer, case, submitted, supervisor
):
    make_provider(slug="legal-help", name="Legal Help", service_types=["legal_aid"])
    client = client_for(officer)
    page = client.get(case_url(case)).content.decode()
    assert "Legal Help (Legal aid)" in page
    response = client.post(
        case_url(case, "propose"),
        {"propose-service_type": "medical", "propose-provider": "legal-help"},
    )
    assert response.status_code == 409
    assert "does not take referrals for this service" in response.content.decode()
    assert not Referral.objects.exists()
    response = client.post(
        case_url(case, "propose"),
        {
            "propose-service_type": "legal_aid",
            "propose-provider": "legal-help",
            "propose-priority": "2",
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.status == ReferralStatus.BLOCKED_NEEDS_CONSENT
    queue = client_for(supervisor).get("/referrals/queue/").content.decode()
    assert f'href="/referrals/{referral.pk}/"' in queue


def test_a_closed_case_offers_no_proposal(client_for, officer, supervisor, case, submitted):
    services.case_close(case=case, by=supervisor, reason_code="services_in_place")
    page = client_for(officer).get(case_url(case)).content.decode()
    assert 'id="propose-referral"' not in page
