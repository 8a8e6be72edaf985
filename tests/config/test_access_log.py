"""The access log: every read or write of case data, and every refusal, is one entry naming who,
which route, what and how it ended, and never the path, the query string or case fields.
All people and cases are fictional."""

import io
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, resolve
from django.utils import timezone

from config.access_log import (
    ROUTE_LABELS,
    access_log_draft,
    access_log_note,
    access_log_purge,
    is_recorded_route,
)
from config.models import AccessLogEntry
from screening import services
from screening.models import Agency, Case, Contact
from screening.roles import Role
from tests.api.helpers import client_for
from tests.auth import sign_in
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

FICTIONAL_NAME = "Zofia Fictional-Testperson"
FICTIONAL_NARRATIVE = "A fictional account written only for the access log tests."
CONTACTS = "/api/v1/contacts/"
CRISIS = {
    "channel": "phone",
    "contact_type": "crisis",
    "caller_type": "community_member",
    "exploitation_type": "labour",
    "summary": "Workers locked in at night (fictional).",
}


@pytest.fixture
def hotline() -> Agency:
    return AgencyFactory(name="Access Log Hotline", kind=Agency.Kind.HOTLINE)


@pytest.fixture
def advocate(hotline):
    return UserFactory(agency=hotline, role=Role.HOTLINE_STAFF)


@pytest.fixture
def officer(hotline):
    return UserFactory(agency=hotline, role=Role.FRONTLINE_OFFICER)


@pytest.fixture
def outsider():
    return UserFactory(agency=AgencyFactory(name="Elsewhere"), role=Role.SUPERVISOR)


@pytest.fixture
def case(advocate) -> Case:
    return services.case_create(
        created_by=advocate,
        age=30,
        identifying_name=FICTIONAL_NAME,
        narrative=FICTIONAL_NARRATIVE,
    )


def signed_in(user) -> Client:
    return sign_in(Client(), user)


def only_entry() -> AccessLogEntry:
    entries = list(AccessLogEntry.objects.all())
    assert len(entries) == 1, [(e.route, e.status_code) for e in entries]
    return entries[0]


def stored_values(entry: AccessLogEntry) -> list[str]:
    return [str(getattr(entry, field.attname)) for field in AccessLogEntry._meta.concrete_fields]


# --- what one request records ----------------------------------------------------------------


def test_services_called_outside_a_request_record_nothing(case):
    assert not AccessLogEntry.objects.exists()


def test_reading_a_case_through_the_api_records_who_what_and_the_outcome(advocate, case):
    api = client_for(advocate)
    token = advocate.api_tokens.get()

    assert api.get(f"/api/v1/cases/{case.reference}/").status_code == 200

    entry = only_entry()
    assert entry.user == advocate and entry.agency_id == advocate.agency_id
    assert entry.api_token == token
    assert entry.roles == "hotline_staff"  # held at the time
    assert (entry.method, entry.route) == ("GET", "api-case-detail")
    assert (entry.object_type, entry.object_ref, entry.case_id) == ("case", case.reference, case.pk)
    assert (entry.status_code, entry.outcome) == (200, AccessLogEntry.Outcome.ALLOWED)
    assert entry.client_ip == "127.0.0.1"


def test_reading_a_case_page_records_the_signed_in_user(advocate, case):
    assert signed_in(advocate).get(f"/cases/{case.reference}/").status_code == 200

    entry = only_entry()
    assert entry.user == advocate and entry.api_token is None
    assert (entry.route, entry.case_id, entry.status_code) == (
        "screening:case-detail",
        case.pk,
        200,
    )
    assert entry.outcome == AccessLogEntry.Outcome.ALLOWED


def test_another_agencys_case_is_recorded_as_not_found_against_the_case(outsider, case):
    response = client_for(outsider).get(f"/api/v1/cases/{case.reference}/")
    missing = client_for(outsider).get("/api/v1/cases/C-NONE-XIST/")

    # The answer is the 404 of a missing case; the log knows better, so the case's access
    # history shows the attempt.
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    refused, not_there = AccessLogEntry.objects.order_by("pk")
    assert refused.user == outsider
    assert refused.outcome == AccessLogEntry.Outcome.NOT_FOUND
    assert (refused.object_type, refused.object_ref, refused.case_id) == (
        "case",
        case.reference,
        case.pk,
    )
    assert (not_there.object_type, not_there.object_ref, not_there.case_id) == ("", "", None)


def test_a_role_that_may_not_use_an_endpoint_is_recorded_as_denied(officer):
    assert client_for(officer).get(CONTACTS).status_code == 403

    entry = only_entry()
    assert entry.user == officer and entry.route == "api-contact-list"
    assert (entry.status_code, entry.outcome) == (403, AccessLogEntry.Outcome.DENIED)


def test_a_bad_bearer_token_is_recorded_as_unauthenticated_with_no_user(case):
    response = Client().get(CONTACTS, headers={"Authorization": "Bearer nope.not-a-token"})
    assert response.status_code == 401

    entry = only_entry()
    assert entry.user is None and entry.api_token is None and entry.agency is None
    assert entry.roles == ""
    assert (entry.route, entry.outcome) == ("api-contact-list", "unauthenticated")


