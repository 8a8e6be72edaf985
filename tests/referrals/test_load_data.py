"""`manage.py generate_load_data`: fictional load data that keeps every invariant the
services keep (grants, consents, constraints, sealed fields, engine results), reproducibly."""

from __future__ import annotations

import io
from collections import Counter, defaultdict

import pytest
from django.core.management import call_command
from django.db import transaction

from config.models import AccessLogEntry
from indicators.engine import score
from indicators.selectors import instrument_definition
from referrals.models import Referral, ReferralStatus, referral_queue_rank
from referrals.services.transitions import can_transition
from screening.models import (
    Case,
    CaseAssignment,
    CaseShare,
    CaseUserObjectPermission,
    Consent,
    Contact,
    IdentifierDigest,
    Screening,
    User,
)
from screening.roles import Role
from screening.services.identifiers import case_identifiers, contact_identifiers

CASES = 1000
SEED = 7
PAST_APPROVAL = {"approved", "sent", "acknowledged", "accepted", "services_started", "failed"}


def generate(**options) -> str:
    out = io.StringIO()
    call_command(
        "generate_load_data",
        cases=options.pop("cases", CASES),
        seed=options.pop("seed", SEED),
        password="fictional-load-password",
        stdout=out,
        verbosity=0,
        **options,
    )
    return out.getvalue()


