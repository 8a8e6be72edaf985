"""Observation checklists in the wizard (issue 16): the premises checklist v2 starts without the
safety gate or the consent script, offers observed / not observed / could not check and never
"prefer not to say", and its result says what was observed from observed signs only. Screenings
of v1 keep their version and its person flow."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from config.errors import ValidationError
from indicators.models import InstrumentVersion
from screening import services
from screening.models import Consent, Screening
from screening.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[3] / "seeds" / "instruments"
ACCESS_ONLY = {
    "door_locked_business_hours": "yes",
    "buzzer_or_camera_entry": "yes",
    "rear_entrance_used": "yes",
    "locks_on_treatment_rooms": "yes",
    "living_signs": "no",
    "separate_entrance_living": "no",
    "no_separation_sleeping": "no",
}


def load(number: int) -> InstrumentVersion:
    call_command(
        "load_instruments", str(SEEDS / f"imb-premises.v{number}.yaml"), stdout=io.StringIO()
    )
    return InstrumentVersion.objects.get(instrument__slug="imb-premises", number=number)


@pytest.fixture
def premises_v1() -> InstrumentVersion:
    return load(1)


@pytest.fixture
def premises_v2(premises_v1) -> InstrumentVersion:
    return load(2)


@pytest.fixture
def premises_case(officer):
    # A case for the place: no name, age or other detail of any person.
    return services.case_create(created_by=officer)


def start_url(case):
    return reverse("screening:observation-start", kwargs={"reference": case.reference})


def gate_url(case):
    return reverse("screening:screening-gate", kwargs={"reference": case.reference})


def step_url(screening, step):
    return reverse(
        "screening:screening-section", kwargs={"screening_id": screening.pk, "step": step}
    )


def review_url(screening):
    return reverse("screening:screening-review", kwargs={"screening_id": screening.pk})


def result_url(screening):
    return reverse("screening:screening-result", kwargs={"screening_id": screening.pk})


def text_of(response) -> str:
    return response.content.decode()


def test_the_gate_no_longer_offers_the_premises_checklist(
    client_for, officer, premises_case, premises_v2, instrument_version
):
    page = text_of(client_for(officer).get(gate_url(premises_case)))
    assert 'value="imb-premises/2"' not in page
    assert 'value="test-flag-screen/1"' in page
    assert start_url(premises_case) in page  # the way to the checklist instead
    response = client_for(officer).post(
        gate_url(premises_case),
        {
            "instrument_version": "imb-premises/2",
            "setting": "premises_inspection",
            "safe_to_talk": "yes",
            "alone": "yes",
            "interpreter_used": "no",
        },
    )
    assert response.status_code == 400
    assert not Screening.objects.exists()


def test_an_observation_starts_without_gate_or_consent(
    client_for, officer, premises_case, premises_v2
):
    client = client_for(officer)
    page = client.get(start_url(premises_case))
    assert page.status_code == 200
    text = text_of(page)
    assert "safe for you to talk" not in text.lower()
    assert "your work and where you live" not in text
    assert "no safety questions and no consent" in text

    response = client.post(start_url(premises_case), {"instrument_version": "imb-premises/2"})
    screening = Screening.objects.get()
    assert response.status_code == 302 and response["Location"] == step_url(screening, 1)
    assert screening.instrument_version == premises_v2
    assert screening.consent is None and not Consent.objects.exists()
    assert (screening.safe_to_talk, screening.alone) == ("", "")
    assert screening.setting == "premises_inspection"
    assert screening.context == {}


def test_the_sections_offer_three_observation_answers_and_no_prefer_not_to_say(
    client_for, officer, premises_case, premises_v2
):
    client = client_for(officer)
    client.post(start_url(premises_case), {"instrument_version": "imb-premises/2"})
    screening = Screening.objects.get()
    page = text_of(client.get(step_url(screening, 1)))
    assert "Prefer not to say" not in page and "Don't know" not in page
    assert page.count('name="living_signs"') == 3
    for word in ("Observed", "Not observed", "Could not check"):
        assert f"<span>{word}</span>" in page
    for value in ("yes", "no", "unknown"):
        assert f'name="living_signs" value="{value}"' in page

    refused = client.post(step_url(screening, 1), {"_version": 1, "living_signs": "declined"})
    assert refused.status_code == 400
    screening.refresh_from_db()
    assert screening.answers == {}


def test_a_whole_checklist_to_a_result_from_observed_signs_only(
    client_for, officer, premises_case, premises_v2
):
    client = client_for(officer)
    client.post(start_url(premises_case), {"instrument_version": "imb-premises/2"})
    screening = Screening.objects.get()
    sections = premises_v2.definition["sections"]
    for step, section in enumerate(sections, start=1):
        posted = {"_version": Screening.objects.get().version, "_action": "next"}
        posted.update(
            {
                item["key"]: ACCESS_ONLY[item["key"]]
                for item in section["items"]
                if item["key"] in ACCESS_ONLY
            }
        )
        response = client.post(step_url(screening, step), posted)
        assert response.status_code == 302, text_of(response)
    review = text_of(client.get(review_url(screening)))
    assert "Check what you recorded" in review
    assert "Not recorded" in review and "Not answered" not in review
    assert "Observed" in review and "Not observed" in review
    response = client.post(review_url(screening), {"_version": Screening.objects.get().version})
    assert response.status_code == 302
    screening.refresh_from_db()
    assert screening.outcome == "strongly_concerning"

    page = text_of(client.get(result_url(screening)))
    assert "live on site" not in page
    assert "What was observed at the place" in page
    assert "The main door is locked during business hours." in page
    assert "Signs observed: 4</strong> · not observed: 3 · could not check: 13" in page
    # The page's summary and its coverage box speak of observations, not of a person's answers.
    assert "4 of 20 signs observed, 13 could not be checked." in page
    assert "answered yes" not in page and "Prefer not to say" not in page
    assert "Nothing is sent without the person's consent" not in page
    assert "never a person's details" in page


def test_the_services_refuse_the_wrong_flow(
    officer, premises_case, premises_v2, instrument_version
):
    with pytest.raises(ValidationError) as caught:
        services.screening_start(
            case=premises_case,
            by=officer,
            instrument_version=premises_v2,
            setting="premises_inspection",
            safe_to_talk="yes",
            alone="yes",
        )
    assert "observation checklist" in caught.value.field_errors["instrument_version"][0]
    with pytest.raises(ValidationError) as caught:
        services.observation_start(
            case=premises_case, by=officer, instrument_version=instrument_version
        )
    assert "conversation with a person" in caught.value.field_errors["instrument_version"][0]
    assert not Screening.objects.exists()


def test_the_observation_page_needs_login_the_agency_and_a_role_that_may_change_the_case(
    client, client_for, outsider, agency, premises_case, premises_v2
):
    response = client.get(start_url(premises_case))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client_for(outsider).get(start_url(premises_case)).status_code == 404
    assert (
        client_for(outsider)
        .post(start_url(premises_case), {"instrument_version": "imb-premises/2"})
        .status_code
        == 404
    )
    hotline = UserFactory(agency=agency, role=Role.HOTLINE_STAFF)
    assert client_for(hotline).get(start_url(premises_case)).status_code == 404
    assert not Screening.objects.exists()


def test_an_agency_the_case_is_shared_with_may_not_start_an_observation(
    client_for, supervisor, outsider, other_agency, premises_case, premises_v2
):
    services.case_share(
        case=premises_case, agency=other_agency, reason="Joint visit", by=supervisor
    )
    client = client_for(outsider)
    assert client.get(start_url(premises_case)).status_code == 403
    posted = client.post(start_url(premises_case), {"instrument_version": "imb-premises/2"})
    assert posted.status_code == 403
    assert not Screening.objects.exists()


def test_a_v1_screening_keeps_its_version_and_scores_as_before(
    client_for, officer, premises_case, premises_v1
):
    """Started before v2 (the person flow, with consent), it renders and scores as it did."""
    consent = services.consent_record(
        case=premises_case,
        by=officer,
        scope=Consent.Scope.SCREENING,
        method=Consent.Method.VERBAL,
    )
    screening = services.screening_start(
        case=premises_case,
        by=officer,
        instrument_version=premises_v1,
        setting="premises_inspection",
        safe_to_talk="yes",
        alone="yes",
        consent=consent,
    )
    load(2)
    saved = services.screening_save_answers(
        screening=screening, by=officer, answers=ACCESS_ONLY, expected_version=screening.version
    )
    page = text_of(client_for(officer).get(step_url(saved, 1)))
    assert "Prefer not to say" in page  # v1 is the version it was started with
    submitted = services.screening_submit(screening=saved, by=officer)
    assert submitted.instrument_version == premises_v1
    assert submitted.outcome == "strongly_concerning"
    assert "observations" not in submitted.result
    assert submitted.result["instrument"]["content_hash"] == (
        "bc472517e37c8f52d74a348cc0e7b4f808b83835b8b1bb4b7d5fda10ce1a6bd8"
    )
    result_page = client_for(officer).get(result_url(submitted))
    assert result_page.status_code == 200
    assert "What was observed at the place" not in text_of(result_page)
