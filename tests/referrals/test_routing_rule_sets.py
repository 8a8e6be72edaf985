"""An agency's own routing rules (issue 15): drafts from the rules in force, validation that
names line and field, publishing (immutable, content-hashed, the old version superseded,
who and when), routing by the case's agency with the default as fallback, one agency never
touching another's rules, and the dry run against a hand-computed difference."""

from __future__ import annotations

import pytest

from config.errors import ActionNotAllowed, InvalidState, ValidationError
from referrals.errors import RoutingRuleSetNotFound
from referrals.models import Referral, RoutingRuleSet
from referrals.routing import RoutingDefinition
from referrals.routing_text import routing_text
from referrals.services.routing import _needs, routing_rule_set_current
from referrals.services.routing_dry_run import routing_dry_run
from referrals.services.rule_sets import (
    definition_of,
    routing_draft_create,
    routing_draft_discard,
    routing_draft_publish,
    routing_draft_update,
)
from referrals.services.seeds import PublishedRoutingChanged, routing_rule_set_load
from screening import services
from screening.roles import Role
from tests.factories import UserFactory
from tests.referrals.conftest import NEGATIVE, POSITIVE

pytestmark = pytest.mark.django_db

DANGER = {**POSITIVE, "in_danger_now": "yes"}


@pytest.fixture
def admin(agency):
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN)


@pytest.fixture
def other_admin(other_agency):
    return UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN)


@pytest.fixture
def submit_as(start_screening):
    """Submit a screening of `case` by `worker` (of the case's agency) with `answers`."""

    def submit(worker, case, answers):
        services.consent_record(case=case, by=worker, scope="screening", method="verbal")
        screening = start_screening(case, by=worker)
        screening = services.screening_save_answers(
            screening=screening, by=worker, answers=answers, expected_version=screening.version
        )
        return services.screening_submit(screening=screening, by=worker)

    return submit


def _edited(draft: RoutingRuleSet, change) -> str:
    """The draft's rules as YAML after `change(plain definition)`."""
    plain = dict(draft.definition)
    plain["rules"] = [dict(rule) for rule in plain["rules"]]
    change(plain)
    return routing_text(RoutingDefinition.model_validate(plain))


def _without_legal_aid(plain):
    for rule in plain["rules"]:
        rule["refer"] = [r for r in rule["refer"] if r["service_type"] != "legal_aid"]


# --- drafts, validation ---------------------------------------------------------------------


def test_a_draft_starts_as_a_copy_of_the_default_in_force(routing_rules, admin):
    default = routing_rule_set_current(agency_id=admin.agency_id)
    assert default.agency_id is None  # nothing of the agency's own: the default applies

    draft = routing_draft_create(by=admin)

    assert (draft.status, draft.agency_id, draft.number) == ("draft", admin.agency_id, 1)
    assert draft.slug == f"agency-{admin.agency_id}-routing"
    assert draft.based_on == default
    assert definition_of(draft).rules == definition_of(default).rules
    assert "key: minor_child_welfare" in draft.source_text
    assert routing_draft_create(by=admin) == draft  # one draft per agency


def test_invalid_rules_name_line_and_field_and_nothing_is_saved(routing_rules, admin):
    draft = routing_draft_create(by=admin)
    text = draft.source_text.replace("{flag: immediate_danger}", "{flag: in_danger}")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "in_danger}" in row)

    with pytest.raises(ValidationError) as refused:
        routing_draft_update(by=admin, text=text)

    (message,) = refused.value.field_errors["text"]
    assert message.startswith(f"line {line}, rules.1.when.any.0.flag: Input should be")
    draft.refresh_from_db()
    assert "in_danger}" not in draft.source_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("title: [", "not valid YAML"),
        ("a: &x [1]\nb: *x\n", "line 1: anchors and aliases"),
        ("title: t\ntitle: u\nrules: []\n", "line 2, title: key given twice"),
        ("- just a list\n", "line 1: the rules must be a mapping"),
        ("title: t\nrules: []\n", "rules: List should have at least 1 item"),
        ("x" * (64 * 1024 + 1), "larger than 64 KB"),
    ],
)
def test_text_that_is_not_a_rule_file_is_refused_with_its_reason(
    routing_rules, admin, text, expected
):
    routing_draft_create(by=admin)
    with pytest.raises(ValidationError) as refused:
        routing_draft_update(by=admin, text=text)
    assert any(expected in message for message in refused.value.field_errors["text"])