@pytest.fixture(scope="module")
def load_data(django_db_setup, django_db_blocker):
    """One generated data set for the module's read-only tests, rolled back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = generate()
        yield output
        transaction.set_rollback(True)


pytestmark = pytest.mark.django_db


def test_the_counts_are_printed_and_every_kind_of_row_is_there(load_data):
    assert f"Generated {CASES:,} cases" in load_data
    assert Case.objects.count() == CASES
    for model in (
        CaseUserObjectPermission,
        CaseAssignment,
        CaseShare,
        Consent,
        Screening,
        Referral,
        Contact,
        IdentifierDigest,
        AccessLogEntry,
    ):
        table = model._meta.db_table
        assert model.objects.exists(), table
        assert f"{table} " in load_data
    printed = {
        line.split()[0]: int(line.split()[1].replace(",", ""))
        for line in load_data.splitlines()
        if line.startswith("  ")
    }
    assert printed["screening_case"] == CASES
    assert printed["referrals_referral"] == Referral.objects.count()


def test_every_case_grants_its_creator_and_assignees_view_and_change_and_nobody_else(load_data):
    grants = defaultdict(set)
    for case_id, user_id, codename in CaseUserObjectPermission.objects.values_list(
        "content_object_id", "user_id", "permission__codename"
    ):
        grants[case_id].add((user_id, codename))
    assignees = defaultdict(set)
    for case_id, worker_id in CaseAssignment.objects.values_list("case_id", "worker_id"):
        assignees[case_id].add(worker_id)
    for case in Case.objects.select_related("created_by"):
        workers = {case.created_by_id} | assignees[case.pk]
        assert grants[case.pk] == {
            (worker, codename) for worker in workers for codename in ("view_case", "change_case")
        }
        assert case.created_by.agency_id == case.agency_id
    creator = Case.objects.order_by("pk").first().created_by
    assert Case.objects.visible_to(creator).filter(created_by=creator).exists()


def test_roles_are_groups_and_workers_see_few_cases_while_supervisors_see_their_agency(
    load_data,
):
    assert not User.objects.filter(groups=None).exists()
    assert set(User.objects.values_list("groups__name", flat=True)) >= {
        Role.SUPERVISOR,
        Role.AGENCY_ADMIN,
        Role.HOTLINE_STAFF,
        Role.PROVIDER_STAFF,
    }
    supervisor = User.objects.filter(groups__name=Role.SUPERVISOR).order_by("pk").first()
    own = Case.objects.filter(agency_id=supervisor.agency_id).count()
    assert Case.objects.visible_to(supervisor).count() >= own > 0
    worker = User.objects.filter(groups__name=Role.SOCIAL_WORKER).order_by("pk").first()
    assert 0 < Case.objects.visible_to(worker).count() < own or worker.agency_id != (
        supervisor.agency_id
    )


def test_every_referral_keeps_the_rules_of_routing_consent_and_the_state_machine(load_data):
    statuses = Counter(Referral.objects.values_list("status", flat=True))
    assert len(statuses) >= 10, statuses
    referrals = Referral.objects.select_related("case", "provider", "consent_used")
    for referral in referrals.prefetch_related("events"):
        assert referral.case_agency_id == referral.case.agency_id
        assert referral.provider_agency_id == referral.provider.agency_id
        if referral.status in PAST_APPROVAL or referral.status == "pending_approval":
            assert referral.mandatory or referral.consent_used is not None
        if referral.consent_used is not None:
            consent = referral.consent_used
            assert consent.case_id == referral.case_id
            assert consent.scope == Consent.Scope.REFERRAL_SERVICE_TYPE
            assert consent.service_type == referral.service_type
            assert consent.method == Consent.Method.WRITTEN and consent.valid_until
        if referral.status == ReferralStatus.DECLINED:
            assert referral.decline_reason and referral.declined_by
        if referral.status == ReferralStatus.CLOSED:
            assert referral.outcome in Referral.Outcome.values and referral.closed_by
        if referral.status == ReferralStatus.BLOCKED_NEEDS_CONSENT:
            assert referral.missing_consent and referral.consent_used is None
        assert referral.queue_rank == referral_queue_rank(referral.status, referral.escalated_at)
        transitions = [e for e in referral.events.all() if e.kind == "transition"]
        assert transitions[0].to_status == ReferralStatus.PROPOSED
        for step in transitions[1:]:
            assert can_transition(step.from_status, step.to_status), (step.from_status, step)
        assert transitions[-1].to_status == referral.status


def test_withdrawn_consent_leaves_no_referral_it_covered_waiting(load_data):
    withdrawn = Consent.objects.filter(withdrawn_at__isnull=False)
    assert withdrawn.exists()
    waiting = {"proposed", "blocked_needs_consent", "pending_approval", "approved", "sent"}
    assert not Referral.objects.filter(
        consent_used__in=withdrawn, status__in=waiting | {"acknowledged", "failed"}
    ).exists()
    for consent in Consent.objects.all():
        assert consent.valid_until is None or consent.valid_until > consent.given_at


def test_sealed_fields_open_and_their_digests_match_the_values(load_data):
    cases = list(Case.objects.exclude(identifying_name="").order_by("pk")[:40])
    assert cases
    for case in cases:
        assert " " in case.identifying_name  # given and family name, opened
        expected = sorted((i.kind, i.digest()) for i in case_identifiers(case))
        stored = sorted(case.identifier_digests.values_list("kind", "digest"))
        assert stored == expected
    for contact in Contact.objects.exclude(caller_phone="").order_by("pk")[:20]:
        assert contact.caller_phone.startswith("0")
        assert contact.summary.endswith("(fictional).")
        expected = sorted((i.kind, i.digest()) for i in contact_identifiers(contact))
        assert sorted(contact.identifier_digests.values_list("kind", "digest")) == expected
    for share in CaseShare.objects.all()[:10]:
        assert share.reason
    # The copy the shared-with-my-agency walk orders on is the case's own creation time.
    shares = CaseShare.objects.select_related("case")
    assert shares.exists()
    assert all(share.case_created_at == share.case.created_at for share in shares)
    for consent in Consent.objects.filter(withdrawn_at__isnull=False)[:10]:
        assert consent.withdrawal_note


def test_stored_results_are_what_the_engine_gives_for_the_stored_answers(load_data):
    submitted = Screening.objects.filter(result__isnull=False).select_related(
        "case", "instrument_version"
    )
    sample = list(submitted.order_by("pk")[:60])
    assert len(sample) == 60
    for screening in sample:
        assert screening.context == {
            "age": screening.case.age,
            "exploitation_type": screening.case.exploitation_type,
        }
        fresh = score(
            instrument_definition(screening.instrument_version),
            screening.answers,
            screening.context,
        ).to_dict()
        assert screening.result == fresh
        assert screening.outcome == fresh["outcome"]
        assert screening.engine_version == fresh["engine_version"]
        flags = set(fresh.get("flags") or ())
        if flags & {"minor", "mandatory_report", "child_welfare_referral"}:
            assert screening.case.mandatory_report_required
    assert not Screening.objects.filter(status="draft", result__isnull=False).exists()


def test_contact_triage_results_are_the_engines(load_data):
    triaged = list(
        Contact.objects.filter(triage_result__isnull=False)
        .select_related("triage_instrument_version")
        .order_by("pk")[:30]
    )
    assert triaged
    for contact in triaged:
        derived = {
            "contact_type": contact.contact_type,
            "channel": contact.channel,
            "caller_type": contact.caller_type,
            "exploitation_type": "unknown_type"
            if contact.exploitation_type == "unknown"
            else contact.exploitation_type,
            "immediate_danger": "yes" if contact.immediate_danger else "no",
            "minor_involved": "yes" if contact.minor_involved else "no",
        }
        assert not set(contact.triage_answers) & set(derived)
        answers = {**contact.triage_answers, **derived}
        definition = instrument_definition(contact.triage_instrument_version)
        assert contact.triage_result == score(definition, answers, {}).to_dict()
