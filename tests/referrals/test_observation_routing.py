"""Routing an observation checklist of a place (issue 16): only to the services that act on
premises (anti-trafficking unit, labour inspectorate, law-enforcement liaison), without a
person's consent, with a packet that carries no person's details."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from config.errors import InvalidState
from indicators.models import InstrumentVersion
from indicators.selectors import instrument_definition
from referrals.models import Referral, ReferralStatus
from referrals.routing import (
    RoutingFacts,
    RoutingFileError,
    evaluate_rules,
    load_routing_file,
    parse_routing,
)
from referrals.services import referral_approve, referral_propose, referral_route_screening
from referrals.services.delivery import build_packet
from referrals.services.seeds import routing_rule_set_load
from screening import services
from tests.referrals.conftest import make_provider

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
RULES_V1 = ROOT / "seeds" / "routing" / "default-routing.v1.yaml"
RULES_V2 = ROOT / "seeds" / "routing" / "default-routing.v2.yaml"
STRONGLY = {  # access signs (8) and an unlicensed establishment
    "door_locked_business_hours": "yes",
    "buzzer_or_camera_entry": "yes",
    "rear_entrance_used": "yes",
    "locks_on_treatment_rooms": "yes",
    "establishment_unlicensed": "yes",
    "living_signs": "no",
}
PLACE_SERVICES = {"law_enforcement_atu", "labour_inspectorate", "law_enforcement_liaison"}


@pytest.fixture
def premises_v2() -> InstrumentVersion:
    for number in (1, 2):
        call_command(
            "load_instruments",
            str(ROOT / "seeds" / "instruments" / f"imb-premises.v{number}.yaml"),
            stdout=io.StringIO(),
        )
    return InstrumentVersion.objects.get(instrument__slug="imb-premises", number=2)


@pytest.fixture
def every_service(db):
    kinds = [
        "shelter",
        "medical",
        "legal_aid",
        "case_management",
        "labour_rights",
        "mental_health",
        "immigration_legal",
        "law_enforcement_atu",
        "labour_inspectorate",
        "law_enforcement_liaison",
    ]
    return {
        kind: make_provider(slug=kind.replace("_", "-"), service_types=[kind]) for kind in kinds
    }


def observe(officer, premises_v2, answers, **case_fields):
    case = services.case_create(created_by=officer, **case_fields)
    draft = services.observation_start(case=case, by=officer, instrument_version=premises_v2)
    saved = services.screening_save_answers(
        screening=draft, by=officer, answers=answers, expected_version=draft.version
    )
    return services.screening_submit(screening=saved, by=officer)


def load_rules(*paths):
    for path in paths:
        routing_rule_set_load(definition=load_routing_file(path))


def test_a_strongly_concerning_place_goes_to_exactly_the_place_services(
    officer, premises_v2, every_service
):
    load_rules(RULES_V1, RULES_V2)
    screening = observe(officer, premises_v2, STRONGLY)
    report = referral_route_screening(screening_id=screening.pk)
    referrals = list(Referral.objects.filter(screening=screening))
    assert {r.service_type for r in referrals} == PLACE_SERVICES
    assert report.unmatched == []
    for referral in referrals:
        # Nobody was asked, so nobody consents: waiting for a supervisor, not blocked.
        assert referral.about_place
        assert referral.status == ReferralStatus.PENDING_APPROVAL
        assert referral.consent_used is None and referral.missing_consent == ""
    assert {r.service_type: r.get_priority_display() for r in referrals} == {
        "law_enforcement_atu": "High",
        "law_enforcement_liaison": "High",
        "labour_inspectorate": "Normal",
    }


def test_a_concerning_place_goes_to_the_anti_trafficking_unit_only(
    officer, premises_v2, every_service
):
    load_rules(RULES_V1, RULES_V2)
    answers = {"door_locked_business_hours": "yes", "windows_covered": "yes", "cash_only": "yes"}
    answers.update(
        dict.fromkeys([i.key for i in _items(premises_v2) if i.key not in answers], "no")
    )
    screening = observe(officer, premises_v2, answers)
    assert screening.outcome == "concerning"
    referral_route_screening(screening_id=screening.pk)
    assert {r.service_type for r in Referral.objects.filter(screening=screening)} == {
        "law_enforcement_atu"
    }


def test_even_under_rules_written_for_people_a_place_gets_no_shelter_or_medical_care(
    officer, premises_v2, every_service
):
    """v1 of the rules (published before places had rules) routes a person's strongly
    concerning outcome to shelter and medical care: a building never gets them."""
    load_rules(RULES_V1)
    screening = observe(officer, premises_v2, STRONGLY)
    referral_route_screening(screening_id=screening.pk)
    assert not Referral.objects.filter(screening=screening).exists()


def test_a_place_referral_is_approved_without_consent_and_its_packet_names_no_person(
    officer, supervisor, premises_v2, every_service
):
    load_rules(RULES_V1, RULES_V2)
    # Someone wrote a worker's name and a narrative into the premises case by mistake.
    screening = observe(
        officer,
        premises_v2,
        STRONGLY,
        identifying_name="Mira Example",
        narrative="Met a worker called Mira who said the manager keeps her passport.",
    )
    referral_route_screening(screening_id=screening.pk)
    referral = Referral.objects.get(screening=screening, service_type="law_enforcement_atu")
    approved = referral_approve(referral_id=referral.pk, by=supervisor)
    assert approved.status == ReferralStatus.APPROVED and approved.consent_used is None

    packet = build_packet(approved, None)
    assert set(packet) == {
        "referral",
        "service_type",
        "priority",
        "respond_by",
        "referring_agency",
        "region",
        "outcome",
        "observed_signs",
    }
    assert packet["observed_signs"][0] == "The main door is locked during business hours."
    assert len(packet["observed_signs"]) == 5
    text = str(packet)
    assert "Mira" not in text and "passport" not in text


def test_a_rule_for_a_place_may_refer_only_to_place_services():
    data = {
        "slug": "bad-routing",
        "version": 1,
        "status": "draft",
        "title": "Bad",
        "rules": [
            {
                "key": "premises_shelter",
                "subject": "place",
                "text": "A building to a shelter.",
                "when": {"always": True},
                "refer": [{"service_type": "shelter"}],
            }
        ],
    }
    with pytest.raises(RoutingFileError) as caught:
        parse_routing(data, origin="bad-routing.v1.yaml")
    [problem] = caught.value.problems
    assert problem.rule == "premises_shelter"
    assert "subject: place" in problem.message and "not shelter" in problem.message


def test_v2_routes_every_person_as_v1_did():
    v1, v2 = load_routing_file(RULES_V1), load_routing_file(RULES_V2)
    for outcome in ("indicated", "possible", "indeterminate", "concerning", "not_indicated"):
        for flags in ((), ("minor",), ("immediate_danger",)):
            for domains in ({}, {"document_retention": {"status": "present"}}):
                facts = RoutingFacts.from_result(
                    outcome=outcome,
                    result={"flags": list(flags), "domains": domains},
                    case={"exploitation_type": "labour", "age_band": "adult"},
                )
                assert evaluate_rules(v1, facts) == evaluate_rules(v2, facts)


def test_routing_v1_keeps_its_published_content_hash():
    assert load_routing_file(RULES_V1).content_hash() == (
        "83982a56a842f771a00ddbc6a1ce54c158fb5c83d98dd0cdd8eac45cbb193016"
    )


def _items(version):
    return instrument_definition(version).items


def test_a_place_is_not_referred_by_hand_to_a_persons_service(officer, premises_v2, every_service):
    screening = observe(officer, premises_v2, STRONGLY)
    with pytest.raises(InvalidState, match="observation of a place"):
        referral_propose(
            case_reference=screening.case.reference,
            by=officer,
            service_type="shelter",
            provider_slug="shelter",
        )
    referral = referral_propose(
        case_reference=screening.case.reference,
        by=officer,
        service_type="law_enforcement_atu",
        provider_slug="law-enforcement-atu",
    )
    assert referral.about_place and referral.status == ReferralStatus.PENDING_APPROVAL
    assert Referral.objects.filter(screening=screening).count() == 1
