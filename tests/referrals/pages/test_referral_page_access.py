"""Referral pages of issue 14 the first page tests left without one of the four checks:
proposing a referral by hand (anonymous, provider staff, a partner agency that reads a shared
case) and closing or escalating by a partner. The audit table in docs/case-work.md names the
test for every page. All people are fictional."""

import pytest

from referrals.models import Referral
from screening import services
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import make_provider
from tests.referrals.pages.conftest import login_redirect

pytestmark = pytest.mark.django_db
PROPOSAL = {"propose-service_type": "legal_aid", "propose-provider": "legal-help"}


@pytest.fixture
def partner(case, supervisor):
    """A worker of an agency the case is shared with, read only."""
    agency = AgencyFactory(name="Partner Clinic")
    services.case_share(case=case, agency=agency, reason="Joint plan", by=supervisor)
    return UserFactory(agency=agency, role=Role.SOCIAL_WORKER)


def test_proposing_needs_sign_in_and_a_case_one_may_change(
    client, client_for, case, submitted, provider_staff, partner
):
    make_provider(slug="legal-help", name="Legal Help", service_types=["legal_aid"])
    url = f"/referrals/cases/{case.reference}/propose"
    assert login_redirect(client.post(url, PROPOSAL), url)
    assert client_for(provider_staff).post(url, PROPOSAL).status_code == 404
    # A partner reads the case's referrals but proposes none.
    page = client_for(partner).get(f"/referrals/cases/{case.reference}/")
    assert page.status_code == 200
    assert 'id="propose-referral"' not in page.content.decode()
    assert client_for(partner).post(url, PROPOSAL).status_code == 403
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("action", "form"),
    [("close", {"close-outcome": "moved_away"}), ("escalate", {"escalate-note": "No reply"})],
)
def test_a_partner_may_not_close_or_escalate(client_for, referral_factory, partner, action, form):
    referral = referral_factory(status="accepted")
    response = client_for(partner).post(f"/referrals/{referral.pk}/{action}", form)
    assert response.status_code == 403
    referral.refresh_from_db()
    assert (referral.status, referral.escalated_at) == ("accepted", None)
