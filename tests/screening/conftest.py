"""Fixtures for screening tests: a fictional instrument with flag rules, and the people of
two agencies (owner and another), created through the services so grants are real."""

import io
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command

from indicators.models import InstrumentVersion
from screening import services
from screening.models import Agency, Case, Consent, User
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory

FLAG_SCREEN = textwrap.dedent(
    """\
    slug: test-flag-screen
    version: {version}
    status: {status}
    title: {{en: "Test flag screen"}}
    audience: adult
    purpose: {{en: "A fictional screen used only by the screening tests."}}
    languages: [en]
    sources:
      - key: test-source
        title: A fictional source for tests
        publisher: Test suite
        year: 2026
        section: whole
    sections:
      - key: history
        title: {{en: "History"}}
        items:
          - key: ran_away
            prompt: {{en: "Have you ever run away?"}}
            why: {{en: "Running away is a known risk factor."}}
            response_type: yes_no
            domain: risk_history
            source: test-source
          - key: police_contact
            prompt: {{en: "Have you ever been in trouble with the police?"}}
            why: {{en: "Contact with police is a known risk factor."}}
            response_type: yes_no
            domain: risk_history
            source: test-source
          - key: injury
            prompt: {{en: "Have you ever been badly hurt?"}}
            why: {{en: "Serious injury is a known risk factor."}}
            response_type: yes_no
            domain: risk_history
            source: test-source
      - key: now
        title: {{en: "Right now"}}
        items:
          - key: in_danger_now
            prompt: {{en: "Are you in danger right now?"}}
            why: {{en: "Immediate danger changes what happens next."}}
            response_type: yes_no
            domain: safety
            source: test-source
          - key: sleeping_place
            prompt: {{en: "Where do you sleep?"}}
            response_type: single_choice
            options:
              - {{key: own_home, label: {{en: "My own home"}}}}
              - {{key: workplace, label: {{en: "At work"}}}}
            domain: premises_living
            source: test-source
    rules:
      - key: two_or_more
        kind: count
        text: {{en: "Positive at two or more yes answers."}}
        source: test-source
        select: {{items: [ran_away, police_contact, injury]}}
        threshold: 2
      - key: danger
        kind: flag
        text: {{en: "In danger now: urgent."}}
        source: test-source
        when: {{item: in_danger_now}}
        flags: [immediate_danger, urgent]
      - key: minor
        kind: flag
        text: {{en: "Under 18: child welfare must be told."}}
        source: test-source
        when: {{context: age, op: lt, value: 18}}
        flags: [minor, mandatory_report, child_welfare_referral]
    outcomes:
      - key: screen_negative
        label: {{en: "Screen negative"}}
        description: {{en: "Fewer than two yes answers."}}
        actions: [{{en: "Keep the door open."}}]
      - key: screen_positive
        when: {{rule: two_or_more}}
        label: {{en: "Screen positive"}}
        description: {{en: "Two or more yes answers."}}
        actions: [{{en: "Arrange a fuller assessment."}}]
    """
)


@pytest.fixture
def load_flag_screen(tmp_path: Path):
    def load(*, version: int = 1, status: str = "published") -> InstrumentVersion:
        path = tmp_path / f"test-flag-screen.v{version}.yaml"
        path.write_text(FLAG_SCREEN.format(version=version, status=status))
        call_command("load_instruments", str(path), stdout=io.StringIO())
        return InstrumentVersion.objects.get(instrument__slug="test-flag-screen", number=version)

    return load


@pytest.fixture
def instrument_version(load_flag_screen) -> InstrumentVersion:
    return load_flag_screen()


@pytest.fixture
def agency() -> Agency:
    return AgencyFactory(name="Owner Agency")


@pytest.fixture
def other_agency() -> Agency:
    return AgencyFactory(name="Other Agency")


@pytest.fixture
def officer(agency) -> User:
    return UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER)


@pytest.fixture
def colleague(agency) -> User:
    return UserFactory(agency=agency, role=Role.SOCIAL_WORKER)


@pytest.fixture
def supervisor(agency) -> User:
    return UserFactory(agency=agency, role=Role.SUPERVISOR)


@pytest.fixture
def outsider(other_agency) -> User:
    return UserFactory(agency=other_agency, role=Role.SUPERVISOR)


@pytest.fixture
def case(officer) -> Case:
    return services.case_create(created_by=officer, age=30, languages=["es"])


@pytest.fixture
def screening_consent(case, officer) -> Consent:
    return services.consent_record(
        case=case, by=officer, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
    )


@pytest.fixture
def start_screening(officer, instrument_version):
    """Start a screening past a safe gate; the case needs a screening consent first."""

    def start(case: Case, *, by: User | None = None, **overrides):
        arguments = {
            "case": case,
            "by": by or officer,
            "instrument_version": instrument_version,
            "setting": "station",
            "safe_to_talk": "yes",
            "alone": "yes",
            **overrides,
        }
        return services.screening_start(**arguments)

    return start


@pytest.fixture
def draft(case, screening_consent, start_screening):
    return start_screening(case)
