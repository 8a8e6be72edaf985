"""Schemathesis, generated from the committed contract (docs/openapi.yaml), against the app
in-process with a token per role: no request may end in a 5xx, and every response must match
the schema (status codes, content types, bodies)."""

from pathlib import Path

import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from screening import services
from screening.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CONTRACT = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


schema = schemathesis.openapi.from_path(CONTRACT)
# In-process: requests go straight to Django's WSGI handler, inside the test's transaction.
schema.app = WSGIHandler()


@pytest.fixture(autouse=True)
def _keep_the_test_transactions_connection():
    """Django closes the connection when a request finishes; the test client suspends that,
    and so must a bare WSGI handler, or PostgreSQL loses the test's transaction mid-test."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def tokens_by_role(
    hotline,
    advocate,
    hotline_supervisor,
    triage_instrument,
    worker,
    start_screening,
    submitted_screening,
    make_referral,
    provider_staff,
) -> dict[str, str]:
    """A token for each kind of caller. The hotline has a contact, cases, a draft and a
    submitted screening, referrals waiting for a decision and one sent to a provider whose
    staff member has a token too."""
    people = {
        Role.HOTLINE_STAFF: advocate,
        Role.SUPERVISOR: hotline_supervisor,
        Role.FRONTLINE_OFFICER: worker,
        Role.AGENCY_ADMIN: UserFactory(agency=hotline, role=Role.AGENCY_ADMIN),
        Role.PROVIDER_STAFF: provider_staff,
    }
    case = services.case_create(created_by=advocate, identifying_name="Fictional")
    services.contact_create(
        created_by=advocate, channel="phone", contact_type="tip", case_reference=case.reference
    )
    start_screening(submitted_screening.case)
    make_referral()
    make_referral(status="sent", service_type="medical")
    make_referral(status="failed", service_type="legal_aid")
    return {
        role: services.api_token_create(user=user, name="schemathesis").plaintext
        for role, user in people.items()
    }


@schema.parametrize()
@hypothesis_settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors_and_every_response_matches_the_contract(case, tokens_by_role):
    for token in tokens_by_role.values():
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"},
            checks=[not_a_server_error, response_schema_conformance],
        )
