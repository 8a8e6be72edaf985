"""Observation checklists through the API (issue 16): the API starts only a person's
screening, so an observation version is refused naming the field; an observation started on
the web reads with its gate answers blank (nobody was asked)."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from indicators.models import InstrumentVersion
from screening import services
from screening.models import Screening
from tests.api.helpers import assert_problem, client_for, error_fields

pytestmark = pytest.mark.django_db

SEEDS = Path(__file__).resolve().parents[2] / "seeds" / "instruments"


@pytest.fixture
def premises_v2() -> InstrumentVersion:
    for number in (1, 2):
        path = SEEDS / f"imb-premises.v{number}.yaml"
        call_command("load_instruments", str(path), stdout=io.StringIO())
    return InstrumentVersion.objects.get(instrument__slug="imb-premises", number=2)


def test_starting_an_observation_version_through_the_api_is_refused_naming_the_field(
    worker, screened_case, premises_v2
):
    response = client_for(worker).post(
        f"/api/v1/cases/{screened_case.reference}/screenings/",
        {
            "instrument": "imb-premises",
            "instrument_version": 2,
            "setting": "premises_inspection",
            "safe_to_talk": "yes",
            "alone": "yes",
        },
        format="json",
    )
    assert_problem(response, 400)
    assert error_fields(response) == ["instrument_version"]
    assert "observation checklist" in response.content.decode()
    assert not Screening.objects.exists()


def test_an_observation_reads_with_its_gate_blank(worker, premises_v2):
    case = services.case_create(created_by=worker)
    screening = services.observation_start(case=case, by=worker, instrument_version=premises_v2)
    response = client_for(worker).get(f"/api/v1/screenings/{screening.pk}/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["safe_to_talk"], body["alone"], body["consent"]) == ("", "", None)
