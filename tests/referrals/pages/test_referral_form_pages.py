"""The referral forms like every form page (issue 16): a failed decline or provider answer
names its question in the one error summary, and the action address answers a reload (GET)
with the page its form is on, never an empty 405."""

import pytest

from referrals.models import ReferralStatus
from tests.html import parse_page

pytestmark = pytest.mark.django_db


def test_a_failed_supervisor_decline_names_the_reason_and_its_address_reloads_the_referral(
    client_for, referral_factory, supervisor
):
    referral = referral_factory(status="pending_approval")
    client = client_for(supervisor)
    action = f"/referrals/{referral.pk}/decline"
    failed = client.post(action, {"decline-note": "no reason chosen"})
    assert failed.status_code == 400
    page = parse_page(failed.content)
    assert page.summaries == 1
    assert page.summary_links == [("#id_decline-reason_code", "Reason: Choose why you decline it.")]
    assert page.duplicate_ids == []
    reloaded = client.get(action)
    assert reloaded.status_code == 302 and reloaded["Location"] == f"/referrals/{referral.pk}/"
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL


@pytest.mark.parametrize("decision", ["approve", "decline", "retry"])
def test_every_decision_address_answers_a_get_with_the_referral(
    client_for, referral_factory, supervisor, decision
):
    referral = referral_factory(status="pending_approval")
    response = client_for(supervisor).get(f"/referrals/{referral.pk}/{decision}")
    assert response.status_code == 302 and response["Location"] == f"/referrals/{referral.pk}/"
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.PENDING_APPROVAL


def test_a_failed_provider_decline_names_the_reason_and_its_address_reloads_the_inbox(
    client_for, delivered, provider_staff
):
    referral = delivered()
    client = client_for(provider_staff)
    action = f"/referrals/inbox/{referral.pk}/answer"
    failed = client.post(action, {f"r{referral.pk}-answer": "decline"})
    assert failed.status_code == 400
    texts = [text for _, text in parse_page(failed.content).summary_links]
    assert texts == ["Reason for declining: Choose why you decline it."]
    reloaded = client.get(action)
    assert reloaded.status_code == 302 and reloaded["Location"] == "/referrals/inbox/"
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
