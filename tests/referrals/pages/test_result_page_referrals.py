"""The screening result page lists the referrals routing proposed for that screening."""

import html
import re

import pytest

from referrals.services import referral_route_screening
from tests.referrals.conftest import POSITIVE, make_provider

pytestmark = pytest.mark.django_db


def _section(html: str) -> str:
    start = html.index('id="referrals"')
    return html[start : html.index("</section>", start)]


def test_before_routing_the_page_says_routing_is_in_progress(client_for, officer, submitted):
    html = client_for(officer).get(f"/screenings/{submitted.pk}/").content.decode()
    assert "Routing is in progress" in _section(html)


def test_the_proposed_referrals_are_listed_with_status_provider_and_missing_consent(
    client_for, officer, case, routing_rules, submit
):
    make_provider(slug="shelter-one", name="Shelter One", service_types=["shelter"])
    screening = submit(case, POSITIVE)
    referral_route_screening(screening_id=screening.pk)
    shelter = screening.referrals.get(service_type="shelter")

    section = _section(client_for(officer).get(f"/screenings/{screening.pk}/").content.decode())

    assert "Routing is in progress" not in section
    assert "Shelter One" in section
    assert f'href="/referrals/{shelter.pk}/"' in section
    assert "Blocked: needs consent" in section
    assert "Missing consent: written, time-limited consent to a referral for shelter" in section
    assert f'href="/cases/{case.reference}/"' in section


def test_a_mandatory_referral_is_marked(client_for, officer, referral_factory, submitted):
    referral_factory(mandatory=True, service_type="child_welfare")
    section = _section(client_for(officer).get(f"/screenings/{submitted.pk}/").content.decode())
    assert "Child welfare" in section
    assert "Mandatory" in section
    assert "Waiting for approval" in section


def test_another_agency_sees_neither_the_result_nor_its_referrals(
    client_for, outsider, referral_factory, submitted
):
    referral_factory()
    assert client_for(outsider).get(f"/screenings/{submitted.pk}/").status_code == 404


def test_a_long_list_is_counted_in_a_line_and_folded(
    client_for, officer, referral_factory, submitted
):
    """Issue 16: six proposals each with its consent note made the phone page 1,000 px longer;
    the counts are one line and a list of more than three is folded."""
    for service_type in ("shelter", "medical", "legal_aid", "case_management"):
        referral_factory(service_type=service_type)
    referral_factory(service_type="labour_rights", status="blocked_needs_consent", consent=None)
    section = _section(client_for(officer).get(f"/screenings/{submitted.pk}/").content.decode())
    start = section.index('id="referral-counts">')
    counts = section[start : section.index("</p>", start)]
    words = " ".join(re.sub(r"<[^>]+>", "", html.unescape(counts)).split())
    assert words.endswith(
        "5 referrals proposed; 4 waiting for approval; 1 waits for the person's consent "
        "(record it on the case)."
    )
    assert "<summary>The 5 referrals</summary>" in section
    assert section.index("<details") < section.index('class="referral-list"')


def test_a_short_list_is_shown_as_it_is(client_for, officer, referral_factory, submitted):
    referral_factory()
    section = _section(client_for(officer).get(f"/screenings/{submitted.pk}/").content.decode())
    assert "1 referral proposed; 1 waiting for approval." in section
    assert "<details" not in section
