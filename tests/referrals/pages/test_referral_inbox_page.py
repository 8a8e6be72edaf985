"""The provider inbox: provider staff of the provider's agency only, the disclosed packet
fields and nothing more, and their answers recorded as events."""

import re

import pytest

from referrals.labels import referral_reference
from referrals.models import Referral, ReferralStatus
from referrals.selectors import INBOX_ORDER, referral_inbox, referral_packet_get
from referrals.services.delivery import (
    CONSENTED_FIELDS,
    IDENTIFYING_FIELDS,
    MANDATORY_FIELDS,
    PLACE_FIELDS,
    delivered_packet,
)
from screening.models import Screening
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import make_provider
from tests.referrals.pages.conftest import login_redirect

pytestmark = pytest.mark.django_db

URL = "/referrals/inbox/"
EVERY_PACKET_FIELD = list(
    dict.fromkeys((*MANDATORY_FIELDS, *CONSENTED_FIELDS, *IDENTIFYING_FIELDS, *PLACE_FIELDS))
)


def answer_url(referral) -> str:
    return f"/referrals/inbox/{referral.pk}/answer"


def _cards(html: str) -> list[str]:
    return re.findall(r'id="referral-(\d+)"', html)


def test_the_inbox_needs_login(client, delivered):
    referral = delivered()
    assert login_redirect(client.get(URL), URL)
    response = client.post(answer_url(referral), {f"r{referral.pk}-answer": "accept"})
    assert login_redirect(response, answer_url(referral))


@pytest.mark.parametrize("role", ["supervisor", "officer"])
def test_the_inbox_is_for_provider_staff_only(client_for, delivered, role, request):
    referral = delivered()
    client = client_for(request.getfixturevalue(role))
    assert client.get(URL).status_code == 403
    # Answering as the provider is not something agency staff can see at all.
    response = client.post(answer_url(referral), {f"r{referral.pk}-answer": "accept"})
    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_staff_of_another_provider_neither_see_nor_answer_it(client_for, delivered):
    referral = delivered()
    other_agency = AgencyFactory(name="Another Provider Org")
    make_provider(slug="other-inbox", channel="inbox", agency=other_agency)
    stranger = UserFactory(agency=other_agency, role=Role.PROVIDER_STAFF)
    client = client_for(stranger)
    assert _cards(client.get(URL).content.decode()) == []
    response = client.post(answer_url(referral), {f"r{referral.pk}-answer": "accept"})
    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_the_inbox_shows_delivered_referrals_with_the_disclosed_fields_only(
    client_for, delivered, referral_factory, provider_staff, submitted
):
    case = submitted.case
    case.identifying_name = "Maria Fictional"
    case.narrative = "A fictional narrative that must stay with the agency"
    case.region = "Northshire"
    case.save()
    shown = delivered(fields_disclosed=["referral", "service_type", "region"])
    waiting = delivered(status="pending_approval", service_type="medical")
    elsewhere = referral_factory(status="sent", service_type="legal_aid")  # another provider

    response = client_for(provider_staff).get(URL)
    page = response.content.decode()

    assert response.status_code == 200
    assert _cards(page) == [str(shown.pk)]
    assert str(waiting.pk) not in _cards(page) and str(elsewhere.pk) not in _cards(page)
    # The reference at a size people read and quote, not the 32-character key.
    assert "Northshire" in page and referral_reference(shown.idempotency_key) in page
    assert shown.idempotency_key not in page
    # Not disclosed: not on the page.
    assert "Maria Fictional" not in page
    assert "fictional narrative" not in page
    assert case.reference not in page
    assert "Spanish" not in page and ">es<" not in page  # languages were not disclosed
    assert "Acknowledge receipt" in page and "Accept" in page and "Decline this referral" in page


