from datetime import timedelta

import pytest
from django.utils import timezone

from config import errors
from screening import services
from screening.models import Consent
from tests.factories import ConsentFactory

pytestmark = pytest.mark.django_db


def test_consent_record_stores_how_it_was_given(case, officer):
    consent = services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.SCREENING,
        method=Consent.Method.VERBAL,
        interpreter_used=True,
        interpreter_language="es",
        witness="Duty nurse",
    )
    assert consent.given_by == officer
    assert consent.interpreter_language == "es"
    assert consent.is_active()


def test_disclosure_consent_must_be_written_time_limited_and_name_its_recipient(case, officer):
    with pytest.raises(errors.ValidationError) as caught:
        services.consent_record(
            case=case,
            by=officer,
            scope=Consent.Scope.REFERRAL_PROVIDER,
            method=Consent.Method.VERBAL,
        )
    assert set(caught.value.field_errors) == {"method", "valid_until", "provider_name"}
    assert not Consent.objects.exists()

    consent = services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.REFERRAL_PROVIDER,
        method=Consent.Method.WRITTEN,
        provider_name="Fictional Shelter",
        valid_until=timezone.now() + timedelta(days=90),
    )
    assert consent.is_active()


def test_consent_record_rejects_unknown_scope_and_an_interpreter_without_a_language(case, officer):
    with pytest.raises(errors.ValidationError) as caught:
        services.consent_record(
            case=case, by=officer, scope="everything", method="nod", interpreter_used=True
        )
    assert set(caught.value.field_errors) == {"scope", "method", "interpreter_language"}


def test_withdrawal_takes_effect_at_once_and_is_recorded(case, officer, screening_consent):
    withdrawn = services.consent_withdraw(
        consent=screening_consent, by=officer, note="Said so on the phone"
    )
    again = services.consent_withdraw(consent=screening_consent, by=officer)

    assert not withdrawn.is_active()
    assert withdrawn.withdrawn_by == officer
    assert again.withdrawn_at == withdrawn.withdrawn_at
    assert not Consent.objects.filter(pk=screening_consent.pk).active().exists()
    # The record stays: it proves what was allowed, and when.
    assert withdrawn.is_active(at=withdrawn.given_at)


def test_withdrawal_works_on_a_closed_case(case, officer, screening_consent):
    services.case_close(case=case, by=officer)
    assert not services.consent_withdraw(consent=screening_consent, by=officer).is_active()


def test_someone_outside_the_case_cannot_withdraw_it(screening_consent, outsider):
    with pytest.raises(errors.ConsentNotFound):
        services.consent_withdraw(consent=screening_consent, by=outsider)
    screening_consent.refresh_from_db()
    assert screening_consent.is_active()


def test_an_expired_consent_is_not_active(case):
    now = timezone.now()
    consent = ConsentFactory(
        case=case, given_at=now - timedelta(days=10), valid_until=now - timedelta(days=1)
    )
    assert not consent.is_active()
    assert consent.is_active(at=now - timedelta(days=5))
    assert not Consent.objects.active().exists()
