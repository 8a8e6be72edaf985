"""Fixtures for referral tests: the screening fixtures (agencies, staff, a fictional
instrument with flag rules), the demo routing rules, a few providers and submitted screenings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from referrals.models import ServiceProvider
from referrals.routing import load_routing_file
from referrals.services.seeds import routing_rule_set_load
from screening import services
from screening.models import Case, Consent
from tests.referrals.receiver import start_receiver

# The screening fixtures (agencies, staff, the fictional flag instrument, case, draft).
from tests.screening.conftest import *  # noqa: F403

SECRET = "test-shared-secret-0123456789abcdef"
DEFAULT_RULES = (
    Path(__file__).resolve().parents[2] / "seeds" / "routing" / "default-routing.v1.yaml"
)


@pytest.fixture
def routing_rules(db):
    """The demo routing rules, published."""
    definition = load_routing_file(DEFAULT_RULES)
    routing_rule_set_load(definition=definition)
    return definition


def make_provider(**overrides) -> ServiceProvider:
    slug = overrides.pop("slug", None) or f"provider-{ServiceProvider.objects.count() + 1}"
    values = {
        "slug": slug,
        "name": overrides.pop("name", slug.replace("-", " ").title()),
        "service_types": ["shelter"],
        "regions": ["national"],
        "channel": ServiceProvider.Channel.WEBHOOK,
        "webhook_url": "http://127.0.0.1:9/unused",
        "webhook_secret": SECRET,
        "response_due_hours": 24,
        **overrides,
    }
    return ServiceProvider.objects.create(**values)


@pytest.fixture
def provider_factory(db):
    return make_provider


@pytest.fixture
def receiver():
    receiver, server = start_receiver(SECRET)
    yield receiver
    server.shutdown()
    server.server_close()


def record_referral_consent(
    case: Case, by, *, service_type: str = "", provider: ServiceProvider | None = None, days=30
) -> Consent:
    scope = Consent.Scope.REFERRAL_PROVIDER if provider else Consent.Scope.REFERRAL_SERVICE_TYPE
    return services.consent_record(
        case=case,
        by=by,
        scope=scope,
        method=Consent.Method.WRITTEN,
        service_type=service_type if not provider else "",
        provider_ref=provider.slug if provider else "",
        valid_until=timezone.now() + timedelta(days=days),
    )


@pytest.fixture
def submit(officer, start_screening):
    """Start, answer and submit a screening of `case`; returns the submitted screening."""

    def submit(case: Case, answers: dict | None = None):
        if not case.consents.filter(scope=Consent.Scope.SCREENING).exists():
            services.consent_record(
                case=case, by=officer, scope=Consent.Scope.SCREENING, method="verbal"
            )
        screening = start_screening(case)
        if answers:
            screening = services.screening_save_answers(
                screening=screening, by=officer, answers=answers, expected_version=screening.version
            )
        return services.screening_submit(screening=screening, by=officer)

    return submit


POSITIVE = {"ran_away": "yes", "police_contact": "yes", "injury": "no", "in_danger_now": "no"}
NEGATIVE = {"ran_away": "no", "police_contact": "no", "injury": "no", "in_danger_now": "no"}


@pytest.fixture
def submitted(case, officer, start_screening, screening_consent):
    """A submitted screening of `case` (no routing run).

    Submitting writes a `screening.submitted` event to the outbox in the same transaction
    (recording the consents, `consent.recorded` ones); tests built on this fixture start after
    routing, so those are dropped and the outbox holds only what the test itself creates."""
    from config.models import OutboxMessage

    screening = services.screening_submit(screening=start_screening(case), by=officer)
    OutboxMessage.objects.all().delete()
    return screening


@pytest.fixture
def referral_factory(submitted, officer):
    """Referrals straight in the table, for tests about what happens after routing (the
    consent each one rests on is recorded without its `consent.recorded` event)."""
    from referrals.models import Referral
    from screening.events import CONSENT_RECORDED
    from tests.outbox import outbox_rows

    def make(*, case=None, screening=None, provider=None, consent="auto", **values):
        case = case or submitted.case
        screening = screening or submitted
        provider = provider or make_provider(service_types=[values.get("service_type", "shelter")])
        if consent == "auto":
            consent = (
                None
                if values.get("mandatory")
                else record_referral_consent(case, officer, provider=provider)
            )
            if consent is not None:
                outbox_rows(CONSENT_RECORDED, consent).delete()
        values.setdefault("due_at", timezone.now() + timedelta(hours=24))
        values.setdefault("status", "pending_approval")
        values.setdefault("service_type", "shelter")
        if values["status"] == "closed":  # the database wants what came of it
            values.setdefault("outcome", "services_delivered")
        return Referral.objects.create(
            case=case,
            case_agency_id=case.agency_id,
            provider_agency_id=provider.agency_id,
            screening=screening,
            provider=provider,
            consent_used=consent,
            **values,
        )

    return make
