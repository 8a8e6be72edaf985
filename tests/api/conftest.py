"""Fixtures for the REST API tests: two agencies, people in every relevant role, API tokens,
the hotline-triage instrument loaded from its seed file, and for screenings and referrals a
fictional instrument, a consented case, a submitted screening and a provider with its staff."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from screening import services
from screening.models import Agency, Case, Consent, Screening, User
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


# --- screenings and referrals ------------------------------------------------------------------


@pytest.fixture
def flag_screen(tmp_path):
    """The screening tests' fictional instrument (two sections, a count rule, flags)."""
    from indicators.models import InstrumentVersion
    from tests.screening.conftest import FLAG_SCREEN

    path = tmp_path / "test-flag-screen.v1.yaml"
    path.write_text(FLAG_SCREEN.format(version=1, status="published"))
    call_command("load_instruments", str(path), stdout=io.StringIO())
    return InstrumentVersion.objects.get(instrument__slug="test-flag-screen", number=1)


@pytest.fixture
def worker(hotline) -> User:
    """A frontline officer of the hotline's agency who opens the case and screens."""
    return UserFactory(agency=hotline, role=Role.FRONTLINE_OFFICER)


@pytest.fixture
def screened_case(worker) -> Case:
    """The worker's case, with the person's consent to be screened."""
    case = services.case_create(created_by=worker, age=30, region="Northshire")
    services.consent_record(
        case=case, by=worker, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
    )
    return case


@pytest.fixture
def start_screening(worker, flag_screen):
    def start(case: Case, **overrides) -> Screening:
        return services.screening_start(
            case=case,
            by=worker,
            instrument_version=flag_screen,
            setting="station",
            safe_to_talk="yes",
            alone="yes",
            **overrides,
        )

    return start


@pytest.fixture
def submitted_screening(worker, screened_case, start_screening) -> Screening:
    """A submitted screening; its routing request is dropped (referrals are made by hand)."""
    from screening.events import SCREENING_SUBMITTED
    from tests.outbox import outbox_rows

    screening = services.screening_submit(screening=start_screening(screened_case), by=worker)
    outbox_rows(SCREENING_SUBMITTED, screening).delete()
    return screening


@pytest.fixture
def provider_agency() -> Agency:
    return AgencyFactory(name="Harbour Shelter")


@pytest.fixture
def provider_staff(provider_agency) -> User:
    return UserFactory(agency=provider_agency, role=Role.PROVIDER_STAFF)


@pytest.fixture
def make_referral(submitted_screening, worker, provider_agency):
    """Referrals straight in the table, for what happens after routing."""
    from referrals.models import Referral
    from tests.referrals.conftest import make_provider, record_referral_consent

    def make(*, provider=None, **values) -> Referral:
        case = submitted_screening.case
        provider = provider or make_provider(
            service_types=[values.get("service_type", "shelter")],
            channel="inbox",
            agency=provider_agency,
        )
        consent = None
        if not values.get("mandatory"):
            consent = record_referral_consent(case, worker, provider=provider)
        values.setdefault("due_at", timezone.now() + timedelta(hours=24))
        values.setdefault("status", "pending_approval")
        values.setdefault("service_type", "shelter")
        return Referral.objects.create(
            case=case,
            case_agency_id=case.agency_id,
            screening=submitted_screening,
            provider=provider,
            provider_agency_id=provider.agency_id,
            consent_used=consent,
            **values,
        )

    return make