def test_slug_version_and_status_of_the_text_are_set_by_the_service(routing_rules, admin):
    routing_draft_create(by=admin)
    seed_file = routing_text(definition_of(RoutingRuleSet.objects.get(slug="default-routing")))

    saved = routing_draft_update(by=admin, text=seed_file)

    assert saved.draft.definition["status"] == "draft"
    assert saved.draft.definition["slug"] == f"agency-{admin.agency_id}-routing"
    assert "version: 1 (the text's) is 1" not in "; ".join(saved.replaced)
    assert any(item.startswith("status: published") for item in saved.replaced)


def test_only_agency_administrators_draft_rules(routing_rules, supervisor):
    with pytest.raises(ActionNotAllowed):
        routing_draft_create(by=supervisor)
    assert not RoutingRuleSet.objects.filter(status="draft").exists()


# --- publishing ---------------------------------------------------------------------------


def test_publishing_makes_the_agency_route_by_its_rules_and_others_keep_the_default(
    routing_rules, admin, officer, other_agency, submit, submit_as, case
):
    draft = routing_draft_create(by=admin)
    routing_draft_update(by=admin, text=_edited(draft, _without_legal_aid))

    published = routing_draft_publish(by=admin)

    assert (published.status, published.published_by, published.number) == ("published", admin, 1)
    assert published.published_at is not None
    assert published.content_hash == definition_of(published).content_hash()
    assert routing_rule_set_current(agency_id=admin.agency_id) == published
    assert routing_rule_set_current(agency_id=other_agency.pk).agency_id is None
    ours = submit(case, POSITIVE)
    worker = UserFactory(agency=other_agency)
    theirs_case = services.case_create(created_by=worker, age=30)
    theirs = submit_as(worker, theirs_case, POSITIVE)
    assert "legal_aid" not in {n.service_type for n in _needs(ours, case, published)}
    theirs_rules = routing_rule_set_current(agency_id=theirs_case.agency_id)
    assert "legal_aid" in {n.service_type for n in _needs(theirs, theirs_case, theirs_rules)}


def test_routing_records_the_agency_rules_it_used(
    routing_rules, admin, submit, case, provider_factory
):
    from referrals.services.routing import referral_route_screening

    provider_factory(service_types=["shelter", "medical", "case_management", "legal_aid"])
    draft = routing_draft_create(by=admin)
    routing_draft_update(by=admin, text=_edited(draft, _without_legal_aid))
    published = routing_draft_publish(by=admin)

    report = referral_route_screening(screening_id=submit(case, POSITIVE).pk)

    referrals = Referral.objects.filter(pk__in=report.proposed)
    assert {r.service_type for r in referrals} == {"shelter", "medical", "case_management"}
    assert {r.routing_rule_set_id for r in referrals} == {published.pk}


def test_a_draft_identical_to_the_rules_in_force_is_not_published(routing_rules, admin):
    draft = routing_draft_create(by=admin)
    with pytest.raises(InvalidState, match="the same as those in force"):
        routing_draft_publish(by=admin)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_next_version_supersedes_the_previous_one(routing_rules, admin):
    routing_draft_update(by=admin, text=_edited(routing_draft_create(by=admin), _without_legal_aid))
    first = routing_draft_publish(by=admin)

    second_draft = routing_draft_create(by=admin)
    assert (second_draft.number, second_draft.based_on) == (2, first)
    routing_draft_update(
        by=admin, text=_edited(second_draft, lambda plain: plain.update(rules=plain["rules"][:3]))
    )
    second = routing_draft_publish(by=admin)

    first.refresh_from_db()
    assert (first.superseded_by, first.superseded_at) == (second, second.published_at)
    assert routing_rule_set_current(agency_id=admin.agency_id) == second
    assert second.history.filter(history_user=admin).exists()


