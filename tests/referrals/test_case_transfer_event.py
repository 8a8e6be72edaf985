"""A case transferred to another agency takes its referrals with it: screening publishes
`case.transferred` (it imports nothing from referrals) and referrals moves each referral's
`case_agency`, so the referrals leave the old agency's supervisor queue and join the new one's.
All people and agencies are fictional."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.models import OutboxMessage
from referrals.models import Referral
from referrals.selectors import referral_queue
from referrals.services import referrals_case_agency_move
from screening import services
from screening.events import CASE_TRANSFERRED
from screening.models import Consent
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory
from tests.outbox import outbox_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiving():
    return AgencyFactory(name="Receiving Agency")


@pytest.fixture
def receiving_supervisor(receiving):
    return UserFactory(agency=receiving, role=Role.SUPERVISOR)


def transfer_case(case, officer, supervisor, receiving, receiving_supervisor):
    services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.REFERRAL_PROVIDER,
        method=Consent.Method.WRITTEN,
        provider_name=receiving.name,
        valid_until=timezone.now() + timedelta(days=30),
    )
    OutboxMessage.objects.all().delete()
    transfer = services.case_transfer_request(
        case=case, to_agency=receiving, reason="The person moved", by=supervisor
    )
    services.case_transfer_accept(transfer=transfer, by=receiving_supervisor)


def test_referrals_follow_their_case_to_the_new_agency_and_its_queue(
    referral_factory,
    officer,
    supervisor,
    receiving,
    receiving_supervisor,
    django_capture_on_commit_callbacks,
):
    referral = referral_factory()
    case = referral.case
    assert list(referral_queue(user=supervisor)) == [referral]

    with django_capture_on_commit_callbacks(execute=True):
        transfer_case(case, officer, supervisor, receiving, receiving_supervisor)

    referral.refresh_from_db()
    assert referral.case_agency_id == receiving.pk
    assert list(referral_queue(user=supervisor)) == []
    assert list(referral_queue(user=receiving_supervisor)) == [referral]
    (row,) = outbox_rows(CASE_TRANSFERRED, case)
    assert row.handler == "referrals.move_case_agency"
    assert row.completed_at is not None


def test_moving_again_changes_nothing(referral_factory, officer):
    referral = referral_factory()
    assert referrals_case_agency_move(case_id=referral.case_id) == 0
    assert Referral.objects.get(pk=referral.pk).case_agency_id == referral.case.agency_id
