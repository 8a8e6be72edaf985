"""Fixtures for the web-page tests: logged-in clients and screenings in each state.

The people and the fictional flag screen come from `tests/screening/conftest.py`."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from indicators.models import InstrumentVersion
from screening import services
from tests.auth import sign_in

ROOT = Path(__file__).resolve().parents[3]
FRONTLINE = ROOT / "seeds" / "instruments" / "frontline-adult-conversation.v1.yaml"


@pytest.fixture
def client_for():
    def make(user) -> Client:
        return sign_in(Client(), user)

    return make


@pytest.fixture
def frontline_version() -> InstrumentVersion:
    call_command("load_instruments", str(FRONTLINE), stdout=io.StringIO())
    return InstrumentVersion.objects.get(instrument__slug="frontline-adult-conversation", number=1)


@pytest.fixture
def submitted(draft, officer):
    """A submitted flag-screen screening: two yes answers, so `screen_positive`."""
    saved = services.screening_save_answers(
        screening=draft,
        by=officer,
        answers={"ran_away": "yes", "police_contact": "yes", "injury": "no", "in_danger_now": "no"},
        expected_version=draft.version,
    )
    return services.screening_submit(screening=saved, by=officer)