def test_a_published_version_never_changes(routing_rules, admin):
    routing_draft_update(by=admin, text=_edited(routing_draft_create(by=admin), _without_legal_aid))
    published = routing_draft_publish(by=admin)
    frozen = (published.definition, published.content_hash)

    with pytest.raises(RoutingRuleSetNotFound):  # no draft: nothing is editable
        routing_draft_update(by=admin, text=published.source_text)
    with pytest.raises(PublishedRoutingChanged):  # nor by a rule file of the same name
        routing_rule_set_load(
            definition=definition_of(published).model_copy(update={"title": "Changed"})
        )
    published.refresh_from_db()
    assert (published.definition, published.content_hash) == frozen


def test_discarding_a_draft_leaves_the_rules_in_force(routing_rules, admin):
    routing_draft_create(by=admin)
    routing_draft_discard(by=admin)
    assert not RoutingRuleSet.objects.filter(agency=admin.agency).exists()
    assert routing_rule_set_current(agency_id=admin.agency_id).slug == "default-routing"


def test_an_administrator_of_another_agency_never_changes_ours(routing_rules, admin, other_admin):
    ours = routing_draft_create(by=admin)
    routing_draft_update(by=admin, text=_edited(ours, _without_legal_aid))
    before = RoutingRuleSet.objects.get(pk=ours.pk).definition

    theirs = routing_draft_create(by=other_admin)
    assert theirs.pk != ours.pk and theirs.agency_id == other_admin.agency_id
    routing_draft_update(
        by=other_admin, text=_edited(theirs, lambda plain: plain.update(title="Theirs"))
    )
    with pytest.raises(InvalidState):  # their draft only differs by its title
        routing_draft_publish(by=other_admin)
    routing_draft_discard(by=other_admin)

    ours.refresh_from_db()
    assert (ours.status, ours.definition) == ("draft", before)
    assert routing_rule_set_current(agency_id=admin.agency_id).agency_id is None


# --- the dry run ----------------------------------------------------------------------------


@pytest.fixture
def dry_run_draft(routing_rules, admin):
    """The default rules with three edits: legal aid no longer raised, the anti-trafficking
    unit high instead of urgent, and a case manager for negative screens in Northshire."""
    draft = routing_draft_create(by=admin)

    def change(plain):
        _without_legal_aid(plain)
        danger = next(rule for rule in plain["rules"] if rule["key"] == "immediate_danger")
        danger["refer"] = [
            {**r, "priority": "high"} if r["service_type"] == "law_enforcement_atu" else r
            for r in danger["refer"]
        ]
        plain["rules"].append(
            {
                "key": "northshire_negative_follow_up",
                "text": "Negative screens in Northshire: a case manager follows up.",
                "when": {
                    "all": [
                        {"outcome": ["screen_negative"]},
                        {"case": "region", "value": "Northshire"},
                    ]
                },
                "refer": [{"service_type": "case_management"}],
            }
        )

    routing_draft_update(by=admin, text=_edited(draft, change))
    draft.refresh_from_db()
    return draft


