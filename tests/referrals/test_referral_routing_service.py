"""route_screening: rules → ranked providers → proposed referrals behind the consent gate."""

from datetime import timedelta

import pytest
from django.utils import timezone

from referrals.models import Referral, ReferralStatus, ServiceProvider
from referrals.services import referral_route_screening
from referrals.services.routing import provider_ranking
from referrals.tasks import route_screening
from screening import services
from screening.events import SCREENING_SUBMITTED
from screening.models import Case, Consent
from tests.outbox import outbox_rows
from tests.referrals.conftest import POSITIVE, make_provider, record_referral_consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def providers(db):
    return {
        "shelter": make_provider(slug="shelter-one", service_types=["shelter"]),
        "medical": make_provider(slug="clinic-one", service_types=["medical"]),
        "legal": make_provider(slug="legal-one", service_types=["legal_aid"]),
        "cm": make_provider(slug="cm-one", service_types=["case_management"]),
        "child": make_provider(slug="child-one", service_types=["child_welfare"], max_age=17),
    }


def referrals_of(screening):
    return {r.service_type: r for r in Referral.objects.filter(screening=screening)}


def test_submit_writes_a_routing_outbox_row_and_the_relay_routes_it(
    case, routing_rules, providers, submit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        screening = submit(case, POSITIVE)
    assert outbox_rows(SCREENING_SUBMITTED, screening, completed_at__isnull=False).exists()
    assert set(referrals_of(screening)) == {"shelter", "medical", "legal_aid", "case_management"}


def test_without_consent_a_referral_is_blocked_and_says_what_is_missing(
    case, routing_rules, providers, submit
):
    screening = submit(case, POSITIVE)
    referral_route_screening(screening_id=screening.pk)
    shelter = referrals_of(screening)["shelter"]
    assert shelter.status == ReferralStatus.BLOCKED_NEEDS_CONSENT
    # In words: the service's label and the provider's name, not their codes.
    assert "for shelter or to this provider (Shelter One)" in shelter.missing_consent
    assert "shelter-one" not in shelter.missing_consent
    assert [(e.from_status, e.to_status) for e in shelter.events.all()] == [
        ("", "proposed"),
        ("proposed", "blocked_needs_consent"),
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("service_type", ReferralStatus.PENDING_APPROVAL),
        ("provider", ReferralStatus.PENDING_APPROVAL),
        ("wrong_service_type", ReferralStatus.BLOCKED_NEEDS_CONSENT),
        ("law_enforcement_scope", ReferralStatus.BLOCKED_NEEDS_CONSENT),
        ("expired", ReferralStatus.BLOCKED_NEEDS_CONSENT),
        ("withdrawn", ReferralStatus.BLOCKED_NEEDS_CONSENT),
        ("absent", ReferralStatus.BLOCKED_NEEDS_CONSENT),
    ],
)
def test_the_consent_gate(kind, expected, case, officer, routing_rules, providers, submit):
    if kind == "service_type":
        record_referral_consent(case, officer, service_type="shelter")
    elif kind == "provider":
        record_referral_consent(case, officer, provider=providers["shelter"])
    elif kind == "wrong_service_type":
        record_referral_consent(case, officer, service_type="medical")
    elif kind == "law_enforcement_scope":
        services.consent_record(
            case=case,
            by=officer,
            scope=Consent.Scope.LAW_ENFORCEMENT_SHARING,
            method="written",
            valid_until=timezone.now() + timedelta(days=5),
        )
    elif kind == "expired":
        consent = record_referral_consent(case, officer, service_type="shelter")
        Consent.objects.filter(pk=consent.pk).update(
            given_at=timezone.now() - timedelta(days=10),
            valid_until=timezone.now() - timedelta(days=1),
        )
    elif kind == "withdrawn":
        consent = record_referral_consent(case, officer, service_type="shelter")
        services.consent_withdraw(consent=consent, by=officer)
    screening = submit(case, POSITIVE)
    referral_route_screening(screening_id=screening.pk)
    shelter = referrals_of(screening)["shelter"]
    assert shelter.status == expected
    assert (shelter.consent_used_id is not None) == (expected == ReferralStatus.PENDING_APPROVAL)


