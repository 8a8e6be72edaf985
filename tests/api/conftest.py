"""Fixtures for the REST API tests: two agencies, people in every relevant role, API tokens,
and the hotline-triage instrument loaded from its seed file."""

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from rest_framework.test import APIClient

from screening import services
from screening.models import Agency, Case, User
from screening.roles import Role
from tests.api.helpers import client_for
from tests.factories import AgencyFactory, UserFactory

TRIAGE_SEED = Path(settings.BASE_DIR) / "seeds" / "instruments" / "hotline-triage.v1.yaml"


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def triage_instrument():
    call_command("load_instruments", str(TRIAGE_SEED), stdout=io.StringIO())


@pytest.fixture
def hotline() -> Agency:
    return AgencyFactory(name="Test Hotline", kind=Agency.Kind.HOTLINE)


@pytest.fixture
def other_hotline() -> Agency:
    return AgencyFactory(name="Other Hotline", kind=Agency.Kind.HOTLINE)


@pytest.fixture
def advocate(hotline) -> User:
    return UserFactory(agency=hotline, role=Role.HOTLINE_STAFF)


@pytest.fixture
def hotline_supervisor(hotline) -> User:
    return UserFactory(agency=hotline, role=Role.SUPERVISOR)


@pytest.fixture
def hotline_officer(hotline) -> User:
    """Same agency, a role that may not log contacts."""
    return UserFactory(agency=hotline, role=Role.FRONTLINE_OFFICER)


@pytest.fixture
def outsider(other_hotline) -> User:
    return UserFactory(agency=other_hotline, role=Role.HOTLINE_STAFF)


@pytest.fixture
def api(advocate) -> APIClient:
    return client_for(advocate)


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


@pytest.fixture
def case_of_hotline(advocate) -> Case:
    return services.case_create(
        created_by=advocate,
        age=30,
        identifying_name="Fictional Person",
        narrative="A fictional account.",
    )
