"""The routing rule pages (/agency/routing/): anonymous, wrong role, wrong agency and the
happy path of each; the rules in words; a draft typed or uploaded, its changes, its dry run
and publishing; fixed query counts."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from referrals.models import RoutingRuleSet
from referrals.routing_text import routing_text
from referrals.services.rule_sets import (
    routing_draft_create,
    routing_draft_publish,
    routing_draft_update,
)
from screening import services
from screening.roles import Role
from tests.factories import UserFactory
from tests.html import parse_page
from tests.referrals.conftest import POSITIVE
from tests.referrals.pages.conftest import login_redirect

pytestmark = pytest.mark.django_db

GET_PAGES = [
    "/agency/routing/",
    "/agency/routing/draft/",
    "/agency/routing/draft/changes",
    "/agency/routing/draft/dry-run",
]
POST_PAGES = [
    "/agency/routing/draft/new",
    "/agency/routing/draft/",
    "/agency/routing/draft/upload",
    "/agency/routing/draft/publish",
    "/agency/routing/draft/discard",
]

RULES_PAGE_QUERIES = 11
DRY_RUN_PAGE_QUERIES = 11


@pytest.fixture
def admin(agency):
    return UserFactory(agency=agency, role=Role.AGENCY_ADMIN, first_name="Ada", last_name="Admin")


@pytest.fixture
def other_admin(other_agency):
    return UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN)


def _without_legal_aid(draft: RoutingRuleSet) -> str:
    plain = dict(draft.definition)
    plain["rules"] = [
        {**rule, "refer": [r for r in rule["refer"] if r["service_type"] != "legal_aid"]}
        for rule in plain["rules"]
    ]
    return routing_text(plain)


@pytest.fixture
def draft(routing_rules, admin):
    return routing_draft_create(by=admin)


@pytest.fixture
def edited_draft(draft, admin):
    routing_draft_update(by=admin, text=_without_legal_aid(draft))
    draft.refresh_from_db()
    return draft


def _text(response) -> str:
    return " ".join(parse_page(response.content).nodes)


# --- who may open the pages -----------------------------------------------------------------


@pytest.mark.parametrize("url", GET_PAGES + ["/agency/routing/versions/1/"])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    assert login_redirect(client.get(url), url)


@pytest.mark.parametrize("url", POST_PAGES)
def test_anonymous_posts_are_sent_to_sign_in_and_change_nothing(client, routing_rules, url):
    before = list(RoutingRuleSet.objects.values_list("pk", "status", "content_hash"))
    assert login_redirect(client.post(url, {"text": "title: x"}), url)
    assert list(RoutingRuleSet.objects.values_list("pk", "status", "content_hash")) == before


@pytest.mark.parametrize("role", ["officer", "supervisor", "provider_staff"])
def test_other_roles_are_refused_every_page_and_form(client_for, edited_draft, role, request):
    client = client_for(request.getfixturevalue(role))
    default = RoutingRuleSet.objects.get(agency__isnull=True)
    for url in [*GET_PAGES, f"/agency/routing/versions/{default.pk}/"]:
        assert client.get(url).status_code == 403, url
    for url in POST_PAGES:
        assert client.post(url, {"text": "title: x"}).status_code == 403, url
    edited_draft.refresh_from_db()
    assert edited_draft.status == "draft"


def test_an_administrator_of_another_agency_never_reaches_our_rules(
    client_for, edited_draft, admin, other_admin
):
    routing_draft_publish(by=admin)
    ours = routing_draft_create(by=admin)
    routing_draft_update(
        by=admin, text=_without_legal_aid(ours).replace("Demo routing rules", "Ours, v2")
    )
    published = RoutingRuleSet.objects.get(agency=admin.agency, status="published")
    before = list(
        RoutingRuleSet.objects.filter(agency=admin.agency).values_list(
            "pk", "status", "content_hash", "source_text"
        )
    )
    client = client_for(other_admin)

    for url in [
        f"/agency/routing/versions/{published.pk}/",
        f"/agency/routing/versions/{published.pk}/rules.yaml",
        f"/agency/routing/versions/{ours.pk}/",
        "/agency/routing/draft/",
        "/agency/routing/draft/changes",
        "/agency/routing/draft/dry-run",
    ]:
        assert client.get(url).status_code == 404, url
    for url in POST_PAGES[1:]:  # without a draft of their own, nothing to post to
        response = client.post(
            url, {"text": ours.source_text, "file": SimpleUploadedFile("r.yaml", b"title: x")}
        )
        assert response.status_code == 404, url
    # With a draft of their own, every form works on theirs only.
    assert client.post("/agency/routing/draft/new").status_code == 302
    theirs = RoutingRuleSet.objects.get(agency=other_admin.agency)
    client.post("/agency/routing/draft/", {"text": _without_legal_aid(theirs)})
    client.post("/agency/routing/draft/publish")
    client.post("/agency/routing/draft/new")
    client.post("/agency/routing/draft/discard")
    rules_page = client.get("/agency/routing/")

    assert f"/agency/routing/versions/{published.pk}/" not in rules_page.content.decode()
    assert (
        list(
            RoutingRuleSet.objects.filter(agency=admin.agency).values_list(
                "pk", "status", "content_hash", "source_text"
            )
        )
        == before
    )
    assert RoutingRuleSet.objects.filter(agency=other_admin.agency, status="published").count() == 1


# --- the rules in force ----------------------------------------------------------------------


def test_the_rules_in_force_read_in_words_with_version_hash_and_origin(
    client_for, routing_rules, admin
):
    default = RoutingRuleSet.objects.get(agency__isnull=True)
    response = client_for(admin).get("/agency/routing/")
    text = _text(response)

    assert response.status_code == 200
    assert "In force: the default rules" in text
    assert default.content_hash_shown in text
    assert len(default.content_hash_shown.replace(" ", "")) == 16
    assert "from the deployment's rule file" in text
    assert "A child is referred to child welfare at once" in text
    assert "The screening raised the flag “Under 18”" in text
    assert "The case's age band is “Under 18”" in text
    assert "Child welfare (urgent priority, mandatory: consent cannot block it)" in text
    assert "The outcome in force is “Indicated”, “Serious concern”" in text
    assert "It is not so that the outcome in force is" in text
    assert "Signs of “Debt bondage” are present" in text
    assert "minor_child_welfare" not in text and "service_type" not in text
    assert "Start a draft" in text


def test_the_rules_page_asks_a_fixed_number_of_queries(
    client_for, edited_draft, admin, django_assert_num_queries
):
    client = client_for(admin)
    client.get("/agency/routing/")
    # Session, account, second step, roles, the rules in force, the versions, the draft and
    # the access log's entry, whatever the number of versions.
    with django_assert_num_queries(RULES_PAGE_QUERIES):
        client.get("/agency/routing/")
    routing_draft_publish(by=admin)
    second = routing_draft_create(by=admin)
    routing_draft_update(
        by=admin, text=routing_text({**second.definition, "rules": second.definition["rules"][:2]})
    )
    routing_draft_publish(by=admin)
    with django_assert_num_queries(RULES_PAGE_QUERIES):
        response = client.get("/agency/routing/")
    assert len(re.findall(r'href="/agency/routing/versions/\d+/"', response.content.decode())) == 3


def test_a_version_page_and_its_rule_file(client_for, routing_rules, admin):
    default = RoutingRuleSet.objects.get(agency__isnull=True)
    client = client_for(admin)

    page = client.get(f"/agency/routing/versions/{default.pk}/")
    download = client.get(f"/agency/routing/versions/{default.pk}/rules.yaml")

    assert page.status_code == 200 and "Routing rules, version 1 (in force)" in _text(page)
    assert download["Content-Disposition"] == 'attachment; filename="default-routing.v1.yaml"'
    assert b"key: minor_child_welfare" in download.content
    assert client.get("/agency/routing/versions/999999/").status_code == 404


# --- the draft -------------------------------------------------------------------------------


def test_starting_a_draft_copies_the_rules_in_force_into_the_editor(
    client_for, routing_rules, admin
):
    client = client_for(admin)
    response = client.post("/agency/routing/draft/new")
    assert response.status_code == 302 and response["Location"] == "/agency/routing/draft/"

    page = client.get("/agency/routing/draft/")

    assert page.status_code == 200
    assert "key: minor_child_welfare" in page.content.decode()
    assert client.get("/agency/routing/draft/new")["Location"] == "/agency/routing/"


def test_a_mistake_is_shown_with_its_line_and_field_and_the_text_kept(client_for, draft, admin):
    text = draft.source_text.replace("service_type: medical", "service_type: spa")
    line = next(n for n, row in enumerate(text.splitlines(), start=1) if "spa" in row)

    response = client_for(admin).post("/agency/routing/draft/", {"text": text})

    assert response.status_code == 400
    page = parse_page(response.content)
    (summary,) = page.summary_links
    assert summary[0] == "#id_text"
    assert f"Rules (YAML): line {line}, rules.2.refer.1.service_type: Input should be" in summary[1]
    assert "service_type: spa" in response.content.decode()  # as typed, to correct
    draft.refresh_from_db()
    assert "spa" not in draft.source_text


def test_saving_the_draft_redirects_and_says_so(client_for, draft, admin):
    client = client_for(admin)
    response = client.post("/agency/routing/draft/", {"text": _without_legal_aid(draft)})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "Draft v1 saved." in _text(page)
    draft.refresh_from_db()
    assert "legal_aid" not in str(draft.definition)


def test_a_rule_file_can_be_uploaded(client_for, draft, admin):
    upload = SimpleUploadedFile("ours.yaml", _without_legal_aid(draft).encode())
    response = client_for(admin).post("/agency/routing/draft/upload", {"file": upload})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert "legal_aid" not in str(draft.definition)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("rules.txt", b"title: x", "Choose a file whose name ends in .yaml or .yml."),
        ("big.yaml", b"#" * (64 * 1024 + 1), "larger than 64 KB"),
        ("latin.yaml", "title: caf\xe9".encode("latin-1"), "not UTF-8"),
        ("bad.yaml", b"title: x\nrules: []\n", "line 2, rules: List should have at least 1"),
    ],
)
def test_an_unusable_upload_is_refused_naming_the_file_field(
    client_for, draft, admin, name, content, expected
):
    response = client_for(admin).post(
        "/agency/routing/draft/upload", {"file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 400
    links = parse_page(response.content).summary_links
    assert any(href == "#id_file" and expected in text for href, text in links), links
    draft.refresh_from_db()
    assert "legal_aid" in str(draft.definition)


def test_the_changes_page_lists_rule_by_rule_and_the_text_diff(client_for, edited_draft, admin):
    response = client_for(admin).get("/agency/routing/draft/changes")
    text = _text(response)
    html = response.content.decode()

    assert response.status_code == 200
    assert "0 rules added, 0 removed, 1 changed" in text
    assert "What it refers to" in text
    assert "Legal aid (normal priority)" in text  # in the rule as it was
    assert '<span class="diff-del">-  - {service_type: legal_aid}</span>' in html
    assert "Publish version 1" in text


def test_publishing_puts_the_draft_in_force_with_who_and_when(client_for, edited_draft, admin):
    client = client_for(admin)
    response = client.post("/agency/routing/draft/publish")
    assert response.status_code == 302 and response["Location"] == "/agency/routing/"

    text = _text(client.get("/agency/routing/"))

    assert "Version 1 published" in text
    assert "In force: your agency's own rules" in text
    assert "by Ada Admin" in text
    assert "Legal aid" not in text
    assert client.get("/agency/routing/draft/publish").status_code == 302  # a GET changes nothing


def test_publishing_the_rules_in_force_again_is_refused_clearly(client_for, draft, admin):
    response = client_for(admin).post("/agency/routing/draft/publish")
    assert response.status_code == 400
    (summary,) = parse_page(response.content).summary_links
    assert "Not published: the draft's rules are the same as those in force" in summary[1]
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_discarding_the_draft(client_for, draft, admin):
    response = client_for(admin).post("/agency/routing/draft/discard")
    assert response.status_code == 302
    assert not RoutingRuleSet.objects.filter(pk=draft.pk).exists()


# --- the dry run -----------------------------------------------------------------------------


def test_the_dry_run_page_says_how_many_referrals_would_differ(
    client_for, edited_draft, admin, officer, submit
):
    cases = [services.case_create(created_by=officer, age=30) for _ in range(3)]
    for case in cases:
        submit(case, POSITIVE)

    response = client_for(admin).get("/agency/routing/draft/dry-run?screenings=2")
    text = _text(response)

    assert response.status_code == 200
    assert (
        "This version would have proposed 2 referrals differently in 2 of the last 2 "
        "screenings: 0 more, 2 fewer, 0 with another priority" in text
    )
    assert "Legal aid: would no longer be proposed (was normal priority)" in text
    shown = set(re.findall(r"C-[A-Z0-9]{4}-[A-Z0-9]{4}", text))
    assert shown == {cases[2].reference, cases[1].reference}


def test_the_dry_run_of_the_same_rules_says_nothing_would_differ(
    client_for, draft, admin, officer, submit
):
    submit(services.case_create(created_by=officer, age=30), POSITIVE)
    text = _text(client_for(admin).get("/agency/routing/draft/dry-run"))
    assert "would have proposed the same referrals for each of the last 1 screening." in text


@pytest.mark.parametrize("value", ["0", "501", "many"])
def test_the_dry_run_refuses_a_number_out_of_bounds(client_for, draft, admin, value):
    response = client_for(admin).get(f"/agency/routing/draft/dry-run?screenings={value}")
    assert response.status_code == 400
    assert parse_page(response.content).summary_links[0][0] == "#id_screenings"


def test_the_dry_run_page_asks_a_fixed_number_of_queries(
    client_for, edited_draft, admin, officer, submit, django_assert_num_queries
):
    client = client_for(admin)
    submit(services.case_create(created_by=officer, age=30), POSITIVE)
    client.get("/agency/routing/draft/dry-run")
    with django_assert_num_queries(DRY_RUN_PAGE_QUERIES):  # one for all the screenings
        client.get("/agency/routing/draft/dry-run")
    for _ in range(4):
        submit(services.case_create(created_by=officer, age=30), POSITIVE)
    with django_assert_num_queries(DRY_RUN_PAGE_QUERIES):
        response = client.get("/agency/routing/draft/dry-run")
    assert "in 5 of the last 5 screenings" in _text(response)


def test_the_changes_page_warns_when_the_rules_in_force_changed_since_the_draft(
    client_for, edited_draft, admin
):
    from referrals.routing import load_routing_file
    from referrals.services.seeds import routing_rule_set_load
    from tests.referrals.conftest import DEFAULT_RULES

    client = client_for(admin)
    assert "changed after this draft was started" not in _text(
        client.get("/agency/routing/draft/changes")
    )
    newer = load_routing_file(DEFAULT_RULES).model_copy(update={"version": 2})
    routing_rule_set_load(definition=newer)

    text = _text(client.get("/agency/routing/draft/changes"))

    assert "The rules in force changed after this draft was started" in text
    assert "the default rules, version 2" in text
