"""Recording a referral consent is a `consent.recorded` event that referrals routes on when
the case has blocked referrals, so the referral the consent covers moves on to pending
approval."""

import pytest
from django.db import transaction

from referrals.models import ReferralStatus
from referrals.services import referral_route_for_consent, referral_route_screening
from screening import services
from screening.events import CONSENT_RECORDED
from screening.models import Consent
from tests.outbox import outbox_rows
from tests.referrals.conftest import NEGATIVE, POSITIVE, make_provider, record_referral_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked(case, routing_rules, submit):
    make_provider(slug="shelter-one", service_types=["shelter"])
    screening = submit(case, POSITIVE)
    referral_route_screening(screening_id=screening.pk)
    referral = screening.referrals.get(service_type="shelter")
    assert referral.status == ReferralStatus.BLOCKED_NEEDS_CONSENT
    return referral


def test_a_new_referral_consent_unblocks_the_blocked_referral(
    blocked, case, officer, django_capture_on_commit_callbacks
):
    # Right after the commit the event is published (eager Celery: its handler runs here).
    with django_capture_on_commit_callbacks(execute=True):
        consent = record_referral_consent(case, officer, service_type="shelter")

    assert outbox_rows(CONSENT_RECORDED, consent, completed_at__isnull=False).exists()
    blocked.refresh_from_db()
    assert blocked.status == ReferralStatus.PENDING_APPROVAL
    assert blocked.consent_used == consent
    assert blocked.missing_consent == ""
    assert blocked.events.last().from_status == ReferralStatus.BLOCKED_NEEDS_CONSENT


def test_routing_runs_again_for_the_latest_submitted_screening(blocked, case, officer, submit):
    later = submit(case, NEGATIVE)
    consent = record_referral_consent(case, officer, service_type="shelter")
    report = referral_route_for_consent(consent_id=consent.pk)
    assert report.screening_id == later.pk


def test_the_event_is_part_of_the_consent_transaction(blocked, case, officer):
    events = outbox_rows(CONSENT_RECORDED).count()
    with pytest.raises(RuntimeError), transaction.atomic():
        record_referral_consent(case, officer, service_type="shelter")
        raise RuntimeError("the request failed after the service")
    assert outbox_rows(CONSENT_RECORDED).count() == events
    assert not case.consents.filter(scope=Consent.Scope.REFERRAL_SERVICE_TYPE).exists()


def test_no_routing_without_blocked_referrals(case, officer, submitted):
    consent = record_referral_consent(case, officer, service_type="shelter")
    assert outbox_rows(CONSENT_RECORDED, consent).exists()
    assert referral_route_for_consent(consent_id=consent.pk) is None


def test_a_screening_consent_routes_nothing(blocked, case, officer):
    consent = services.consent_record(
        case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
    )
    assert referral_route_for_consent(consent_id=consent.pk) is None
    blocked.refresh_from_db()
    assert blocked.status == ReferralStatus.BLOCKED_NEEDS_CONSENT
