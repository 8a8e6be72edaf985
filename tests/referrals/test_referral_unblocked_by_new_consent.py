"""Recording a referral consent re-requests routing when the case has blocked referrals, so
the referral the consent covers moves on to pending approval."""

import pytest
from django.db import transaction

from referrals.models import OutboxMessage, ReferralStatus
from referrals.services import referral_route_screening
from screening import services
from screening.models import Consent
from tests.referrals.conftest import NEGATIVE, POSITIVE, make_provider, record_referral_consent

pytestmark = pytest.mark.django_db


def _routing_requests(screening=None):
    messages = OutboxMessage.objects.filter(
        topic=OutboxMessage.Topic.ROUTE_SCREENING, completed_at__isnull=True
    )
    return messages.filter(screening=screening) if screening else messages


@pytest.fixture
def blocked(case, routing_rules, submit):
    make_provider(slug="shelter-one", service_types=["shelter"])
    screening = submit(case, POSITIVE)
    referral_route_screening(screening_id=screening.pk)
    referral = screening.referrals.get(service_type="shelter")
    assert referral.status == ReferralStatus.BLOCKED_NEEDS_CONSENT
    assert not _routing_requests().exists()
    return referral


def test_a_new_referral_consent_unblocks_the_blocked_referral(blocked, case, officer):
    consent = record_referral_consent(case, officer, service_type="shelter")

    request = _routing_requests().get()
    assert request.screening_id == blocked.screening_id
    referral_route_screening(screening_id=request.screening_id)

    blocked.refresh_from_db()
    assert blocked.status == ReferralStatus.PENDING_APPROVAL
    assert blocked.consent_used == consent
    assert blocked.missing_consent == ""
    assert blocked.events.last().from_status == ReferralStatus.BLOCKED_NEEDS_CONSENT


def test_routing_is_requested_for_the_latest_submitted_screening(blocked, case, officer, submit):
    later = submit(case, NEGATIVE)
    _routing_requests().delete()  # submitting asks for routing itself
    record_referral_consent(case, officer, service_type="shelter")
    assert list(_routing_requests().values_list("screening_id", flat=True)) == [later.pk]


def test_the_request_is_part_of_the_consent_transaction(blocked, case, officer):
    with pytest.raises(RuntimeError), transaction.atomic():
        record_referral_consent(case, officer, service_type="shelter")
        raise RuntimeError("the request failed after the service")
    assert not _routing_requests().exists()
    assert not case.consents.filter(scope=Consent.Scope.REFERRAL_SERVICE_TYPE).exists()


def test_no_routing_request_without_blocked_referrals(case, officer, submitted):
    record_referral_consent(case, officer, service_type="shelter")
    assert not _routing_requests().exists()


def test_a_screening_consent_asks_for_no_routing(blocked, case, officer):
    services.consent_record(
        case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
    )
    assert not _routing_requests().exists()