def test_the_dry_run_finds_the_hand_computed_difference_and_writes_nothing(
    dry_run_draft, admin, officer, supervisor, other_agency, submit, submit_as, start_screening
):
    def new_case(**values):
        return services.case_create(created_by=officer, **{"age": 30, **values})

    s1 = submit(new_case(), POSITIVE)  # legal aid no longer: 1 fewer
    s2 = submit(new_case(), DANGER)  # legal aid no longer, unit urgent → high: 1 fewer, 1 changed
    s3 = submit(new_case(region="Northshire"), NEGATIVE)  # case manager: 1 more
    submit(new_case(age=16), NEGATIVE)  # child welfare either way (the law): no difference
    s5 = submit(new_case(region="Northshire"), POSITIVE)
    services.screening_override(  # the outcome in force is negative: case manager, 1 more
        screening=s5,
        by=supervisor,
        outcome="screen_negative",
        reason_code="professional_judgement",
        note="Fictional override for the test.",
    )
    unsubmitted = new_case(region="Northshire")
    services.consent_record(case=unsubmitted, by=officer, scope="screening", method="verbal")
    start_screening(unsubmitted)  # a draft screening has no result: not in the run
    worker = UserFactory(agency=other_agency)
    elsewhere = services.case_create(created_by=worker, age=30, region="Northshire")
    submit_as(worker, elsewhere, NEGATIVE)  # another agency's: not in the run
    in_force = definition_of(routing_rule_set_current(agency_id=admin.agency_id))
    counts = (Referral.objects.count(), RoutingRuleSet.objects.count())

    run = routing_dry_run(
        agency_id=admin.agency_id, draft=definition_of(dry_run_draft), in_force=in_force, limit=50
    )

    assert run.screenings == 5
    found = {
        difference.case_reference: {(c.service_type, c.kind) for c in difference.changes}
        for difference in run.differences
    }
    assert found == {
        s1.case.reference: {("legal_aid", "removed")},
        s2.case.reference: {("legal_aid", "removed"), ("law_enforcement_atu", "changed")},
        s3.case.reference: {("case_management", "added")},
        s5.case.reference: {("case_management", "added")},
    }
    assert (run.referrals, run.more, run.fewer, run.changed) == (5, 2, 2, 1)
    atu = next(
        c for d in run.differences for c in d.changes if c.service_type == "law_enforcement_atu"
    )
    assert (atu.before.priority, atu.after.priority, atu.what) == (1, 2, ("priority",))
    assert (Referral.objects.count(), RoutingRuleSet.objects.count()) == counts


def test_the_dry_run_reads_the_newest_screenings_in_one_query(
    dry_run_draft, admin, officer, submit, django_assert_num_queries
):
    cases = [services.case_create(created_by=officer, age=30) for _ in range(4)]
    screenings = [submit(case, POSITIVE) for case in cases]
    draft = definition_of(dry_run_draft)
    in_force = definition_of(routing_rule_set_current(agency_id=admin.agency_id))

    with django_assert_num_queries(1):
        run = routing_dry_run(agency_id=admin.agency_id, draft=draft, in_force=in_force, limit=2)
    with django_assert_num_queries(1):
        routing_dry_run(agency_id=admin.agency_id, draft=draft, in_force=in_force, limit=500)

    newest = [s.case.reference for s in screenings[::-1][:2]]
    assert run.screenings == 2
    assert [d.case_reference for d in run.differences] == newest


def test_a_newer_default_version_supersedes_the_older_one_and_is_in_force(routing_rules, admin):
    from referrals.routing import load_routing_file
    from tests.referrals.conftest import DEFAULT_RULES

    v1 = RoutingRuleSet.objects.get(slug="default-routing", number=1)
    v2_definition = load_routing_file(DEFAULT_RULES).model_copy(update={"version": 2})

    routing_rule_set_load(definition=v2_definition)

    v1.refresh_from_db()
    v2 = RoutingRuleSet.objects.get(slug="default-routing", number=2)
    assert (v1.superseded_by, v1.superseded_at) == (v2, v2.published_at)
    assert routing_rule_set_current(agency_id=admin.agency_id) == v2


def test_a_rule_file_cannot_write_an_agencys_line(routing_rules):
    from referrals.routing import load_routing_file
    from tests.referrals.conftest import DEFAULT_RULES

    taken = load_routing_file(DEFAULT_RULES).model_copy(update={"slug": "agency-7-routing"})
    with pytest.raises(PublishedRoutingChanged, match="an agency's own line"):
        routing_rule_set_load(definition=taken)
    assert not RoutingRuleSet.objects.filter(slug="agency-7-routing").exists()
