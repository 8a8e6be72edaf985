"""The referral page: its facts and full history, and the supervisor's approve / decline /
retry forms going through the services (outbox row on approval, nothing saved on an error)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.events import REFERRAL_DISPATCH
from referrals.models import ReferralEvent, ReferralStatus
from referrals.services import referral_transition
from screening.models import Consent
from tests.outbox import outbox_rows
from tests.referrals.pages.conftest import login_redirect

pytestmark = pytest.mark.django_db


def url(referral, action: str = "") -> str:
    return f"/referrals/{referral.pk}/{action}"


def test_the_referral_page_needs_login(client, referral_factory):
    referral = referral_factory()
    assert login_redirect(client.get(url(referral)), url(referral))
    response = client.post(url(referral, "approve"))
    assert login_redirect(response, url(referral, "approve"))
    assert not outbox_rows(REFERRAL_DISPATCH).exists()


@pytest.mark.parametrize("who", ["outsider", "provider_staff"])
def test_someone_who_cannot_see_the_case_gets_404(client_for, referral_factory, who, request):
    referral = referral_factory()
    client = client_for(request.getfixturevalue(who))
    assert client.get(url(referral)).status_code == 404
    assert client.post(url(referral, "approve")).status_code == 404
    assert client.get("/referrals/999999/").status_code == 404
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL


def test_a_case_worker_sees_the_referral_but_may_not_decide(client_for, referral_factory, officer):
    referral = referral_factory()
    client = client_for(officer)
    page = client.get(url(referral)).content.decode()
    assert "Approve and send" not in page
    assert "Decline referral" not in page
    response = client.post(url(referral, "approve"))
    assert response.status_code == 403
    response = client.post(url(referral, "decline"), {"decline-reason_code": "duplicate"})
    assert response.status_code == 403
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL
    assert not outbox_rows(REFERRAL_DISPATCH).exists()


def test_the_page_shows_the_facts_field_names_and_the_full_history(
    client_for, referral_factory, supervisor, submitted
):
    referral = referral_factory(
        status="sent", fields_disclosed=["referral", "service_type", "age", "gender"]
    )
    referral_transition(
        referral=referral, to="declined", reason_code="no_capacity", note="Full this week"
    )
    response = client_for(supervisor).get(url(referral))
    page = response.content.decode()

    assert response.status_code == 200
    case = submitted.case
    assert f'href="/cases/{case.reference}/"' in page
    assert referral.provider.name in page
    assert "Shelter" in page and "Normal" in page
    # referral_factory records a consent naming the provider
    assert "Referral to a named provider" in page and referral.provider.name in page
    # Fields disclosed and the history in words, not the packet's field names or status codes.
    assert "Referral reference, Service, " in page and ", Age, Gender" in page
    assert "<code>" not in page and "service_type" not in page
    assert "Sent → Declined (No capacity)" in page and "Full this week" in page
    assert "no_capacity" not in page
    assert "<title>Referral" in page and case.reference in page.split("</title>")[0]
    # The page title carries no more than the case reference.
    assert "Fictional" not in page.split("</title>")[0]


def test_approving_through_the_page_writes_the_outbox_row(client_for, referral_factory, supervisor):
    referral = referral_factory()
    response = client_for(supervisor).post(url(referral, "approve"), {"approve-note": "ok"})
    assert response.status_code == 302
    assert response["Location"] == url(referral)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.APPROVED
    assert referral.approved_by == supervisor
    message = outbox_rows(subject=referral).get()
    assert message.topic == REFERRAL_DISPATCH
    assert referral.events.last().note == "ok"


def test_declining_without_a_reason_is_a_form_error_and_saves_nothing(
    client_for, referral_factory, supervisor
):
    referral = referral_factory()
    events_before = referral.events.count()
    response = client_for(supervisor).post(url(referral, "decline"), {"decline-note": "no"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page
    assert "Choose why you decline it." in page
    assert 'href="#id_decline-reason_code"' in page
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL
    assert referral.events.count() == events_before


def test_other_as_a_reason_needs_a_note(client_for, referral_factory, supervisor):
    referral = referral_factory()
    response = client_for(supervisor).post(
        url(referral, "decline"), {"decline-reason_code": "other", "decline-note": " "}
    )
    assert response.status_code == 400
    assert "Explain the reason." in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL


def test_declining_with_a_reason_records_it(client_for, referral_factory, supervisor):
    referral = referral_factory(status="blocked_needs_consent", consent=None)
    response = client_for(supervisor).post(
        url(referral, "decline"), {"decline-reason_code": "person_declined"}
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DECLINED
    assert referral.decline_reason == "person_declined"
    event = referral.events.get(to_status="declined")
    assert event.by == supervisor and event.reason_code == "person_declined"
    assert not outbox_rows(REFERRAL_DISPATCH).exists()


def test_approval_without_a_covering_consent_any_more_is_refused_with_the_reason(
    client_for, referral_factory, supervisor
):
    referral = referral_factory()
    Consent.objects.filter(pk=referral.consent_used_id).update(
        given_at=timezone.now() - timedelta(days=2),
        valid_until=timezone.now() - timedelta(days=1),
    )
    response = client_for(supervisor).post(url(referral, "approve"))
    assert response.status_code == 409
    assert "No active consent covers this referral" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL
    assert not outbox_rows(REFERRAL_DISPATCH).exists()


def test_a_failed_delivery_can_be_retried_from_the_page(client_for, referral_factory, supervisor):
    referral = referral_factory(
        status="failed", delivery_attempts=5, last_delivery_error="HTTP 500"
    )
    client = client_for(supervisor)
    page = client.get(url(referral)).content.decode()
    assert "Delivery failed" in page and "Retry delivery" in page
    assert "Approve and send" not in page
    response = client.post(url(referral, "retry"))
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.APPROVED
    assert outbox_rows(REFERRAL_DISPATCH, referral).count() == 1


def test_a_blocked_referral_says_which_consent_is_missing_and_links_to_the_case(
    client_for, referral_factory, supervisor, submitted
):
    referral = referral_factory(
        status="blocked_needs_consent",
        consent=None,
        missing_consent="written, time-limited consent to a referral for shelter",
    )
    page = client_for(supervisor).get(url(referral)).content.decode()
    assert "Blocked: the person's consent is missing" in page
    assert "written, time-limited consent to a referral for shelter" in page
    assert f'href="/cases/{submitted.case.reference}/">Record the consent' in page
    assert "Approve and send" not in page  # blocked: only declining is possible
    assert "Decline referral" in page


def test_a_decision_on_a_referral_no_longer_waiting_is_refused(
    client_for, referral_factory, supervisor
):
    referral = referral_factory(status="accepted")
    response = client_for(supervisor).post(
        url(referral, "decline"), {"decline-reason_code": "duplicate"}
    )
    assert response.status_code == 409
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    assert not ReferralEvent.objects.filter(referral=referral).exists()