def test_a_minor_gets_a_mandatory_child_welfare_referral_that_consent_cannot_block(
    officer, routing_rules, providers, submit
):
    child = services.case_create(created_by=officer, age=15)
    screening = submit(child, {"ran_away": "no"})
    referral_route_screening(screening_id=screening.pk)
    welfare = referrals_of(screening)["child_welfare"]
    assert welfare.mandatory
    assert welfare.status == ReferralStatus.PENDING_APPROVAL
    assert welfare.consent_used is None
    assert welfare.priority == 1
    assert welfare.provider == providers["child"]


def test_a_minor_gets_child_welfare_even_without_a_routing_rule_for_it(officer, providers, submit):
    child = services.case_create(created_by=officer, age=12)
    screening = submit(child, {"ran_away": "no"})
    report = referral_route_screening(screening_id=screening.pk)  # no rule set loaded at all
    assert report.rule_set is None
    assert referrals_of(screening)["child_welfare"].mandatory


def test_routing_twice_creates_no_duplicates_and_unblocks_once_consent_exists(
    case, officer, routing_rules, providers, submit
):
    screening = submit(case, POSITIVE)
    route_screening.delay(screening.pk)
    first = Referral.objects.count()
    route_screening.delay(screening.pk)
    assert Referral.objects.count() == first == 4

    record_referral_consent(case, officer, service_type="shelter")
    report = referral_route_screening(screening_id=screening.pk)
    assert Referral.objects.count() == first
    assert len(report.unblocked) == 1
    assert referrals_of(screening)["shelter"].status == ReferralStatus.PENDING_APPROVAL


def test_a_new_screening_of_the_same_case_does_not_duplicate_open_referrals(
    case, routing_rules, providers, submit
):
    first = submit(case, POSITIVE)
    referral_route_screening(screening_id=first.pk)
    second = submit(case, POSITIVE)
    report = referral_route_screening(screening_id=second.pk)
    assert report.proposed == []
    assert Referral.objects.filter(screening=second).count() == 0


def test_a_draft_or_missing_screening_routes_nothing(draft, routing_rules, providers):
    assert referral_route_screening(screening_id=draft.pk).proposed == []
    assert referral_route_screening(screening_id=987654).proposed == []


@pytest.mark.parametrize(
    ("case_values", "expected"),
    [
        ({"region": "Riverside"}, ["local-es", "local-en", "national"]),
        ({"region": "Harbour City"}, ["national"]),
        ({"region": "Riverside", "gender": "male"}, ["national"]),
        ({"region": "Riverside", "age": 16}, ["national"]),
    ],
)
def test_providers_are_ranked_by_capacity_region_and_language(officer, case_values, expected):
    make_provider(slug="national", regions=["national"])
    make_provider(
        slug="local-en", regions=["Riverside"], languages=["en"], genders=["female"], min_age=18
    )
    make_provider(
        slug="local-es", regions=["Riverside"], languages=["es"], genders=["female"], min_age=18
    )
    make_provider(slug="local-full", regions=["Riverside"], capacity="full")
    make_provider(slug="local-closed", regions=["Riverside"], capacity="closed")
    make_provider(slug="other-service", regions=["Riverside"], service_types=["medical"])
    values = {"age": 30, "gender": "female", "languages": ["es"], **case_values}
    case = services.case_create(created_by=officer, **values)
    ranked = [p.slug for p in provider_ranking(case=case, service_type="shelter")]
    assert ranked == expected


def test_a_full_provider_is_proposed_only_when_no_other_serves(officer):
    make_provider(slug="only-full", regions=["Riverside"], capacity=ServiceProvider.Capacity.FULL)
    case = services.case_create(created_by=officer, age=30, region="Riverside")
    assert [p.slug for p in provider_ranking(case=case, service_type="shelter")] == ["only-full"]


def test_routing_uses_the_outcome_in_force_after_an_override(
    case, supervisor, routing_rules, providers, submit
):
    screening = submit(case, {"ran_away": "no", "police_contact": "no", "injury": "no"})
    referral_route_screening(screening_id=screening.pk)
    assert Referral.objects.count() == 0
    services.screening_override(
        screening=screening,
        by=supervisor,
        outcome="screen_positive",
        reason_code="professional_judgement",
        note="Disclosed more after the screen.",
    )
    referral_route_screening(screening_id=screening.pk)
    assert Referral.objects.filter(screening=screening).count() == 4
    assert Case.objects.get(pk=case.pk).referrals.count() == 4
