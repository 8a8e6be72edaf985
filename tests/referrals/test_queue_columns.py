"""The columns the supervisor queue and the provider inbox filter on are stored on the referral
(issue 12): the database computes the queue state, routing stores both agencies, and the
directory loader keeps the provider's agency in step."""

import pytest
from django.utils import timezone

from referrals.directory import ProviderEntry
from referrals.models import Referral, ReferralStatus, referral_queue_rank
from referrals.services.seeds import service_provider_ensure
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("escalated", [False, True])
@pytest.mark.parametrize("status", ReferralStatus.values)
def test_the_stored_queue_rank_is_what_the_python_rule_says(referral_factory, status, escalated):
    referral = referral_factory()
    escalated_at = timezone.now() if escalated else None
    # A direct UPDATE, as a bulk loader or a forgotten code path would write: the database
    # still computes the rank from status and escalation.
    Referral.objects.filter(pk=referral.pk).update(
        status=status,
        escalated_at=escalated_at,
        decline_reason="other",
        outcome="other",
    )
    stored = Referral.objects.values_list("queue_rank", flat=True).get(pk=referral.pk)
    assert stored == referral_queue_rank(status, escalated_at)


def test_queue_ranks_put_failed_first_and_leave_finished_referrals_out():
    assert referral_queue_rank(ReferralStatus.FAILED, None) == 0
    assert referral_queue_rank(ReferralStatus.PENDING_APPROVAL, None) == 1
    assert referral_queue_rank(ReferralStatus.SENT, None) is None
    assert referral_queue_rank(ReferralStatus.SENT, timezone.now()) == 1
    assert referral_queue_rank(ReferralStatus.CLOSED, timezone.now()) is None
    # Every delivered state escalates into the queue (issue 14), not only sent.
    for status in ("acknowledged", "accepted", "services_started"):
        assert referral_queue_rank(status, None) is None
        assert referral_queue_rank(status, timezone.now()) == 1


def test_routing_stores_the_case_agency_and_the_provider_agency(referral_factory):
    referral = referral_factory()
    assert referral.case_agency_id == referral.case.agency_id
    assert referral.provider_agency_id == referral.provider.agency_id


def test_reloading_a_provider_with_another_agency_moves_its_referrals_inbox(referral_factory):
    referral = referral_factory()
    provider = referral.provider
    new_agency = AgencyFactory(name="Lantern Row Outreach")
    entry = ProviderEntry.model_validate(
        {
            "slug": provider.slug,
            "name": provider.name,
            "agency": new_agency.name,
            "service_types": provider.service_types,
            "regions": provider.regions or ["national"],
            "channel": {"kind": "inbox"},
        }
    )
    service_provider_ensure(entry=entry)
    referral.refresh_from_db()
    assert referral.provider_agency_id == new_agency.pk