def test_accepting_records_an_event(client_for, delivered, provider_staff):
    referral = delivered()
    response = client_for(provider_staff).post(
        answer_url(referral), {f"r{referral.pk}-answer": "accept", f"r{referral.pk}-note": "ok"}
    )
    assert response.status_code == 302 and response["Location"] == URL
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED
    event = referral.events.get(to_status="accepted")
    assert event.by == provider_staff
    assert event.by_provider == referral.provider
    assert event.from_status == "sent"


def test_services_started_is_offered_once_accepted(client_for, delivered, provider_staff):
    referral = delivered(status="accepted")
    client = client_for(provider_staff)
    page = client.get(URL).content.decode()
    assert "Services started" in page and "Acknowledge receipt" not in page
    client.post(answer_url(referral), {f"r{referral.pk}-answer": "services_started"})
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SERVICES_STARTED


def test_declining_needs_a_reason(client_for, delivered, provider_staff):
    referral = delivered()
    client = client_for(provider_staff)
    response = client.post(answer_url(referral), {f"r{referral.pk}-answer": "decline"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose why you decline it." in page
    assert f'href="#id_r{referral.pk}-reason_code"' in page
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT
    assert not referral.events.filter(to_status="declined").exists()

    response = client.post(
        answer_url(referral),
        {f"r{referral.pk}-answer": "decline", f"r{referral.pk}-reason_code": "no_capacity"},
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.DECLINED
    assert referral.declined_by == "provider"
    assert referral.events.get(to_status="declined").reason_code == "no_capacity"


def test_an_answer_out_of_order_is_refused_with_a_message(client_for, delivered, provider_staff):
    referral = delivered(status="accepted")
    client = client_for(provider_staff)
    response = client.post(
        answer_url(referral), {f"r{referral.pk}-answer": "acknowledge"}, follow=True
    )
    assert "cannot go from accepted to acknowledged" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED


@pytest.mark.parametrize("count", [2, 4])
def test_the_inbox_runs_a_fixed_number_of_queries(
    client_for, delivered, provider_staff, count, django_assert_num_queries
):
    for index, service_type in enumerate(["shelter", "medical", "legal_aid", "case_management"]):
        if index < count:
            delivered(service_type=service_type)
    client = client_for(provider_staff)
    # session, user, roles (read once for the header and the inbox's provider-staff check),
    # page rows (with what the packets need; no COUNT), the access log entry, and the session
    # save (savepoint, update, release)
    with django_assert_num_queries(8):
        response = client.get(URL)
    assert len(_cards(response.content.decode())) == count


@pytest.mark.parametrize(
    "result",
    [
        "as scored",
        {
            "flags": ["minor", "immediate_danger", "debt_bondage"],
            "observations": {"observed": [{"prompt": "Barred windows"}, {"prompt": "A guard"}]},
            "explanation": {"text": "x" * 2000},
        },
        {"flags": None, "observations": {}},
        {"observations": {"observed": []}},
        {},
    ],
)
def test_the_inbox_shows_the_packets_the_whole_rows_give(
    delivered, provider_staff, submitted, result
):
    """The inbox reads two keys of the screening's result instead of all of it: the packets
    are still those of the referrals read whole."""
    if result != "as scored":
        Screening.objects.filter(pk=submitted.pk).update(result=result)
    case = submitted.case
    case.identifying_name = "Maria Fictional"
    case.identifying_phone = "+15550000002"
    case.narrative = "A fictional narrative"
    case.safe_to_contact = "yes"
    case.save()
    delivered(fields_disclosed=EVERY_PACKET_FIELD)
    delivered(service_type="medical", mandatory=True, fields_disclosed=EVERY_PACKET_FIELD)

    listed = list(referral_inbox(user=provider_staff))
    assert len(listed) == 2
    assert all("result" in row.screening.get_deferred_fields() for row in listed)
    whole = (
        Referral.objects.filter(pk__in=[row.pk for row in listed])
        .select_related("provider", "case", "case__agency", "screening")
        .order_by(*INBOX_ORDER)
    )
    packets = [referral_packet_get(referral=row) for row in listed]
    assert packets == [delivered_packet(row) for row in whole]
    assert packets[0]["name"] == "Maria Fictional"
