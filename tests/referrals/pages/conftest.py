"""Fixtures for the referral pages: logged-in clients, a provider agency whose staff answer
in the in-system inbox, and referrals delivered to it.

The people, the case and `referral_factory` come from `tests/referrals/conftest.py`."""

import pytest
from django.test import Client

from screening.models import Agency
from screening.roles import Role
from tests.auth import sign_in
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import make_provider


@pytest.fixture
def client_for():
    def make(user) -> Client:
        return sign_in(Client(), user)

    return make


def login_redirect(response, url: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        f"/accounts/login/?next={url}"
    )


@pytest.fixture
def provider_agency() -> Agency:
    return AgencyFactory(name="Fictional Shelter Org", kind=Agency.Kind.SERVICE_PROVIDER)


@pytest.fixture
def provider_staff(provider_agency):
    return UserFactory(agency=provider_agency, role=Role.PROVIDER_STAFF)


@pytest.fixture
def inbox_provider(provider_agency):
    return make_provider(
        slug="inbox-shelter",
        name="Inbox Shelter",
        channel="inbox",
        agency=provider_agency,
        service_types=["shelter", "medical", "legal_aid", "case_management"],
    )


# What a consent to the service type lets through (see referrals/README.md).
CONSENTED_FIELDS = [
    "referral",
    "service_type",
    "priority",
    "respond_by",
    "referring_agency",
    "region",
    "age_band",
    "languages",
    "urgent",
    "mandatory",
    "contact_person_directly",
    "age",
    "gender",
    "exploitation_type",
    "outcome",
    "flags",
]


@pytest.fixture
def delivered(referral_factory, inbox_provider):
    """Referrals sent to the inbox provider: `delivered(status="sent", service_type=...)`."""

    def make(**values):
        values.setdefault("status", "sent")
        values.setdefault("fields_disclosed", CONSENTED_FIELDS)
        return referral_factory(provider=inbox_provider, **values)

    return make