def test_a_refusal_outside_case_data_is_recorded_too():
    response = Client().get("/api/v1/instruments/", headers={"Authorization": "Bearer x.y"})
    assert response.status_code == 401
    assert only_entry().route == "instrument-list"


def test_reference_data_and_probes_are_not_recorded(advocate):
    assert client_for(advocate).get("/api/v1/instruments/").status_code == 200
    assert Client().get("/healthz").status_code == 200
    assert not AccessLogEntry.objects.exists()


def test_an_anonymous_visit_to_a_case_page_is_recorded_as_unauthenticated(case):
    assert Client().get(f"/cases/{case.reference}/").status_code == 302

    entry = only_entry()
    assert entry.user is None and entry.case_id is None
    assert entry.outcome == AccessLogEntry.Outcome.UNAUTHENTICATED


def test_a_failed_sign_in_is_recorded_without_the_username(officer):
    response = Client().post(
        "/accounts/login/", {"username": officer.username, "password": "wrong-password"}
    )
    assert response.status_code == 200

    entry = only_entry()
    assert (entry.route, entry.method, entry.outcome) == ("login", "POST", "unauthenticated")
    assert entry.user is None
    assert not any(officer.username in value for value in stored_values(entry))


def test_a_successful_sign_in_is_not_a_failure(officer):
    response = Client().post(
        "/accounts/login/", {"username": officer.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert not AccessLogEntry.objects.exists()


# --- writes ----------------------------------------------------------------------------------


def test_logging_a_contact_records_the_new_contact(advocate):
    response = client_for(advocate).post(CONTACTS, CRISIS, format="json")
    assert response.status_code == 201

    entry = only_entry()
    contact = Contact.objects.get()
    assert (entry.method, entry.route, entry.status_code) == ("POST", "api-contact-list", 201)
    assert (entry.object_type, entry.object_ref) == ("contact", str(contact.pk))


def test_a_contact_that_opens_a_case_names_the_contact_and_its_case(advocate):
    response = client_for(advocate).post(CONTACTS, {**CRISIS, "create_case": True}, format="json")
    assert response.status_code == 201

    entry = only_entry()
    contact = Contact.objects.get()
    assert (entry.object_type, entry.object_ref) == ("contact", str(contact.pk))
    assert entry.case_id == contact.case_id is not None


def test_reading_a_contact_names_it(advocate):
    contact = services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    assert client_for(advocate).get(f"{CONTACTS}{contact.pk}/").status_code == 200
    assert (only_entry().object_type, only_entry().object_ref) == ("contact", str(contact.pk))


def test_an_invalid_write_is_recorded_and_nothing_is_saved(advocate):
    body = {**CRISIS, "case": "C-AAAA-BBBB"}  # no such case
    assert client_for(advocate).post(CONTACTS, body, format="json").status_code == 400

    assert not Contact.objects.exists()
    entry = only_entry()
    assert (entry.status_code, entry.outcome) == (400, AccessLogEntry.Outcome.INVALID)


def test_a_write_that_failed_and_was_rolled_back_is_still_recorded(advocate, monkeypatch):
    create = services.contact_create

    def create_then_fail(**arguments):
        with transaction.atomic():
            create(**arguments)
            raise RuntimeError("a fictional failure after the write")

    monkeypatch.setattr(services, "contact_create", create_then_fail)
    api = client_for(advocate)
    api.raise_request_exception = False

    assert api.post(CONTACTS, CRISIS, format="json").status_code == 500

    assert not Contact.objects.exists()
    entry = only_entry()
    assert (entry.status_code, entry.outcome) == (500, AccessLogEntry.Outcome.ERROR)
    assert entry.user == advocate and entry.object_type == "contact"


# --- what is never recorded, and what it costs ------------------------------------------------


def test_entries_hold_no_path_query_string_or_case_fields(advocate, case):
    page = f"/cases/{case.reference}/"
    signed_in(advocate).get(page, {"lang": "es", "q": FICTIONAL_NAME})
    client_for(advocate).get(f"/api/v1/cases/{case.reference}/?fields={FICTIONAL_NAME}")

    entries = list(AccessLogEntry.objects.all())
    assert len(entries) == 2
    for entry in entries:
        for value in stored_values(entry):
            assert page not in value and "/api/" not in value and "?" not in value
            assert FICTIONAL_NAME not in value and "Fictional" not in value
            assert FICTIONAL_NARRATIVE not in value


def test_logging_a_contact_costs_exactly_one_insert_into_the_access_log(advocate, settings):
    def queries_of_one_post() -> list[str]:
        api = client_for(advocate)
        api.post(CONTACTS, CRISIS, format="json")  # the token's first use is written once
        with CaptureQueriesContext(connection) as queries:
            assert api.post(CONTACTS, CRISIS, format="json").status_code == 201
        return [query["sql"] for query in queries.captured_queries]

    logged = queries_of_one_post()
    settings.MIDDLEWARE = [
        name for name in settings.MIDDLEWARE if name != "config.middleware.AccessLogMiddleware"
    ]
    unlogged = queries_of_one_post()

    table = AccessLogEntry._meta.db_table
    touching = [sql for sql in logged if table in sql]
    assert len(touching) == 1 and touching[0].lstrip().upper().startswith("INSERT")
    assert len(logged) == len(unlogged) + 1


def test_a_database_error_writing_the_entry_still_returns_the_response(
    advocate, case, monkeypatch, caplog
):
    def broken(model, **fields):
        raise DatabaseError("fictional outage")

    monkeypatch.setattr("config.middleware.insert_row", broken)
    with caplog.at_level(logging.WARNING, logger="config.middleware"):
        response = signed_in(advocate).get(f"/cases/{case.reference}/")

    assert response.status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.name == "config.middleware"]
    assert warnings == ["access log entry not recorded: database error"]


# --- which routes are recorded, and how notes combine ----------------------------------------


@pytest.mark.parametrize(
    ("path", "status_code", "recorded"),
    [
        ("/cases/C-AAAA-BBBB/", 200, True),
        ("/", 200, True),
        ("/referrals/queue/", 200, True),
        ("/api/v1/contacts/", 200, True),
        ("/api/v1/cases/C-AAAA-BBBB/", 404, True),
        ("/api/v1/instruments/", 200, False),
        ("/api/v1/instruments/", 403, True),
        ("/api/v1/providers/", 200, False),
        ("/quick-exit", 302, False),
        ("/accounts/login/", 200, False),
        ("/healthz", 403, False),
        ("/api/schema/", 401, False),
    ],
)
def test_case_data_routes_and_refusals_are_recorded(path, status_code, recorded):
    match = resolve(path)
    assert is_recorded_route(match, status_code=status_code, login_failed=False) is recorded


def test_an_unresolved_path_is_not_recorded():
    assert not is_recorded_route(None, status_code=403, login_failed=False)


def test_every_route_label_names_a_real_route():
    def names(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from names(pattern.url_patterns, inner)
            elif pattern.name:
                yield namespace + pattern.name

    assert set(ROUTE_LABELS) <= set(names(get_resolver().url_patterns))


def test_a_case_noted_after_a_more_specific_object_only_sets_the_case():
    with access_log_draft() as draft:
        access_log_note(object_type="screening", object_ref="12", case_id=3)
        access_log_note(object_type="case", object_ref="C-AAAA-BBBB", case_id=4)
    assert (draft.object_type, draft.object_ref, draft.case_id) == ("screening", "12", 4)


def test_noting_outside_a_request_does_nothing():
    access_log_note(object_type="case", object_ref="C-AAAA-BBBB", case_id=1)  # no error


# --- retention ------------------------------------------------------------------------------


def _entry(*, at) -> AccessLogEntry:
    return AccessLogEntry.objects.create(
        at=at, method="GET", route="screening:case-detail", status_code=200, outcome="allowed"
    )


def test_purge_deletes_only_entries_older_than_the_retention_period(settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    now = timezone.now()
    _entry(at=now - timedelta(days=31))
    recent = _entry(at=now - timedelta(days=29))

    assert access_log_purge() == 1
    assert list(AccessLogEntry.objects.all()) == [recent]


def test_the_retention_period_is_read_when_the_purge_runs(settings):
    _entry(at=timezone.now() - timedelta(days=10))
    settings.ACCESS_LOG_RETENTION_DAYS = 11
    assert access_log_purge() == 0
    settings.ACCESS_LOG_RETENTION_DAYS = 9
    assert access_log_purge() == 1


def test_the_purge_command_says_how_many_it_deleted(settings):
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    _entry(at=timezone.now() - timedelta(days=40))
    out = io.StringIO()
    call_command("access_log_purge", stdout=out)
    assert out.getvalue().strip() == "deleted 1 access log entry older than 30 days"


def test_beat_runs_the_purge_task_daily(settings):
    from config.tasks import access_log_purge as task

    entry = settings.CELERY_BEAT_SCHEDULE["core-access-log-purge"]
    assert entry["task"] == task.name == "core.access_log_purge"
    assert entry["schedule"] == 24 * 3600
    settings.ACCESS_LOG_RETENTION_DAYS = 1
    _entry(at=timezone.now() - timedelta(days=2))
    task.delay()
    assert not AccessLogEntry.objects.exists()


# --- admin ----------------------------------------------------------------------------------


def test_the_admin_shows_entries_read_only(advocate, case):
    from screening.models import User

    signed_in(advocate).get(f"/cases/{case.reference}/")
    entry = only_entry()
    admin = sign_in(Client(), User.objects.create_superuser("fictional-admin", password="x" * 16))

    listing = admin.get("/admin/core/accesslogentry/")
    detail = admin.get(f"/admin/core/accesslogentry/{entry.pk}/change/")

    assert listing.status_code == 200 and "screening:case-detail" in listing.content.decode()
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert admin.get("/admin/core/accesslogentry/add/").status_code == 403
    assert admin.get(f"/admin/core/accesslogentry/{entry.pk}/delete/").status_code == 403
