"""GET /api/v1/providers/: the provider directory for any agency staff, by service type,
region and language; never a webhook secret or address."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from screening.roles import Role
from tests.api.helpers import assert_problem, client_for, error_fields
from tests.factories import UserFactory
from tests.referrals.conftest import SECRET, make_provider

pytestmark = pytest.mark.django_db

URL = "/api/v1/providers/"


@pytest.fixture
def directory():
    return {
        "shelter": make_provider(
            slug="harbour-shelter",
            name="Harbour Shelter",
            regions=["Northshire"],
            languages=["en", "es"],
        ),
        "national": make_provider(
            slug="national-legal",
            name="National Legal Aid",
            service_types=["legal_aid"],
            regions=["national"],
            languages=["en"],
        ),
        "zurich": make_provider(
            slug="zurich-clinic",
            name="Zürich Clinic",
            service_types=["medical"],
            regions=["Zürich"],
            languages=["de"],
        ),
        "closed": make_provider(slug="gone", name="Gone Shelter", is_active=False),
    }


def slugs(api, query=None) -> list[str]:
    response = api.get(URL, query or {})
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def test_any_agency_staff_search_the_directory_by_name(api, directory, hotline):
    assert slugs(api) == ["harbour-shelter", "national-legal", "zurich-clinic"]
    admin = client_for(UserFactory(agency=hotline, role=Role.AGENCY_ADMIN))
    assert slugs(admin) == ["harbour-shelter", "national-legal", "zurich-clinic"]


def test_filters_by_service_type_region_and_language(api, directory):
    assert slugs(api, {"service_type": "shelter"}) == ["harbour-shelter"]
    assert slugs(api, {"region": "northshire"}) == ["harbour-shelter", "national-legal"]
    assert slugs(api, {"region": "Southshire"}) == ["national-legal"]
    assert slugs(api, {"region": "zürich"}) == ["national-legal", "zurich-clinic"]
    assert slugs(api, {"language": "es"}) == ["harbour-shelter"]
    assert slugs(api, {"language": "e"}) == []  # a whole element, not a substring
    assert slugs(api, {"service_type": "legal_aid", "language": "en"}) == ["national-legal"]
    response = api.get(URL, {"service_type": "spa"})
    assert_problem(response, 400)
    assert error_fields(response) == ["service_type"]


def test_no_secret_or_address_is_ever_serialised(api, directory):
    response = api.get(URL)
    assert SECRET not in response.content.decode()
    row = response.json()["results"][0]
    assert not {"webhook_secret", "webhook_url", "email"} & row.keys()
    assert "127.0.0.1" not in response.content.decode()


def test_who_may_search(anonymous, directory):
    assert_problem(anonymous.get(URL), 401)
    assert_problem(client_for(UserFactory(agency=None)).get(URL), 403)


def test_the_directory_is_cursor_paginated_with_a_fixed_query_count(api, directory):
    api.get(URL)
    with CaptureQueriesContext(connection) as few:
        first = api.get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    for index in range(4):
        make_provider(slug=f"extra-{index}", name=f"Extra {index}", agency=None)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(URL, {"page_size": 6}).json()["results"]) == 6
    assert len(many) == len(few)
    # The cursor continues after the last name read, even with rows added before it.
    second = api.get(first["next"]).json()
    assert [row["slug"] for row in second["results"]] == ["zurich-clinic"]
