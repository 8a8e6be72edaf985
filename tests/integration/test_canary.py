"""The canary: distinctive fictional strings go into every identifying and free-text field, the
real flows run (API, pages, services, Celery, a webhook), and then the strings must appear
nowhere they should not: in no column of any table (every text, varchar, json and jsonb
column, read with SQL, history tables included), no log record, no Celery message, no error
body, no page title, no URL and no email. The one place they may go is the provider a
consent names: its webhook receives exactly the identifying fields that consent covers.

Runs on PostgreSQL (CI): it reads the columns as the production database stores them.
"""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta

import celery.app.task
import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from config.models import IdempotencyRecord
from referrals.models import Referral, ReferralEvent, ReferralStatus, ServiceProvider
from referrals.routing import load_routing_file
from referrals.services import referral_approve, referral_decline
from referrals.services.seeds import routing_rule_set_load
from referrals.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from screening import services
from screening.api.views import ContactCreateApi
from screening.models import Agency, Case, Consent, Contact, Screening
from screening.roles import Role
from tests.api.helpers import client_for
from tests.auth import sign_in
from tests.conftest import _unavailable
from tests.factories import AgencyFactory, UserFactory
from tests.referrals.conftest import DEFAULT_RULES, SECRET, make_provider
from tests.referrals.receiver import start_receiver
from tests.screening.conftest import FLAG_SCREEN

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# --- the canaries ---------------------------------------------------------------------------
# field -> (the value entered, what must never be found outside the ciphertext: the value,
# its invented words, and the normalised forms the duplicate index hashes).
NAME = "Zorblax Quimbleton"
PHONE = "+44 7700 900555"
NARRATIVE = "Kept at the Vrondelfish cannery and paid nothing"
CANARIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "case.identifying_name": (NAME, ("Zorblax", "Quimbleton")),
    "case.identifying_phone": (
        PHONE,
        ("7700 900555", "+447700900555", "447700900555", "07700900555", "7700900555"),
    ),
    "case.identifying_documents": ("Passport QZX998877, held by the boss", ("QZX998877",)),
    "case.narrative": (NARRATIVE, ("Vrondelfish",)),
    "case.nationality": ("Quelmarian", ("Quelmarian",)),
    "case.close_reason": ("Moved to Plinkertock with family", ("Plinkertock",)),
    "case.legal_hold_reason": ("Evidence in the Snorvelhaus proceedings", ("Snorvelhaus",)),
    "case_share.reason": ("Placement at Wobblethorne house", ("Wobblethorne",)),
    "contact.summary": ("Caller says workers at Grizzlewump farm", ("Grizzlewump",)),
    "contact.situation_location": ("Trundlebeck quarry, back gate", ("Trundlebeck",)),
    "contact.caller_name": ("Yestrid Mallowbank", ("Yestrid", "Mallowbank")),
    "contact.caller_phone": (
        "+44 7700 900556",
        ("7700 900556", "+447700900556", "447700900556", "07700900556", "7700900556"),
    ),
    "consent.witness": ("Ottoline Brackenfudge", ("Ottoline", "Brackenfudge")),
    "consent.withdrawal_note": ("Changed her mind after Fizzlethorpe", ("Fizzlethorpe",)),
    "screening.review_note": ("Reviewed with Kazoobrine", ("Kazoobrine",)),
    "screening.void_reason": ("Started for Dramblewick by mistake", ("Dramblewick",)),
    "override.note": ("Context from Quaffleton interview", ("Quaffleton",)),
    "referral_event.approve_note": ("Approved after Plumbrick call", ("Plumbrick",)),
    "referral_event.decline_note": ("Declined: Spindlecrux conflict", ("Spindlecrux",)),
    "referral_event.provider_note": ("Bed ready at Marrowgast", ("Marrowgast",)),
}


def value(field: str) -> str:
    return CANARIES[field][0]


def _needles() -> dict[str, str]:
    """Lower-cased needle -> the field it comes from."""
    return {
        needle.lower(): field
        for field, (entered, marks) in CANARIES.items()
        for needle in (entered, *marks)
    }


NEEDLES = _needles()


def leaks(text: str) -> list[str]:
    """The canary fields `text` shows (case-insensitive)."""
    lowered = text.lower()
    return sorted({field for needle, field in NEEDLES.items() if needle in lowered})


# Fields a consent naming the provider lets the packet carry (referrals/services/delivery.py).
DISCLOSED_WITH_PROVIDER_CONSENT = {
    "name": value("case.identifying_name"),
    "phone": value("case.identifying_phone"),
    "narrative": value("case.narrative"),
}

POSITIVE = {"ran_away": "yes", "police_contact": "yes", "injury": "no", "in_danger_now": "no"}


# --- what the test watches ------------------------------------------------------------------


@pytest.fixture
def postgresql():
    if connection.vendor != "postgresql":
        _unavailable(
            "the canary test needs PostgreSQL: it reads every text, varchar, json and jsonb "
            "column as production stores them (SQLite has no column types to find them by); "
            "run it with DATABASE_URL=postgres://…"
        )


@pytest.fixture
def celery_messages(monkeypatch) -> list[dict]:
    """Every task sent (name, args, kwargs, options), eager or not."""
    sent: list[dict] = []
    original = celery.app.task.Task.apply_async

    def apply_async(self, args=None, kwargs=None, **options):
        sent.append({"task": self.name, "args": args, "kwargs": kwargs, "options": options})
        return original(self, args, kwargs, **options)

    monkeypatch.setattr(celery.app.task.Task, "apply_async", apply_async)
    return sent


@pytest.fixture
def receiver():
    receiver, server = start_receiver(SECRET)
    yield receiver
    server.shutdown()
    server.server_close()


class Watched:
    """Every response the test got: error bodies, page titles and URLs are checked."""

    def __init__(self) -> None:
        self.error_bodies: list[tuple[str, str]] = []
        self.titles: list[tuple[str, str]] = []
        self.urls: list[str] = []

    def saw(self, method: str, path: str, response):
        self.urls.append(path)
        if response.has_header("Location"):
            self.urls.append(response["Location"])
        body = response.content.decode()
        if response.status_code >= 400:
            self.error_bodies.append((f"{method} {path} {response.status_code}", body))
        if title := re.search(r"<title>(.*?)</title>", body, re.S):
            self.titles.append((path, title.group(1)))
        return response


def _stored_text() -> Iterator[tuple[str, str, str]]:
    """(table, column, value) for every non-null value of every text, varchar, char, json,
    jsonb and array column of every table, as PostgreSQL returns it cast to text. Session
    data is decoded too (it is base64-encoded JSON)."""
    with connection.cursor() as cursor:
        tables = {
            info.name
            for info in connection.introspection.get_table_list(cursor)
            if info.type == "t"
        }
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type IN "
            "('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY')"
        )
        columns: dict[str, list[str]] = defaultdict(list)
        for table, column in cursor.fetchall():
            if table in tables:
                columns[table].append(column)
        quote = connection.ops.quote_name
        for table, names in sorted(columns.items()):
            for column in names:
                cursor.execute(
                    f"SELECT {quote(column)}::text FROM {quote(table)} "  # noqa: S608 (names from the catalogue, quoted)
                    f"WHERE {quote(column)} IS NOT NULL"
                )
                for (text,) in cursor.fetchall():
                    if table == "django_session" and column == "session_data":
                        text = json.dumps(SessionStore().decode(text), default=str)
                    yield table, column, text


def _log_text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), record.exc_text or ""]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


# --- the flows ------------------------------------------------------------------------------


@pytest.fixture
def world(tmp_path):
    """Two agencies and their staff, the fictional instrument, the demo routing rules and
    four providers (two webhooks on the local receiver)."""
    path = tmp_path / "test-flag-screen.v1.yaml"
    path.write_text(FLAG_SCREEN.format(version=1, status="published"))
    call_command("load_instruments", str(path), stdout=io.StringIO())
    routing_rule_set_load(definition=load_routing_file(DEFAULT_RULES))
    agency = AgencyFactory(name="Canary Agency", kind=Agency.Kind.HOTLINE)
    partner = AgencyFactory(name="Partner Agency")
    return {
        "agency": agency,
        "partner": partner,
        "officer": UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER),
        "advocate": UserFactory(agency=agency, role=Role.HOTLINE_STAFF),
        "supervisor": UserFactory(agency=agency, role=Role.SUPERVISOR),
    }


def _signed_callback(client: Client, provider: ServiceProvider, data: dict):
    body = json.dumps(data).encode()
    timestamp = str(int(time.time()))
    headers = {
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret=SECRET, timestamp=timestamp, body=body),
    }
    path = f"/referrals/callbacks/providers/{provider.slug}/answers"
    return path, client.post(path, body, content_type="application/json", headers=headers)


def test_canary_strings_are_nowhere_but_in_the_consented_packet(
    postgresql, world, receiver, celery_messages, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own loggers stop at INFO
    # Every statement and its parameters logged (django.db.backends, DEBUG): values must be
    # sealed before they reach the database driver, not only in the table.
    monkeypatch.setattr(connections["default"], "force_debug_cursor", True)
    watched = Watched()
    officer, advocate, supervisor = world["officer"], world["advocate"], world["supervisor"]
    shelter = make_provider(
        slug="canary-shelter", service_types=["shelter"], webhook_url=receiver.url
    )
    make_provider(slug="canary-clinic", service_types=["medical"], webhook_url=receiver.url)
    make_provider(slug="canary-legal", service_types=["legal_aid"])
    make_provider(slug="canary-cm", service_types=["case_management"])

    officer_api = client_for(officer)
    advocate_api = client_for(advocate)
    supervisor_api = client_for(supervisor)
    officer_page = sign_in(Client(), officer)
    supervisor_page = sign_in(Client(), supervisor)

    def call(client, method: str, path: str, body=None, **headers):
        if isinstance(client, APIClient):
            response = getattr(client, method)(path, body, format="json", headers=headers)
        else:
            response = getattr(client, method)(path, body or {}, headers=headers)
        return watched.saw(method.upper(), path, response)

    # The case, through the API (with a retry: the idempotency record stores the response).
    new_case = {
        "age": 30,
        "gender": "female",
        "languages": ["en"],
        "region": "Northshire",
        "exploitation_type": "labour",
        "safe_to_contact": "yes",
        "nationality": value("case.nationality"),
        "identifying_name": value("case.identifying_name"),
        "identifying_phone": value("case.identifying_phone"),
        "identifying_documents": value("case.identifying_documents"),
        "narrative": value("case.narrative"),
    }
    created = call(officer_api, "post", "/api/v1/cases/", new_case, **{"Idempotency-Key": "c-1"})
    assert created.status_code == 201, created.content
    again = call(officer_api, "post", "/api/v1/cases/", new_case, **{"Idempotency-Key": "c-1"})
    assert again.json() == created.json()
    case = Case.objects.get()
    reference = case.reference
    assert case.identifying_name == NAME  # the service stored what the API was given

    # The hotline contact, through the API, linked to the case (a supervisor sees the case).
    contact_body = {
        "channel": "phone",
        "contact_type": "crisis",
        "caller_type": "possible_victim",
        "language": "en",
        "caller_region": "Northshire",
        "situation_location": value("contact.situation_location"),
        "summary": value("contact.summary"),
        "case": reference,
    }
    caller = {
        "caller_name": value("contact.caller_name"),
        "caller_phone": value("contact.caller_phone"),
    }
    api_takes_caller = set(caller) <= set(ContactCreateApi.InputSerializer().fields)
    if api_takes_caller:
        contact_body |= caller
    logged = call(
        supervisor_api, "post", "/api/v1/contacts/", contact_body, **{"Idempotency-Key": "k"}
    )
    assert logged.status_code == 201, logged.content
    contact = Contact.objects.get()
    if not api_takes_caller:
        # Older API without the caller fields: the model seals them all the same.
        for name, entered in caller.items():
            setattr(contact, name, entered)
        contact.save()
    contact.refresh_from_db()
    assert (contact.caller_name, contact.summary) == (
        value("contact.caller_name"),
        value("contact.summary"),
    )

    # Consents: screening (service), two referral releases and one to withdraw (pages).
    screening_consent = services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.SCREENING,
        method=Consent.Method.VERBAL,
        witness=value("consent.witness"),
    )
    until = (timezone.localdate() + timedelta(days=60)).isoformat()
    for release in (
        {"scope": "referral_provider", "provider_name": shelter.name},
        {"scope": "referral_service_type", "service_type": "medical"},
        {"scope": "referral_service_type", "service_type": "legal_aid"},
        {"scope": "law_enforcement_sharing"},
    ):
        form = {"method": "written", "valid_until": until, "witness": value("consent.witness")}
        response = call(officer_page, "post", f"/cases/{reference}/consents/new", form | release)
        assert response.status_code == 302, response.content.decode()[:2000]
    law_enforcement = Consent.objects.get(case=case, scope=Consent.Scope.LAW_ENFORCEMENT_SHARING)
    response = call(
        officer_page,
        "post",
        f"/cases/{reference}/consents/{law_enforcement.pk}/withdraw",
        {"note": value("consent.withdrawal_note")},
    )
    assert response.status_code == 302
    law_enforcement.refresh_from_db()
    assert law_enforcement.withdrawal_note == value("consent.withdrawal_note")

    # The screening, through the API: start, an answer the instrument refuses, answers, submit.
    start = {
        "instrument": "test-flag-screen",
        "instrument_version": 1,
        "setting": "station",
        "safe_to_talk": "yes",
        "alone": "yes",
        "consent": screening_consent.pk,
    }
    started = call(officer_api, "post", f"/api/v1/cases/{reference}/screenings/", start)
    assert started.status_code == 201, started.content
    screening_id = started.json()["id"]
    answers_url = f"/api/v1/screenings/{screening_id}/answers"
    refused = call(
        officer_api,
        "patch",
        answers_url,
        {"answers": {"sleeping_place": NAME}},
        **{"If-Match": "*"},
    )
    assert refused.status_code == 400
    saved = call(officer_api, "patch", answers_url, {"answers": POSITIVE}, **{"If-Match": "*"})
    assert saved.status_code == 200, saved.content
    # Routing runs in the submit's on_commit (eager Celery), proposing referrals.
    submitted = call(officer_api, "post", f"/api/v1/screenings/{screening_id}/submit")
    assert submitted.status_code == 200, submitted.content
    referrals = {r.service_type: r for r in Referral.objects.filter(screening_id=screening_id)}
    assert referrals["shelter"].status == ReferralStatus.PENDING_APPROVAL
    assert referrals["medical"].status == ReferralStatus.PENDING_APPROVAL
    assert referrals["legal_aid"].status == ReferralStatus.PENDING_APPROVAL
    assert referrals["case_management"].status == ReferralStatus.BLOCKED_NEEDS_CONSENT

    # The supervisor reviews, overrides, approves two (dispatched to the receiver), declines one.
    screening = Screening.objects.get(pk=screening_id)
    services.screening_review(
        screening=screening, by=supervisor, note=value("screening.review_note")
    )
    services.screening_override(
        screening=screening,
        by=supervisor,
        outcome="screen_negative",
        reason_code="professional_judgement",
        note=value("override.note"),
    )
    for service_type in ("shelter", "medical"):
        referral_approve(
            referral_id=referrals[service_type].pk,
            by=supervisor,
            note=value("referral_event.approve_note"),
        )
    referral_decline(
        referral_id=referrals["legal_aid"].pk,
        by=supervisor,
        reason_code=Referral.DeclineReason.OTHER,
        note=value("referral_event.decline_note"),
    )
    assert receiver.wait_for(2, timeout=10), receiver.statuses
    for service_type in ("shelter", "medical"):
        referrals[service_type].refresh_from_db()
        assert referrals[service_type].status == ReferralStatus.SENT

    # The shelter answers through its signed callback, once with an answer it may not give.
    callback = {
        "event_id": "evt-canary-1",
        "referral": referrals["shelter"].idempotency_key,
        "answer": "acknowledge",
        "note": value("referral_event.provider_note"),
    }
    path, answered = _signed_callback(Client(), shelter, callback)
    watched.saw("POST", path, answered)
    assert answered.status_code == 200, answered.content
    path, refused = _signed_callback(
        Client(), shelter, callback | {"event_id": "evt-canary-2", "answer": "teleport"}
    )
    watched.saw("POST", path, refused)
    assert refused.status_code == 400

    # Pages the staff read while the case is open: titles and URLs are checked too.
    for client, path in (
        (officer_page, f"/cases/{reference}/"),
        (officer_page, f"/screenings/{screening_id}/"),
        (supervisor_page, f"/referrals/{referrals['shelter'].pk}/"),
        (supervisor_page, "/referrals/queue/"),
    ):
        response = call(client, "get", path)
        assert response.status_code == 200, path
    assert len(watched.titles) >= 4

    # A second screening started in error and voided; the case shared, closed, put on hold.
    draft = services.screening_start(
        case=case,
        by=officer,
        instrument_version=screening.instrument_version,
        setting="station",
        safe_to_talk="yes",
        alone="yes",
    )
    services.screening_void(screening=draft, by=officer, reason=value("screening.void_reason"))
    services.case_share(
        case=case, agency=world["partner"], reason=value("case_share.reason"), by=supervisor
    )
    services.case_close(case=case, by=supervisor, reason=value("case.close_reason"))
    _legal_hold_set(case, supervisor, value("case.legal_hold_reason"))

    # API errors with canary values in the request: refusals must not echo them.
    errors = [
        (officer_api, "/api/v1/cases/", new_case | {"age": 200}),
        (officer_api, "/api/v1/cases/", new_case | {"gender": NAME}),
        (officer_api, "/api/v1/cases/", new_case | {"exploitation_type": value("case.narrative")}),
        (officer_api, "/api/v1/cases/", new_case | {"languages": NAME}),
        (supervisor_api, "/api/v1/contacts/", contact_body | {"channel": "pigeon"}),
        (supervisor_api, "/api/v1/contacts/", contact_body | {"contact_type": NAME}),
        (advocate_api, "/api/v1/contacts/", contact_body | {"case": NAME}),
    ]
    for client, path, body in errors:
        response = call(client, "post", path, body)
        assert 400 <= response.status_code < 500, (path, response.status_code)

    # A forced exception after the canary was posted: a library error quoting its input.
    def contact_create_failing(**fields):
        return int(fields["summary"])  # ValueError: invalid literal for int() ... '<summary>'

    with monkeypatch.context() as patched:
        patched.setattr(services, "contact_create", contact_create_failing)
        supervisor_api.raise_request_exception = False
        crashed = call(supervisor_api, "post", "/api/v1/contacts/", contact_body)
    assert crashed.status_code == 500

    # --- what must hold -----------------------------------------------------------------------
    # Every canary was stored (read back through the models): absent in plain text means
    # sealed, not dropped.
    assert _stored_canaries(Case.objects.get(pk=case.pk)) == set(CANARIES)

    found: dict[str, list[str]] = defaultdict(list)
    stored_values = 0
    tables_read: set[str] = set()
    for table, column, text in _stored_text():
        stored_values += 1
        tables_read.add(table)
        for field in leaks(text):
            found[f"table {table}.{column}"].append(field)
    # The reader reads: the sealed values and their history rows are among what it saw.
    assert {"screening_case", "screening_historicalcase", "referrals_referralevent"} <= tables_read
    assert stored_values > 100
    assert IdempotencyRecord.objects.filter(object_type="case").exists()

    for record in caplog.records:
        for field in leaks(_log_text(record)):
            found[f"log {record.name} {record.levelname}"].append(field)
    assert {"django.request", "django.db.backends"} <= {record.name for record in caplog.records}

    for message in celery_messages:
        for field in leaks(json.dumps(message, default=str)):
            found[f"celery {message['task']}"].append(field)
    assert {m["task"] for m in celery_messages} >= {
        "referrals.route_screening",
        "referrals.dispatch_referral",
    }

    for where, body in watched.error_bodies:
        for field in leaks(body):
            found[f"error body {where}"].append(field)
    assert len(watched.error_bodies) >= len(errors) + 2
    for path, title in watched.titles:
        for field in leaks(title):
            found[f"title of {path}"].append(field)
    for url in watched.urls:
        for field in leaks(url):
            found[f"url {url}"].append(field)
    for email in mail.outbox:
        for field in leaks(f"{email.subject}\n{email.body}\n{email.alternatives}"):
            found[f"email to {email.to}"].append(field)

    # The one consented disclosure: the shelter's packet carries what its release covers.
    packets = {delivery.body["service_type"]: delivery for delivery in receiver.deliveries}
    assert set(packets) == {"shelter", "medical"}
    assert all(delivery.signature_ok for delivery in packets.values())
    shelter_packet = packets["shelter"].body
    assert {name: shelter_packet[name] for name in DISCLOSED_WITH_PROVIDER_CONSENT} == (
        DISCLOSED_WITH_PROVIDER_CONSENT
    )
    rest = {k: v for k, v in shelter_packet.items() if k not in DISCLOSED_WITH_PROVIDER_CONSENT}
    for field in leaks(json.dumps(rest)):
        found["the shelter's packet, beyond its release"].append(field)
    # A release for a type of service carries nothing identifying.
    for field in leaks(json.dumps(packets["medical"].body)):
        found["the clinic's packet (service-type release)"].append(field)

    assert not dict(found), "canary strings found:\n" + "\n".join(
        f"  {where}: {', '.join(sorted(set(fields)))}" for where, fields in sorted(found.items())
    )


def _stored_canaries(case: Case) -> set[str]:
    """The canary fields whose value reads back from the database, decrypted."""
    contact = case.contacts.get()
    screenings = list(case.screenings.all())
    stored = {
        "case.identifying_name": case.identifying_name,
        "case.identifying_phone": case.identifying_phone,
        "case.identifying_documents": case.identifying_documents,
        "case.narrative": case.narrative,
        "case.nationality": case.nationality,
        "case.close_reason": case.close_reason,
        "case.legal_hold_reason": case.legal_hold_reason,
        "contact.summary": contact.summary,
        "contact.situation_location": contact.situation_location,
        "contact.caller_name": contact.caller_name,
        "contact.caller_phone": contact.caller_phone,
    }
    found = {field for field, text in stored.items() if text == value(field)}
    others = {
        "case_share.reason": [share.reason for share in case.shares.all()],
        "consent.witness": [consent.witness for consent in case.consents.all()],
        "consent.withdrawal_note": [consent.withdrawal_note for consent in case.consents.all()],
        "screening.review_note": [screening.review_note for screening in screenings],
        "screening.void_reason": [screening.void_reason for screening in screenings],
        "override.note": [o.note for s in screenings for o in s.overrides.all()],
    }
    notes = [event.note for event in ReferralEvent.objects.filter(referral__case=case)]
    for field in ("approve_note", "decline_note", "provider_note"):
        others[f"referral_event.{field}"] = notes
    found |= {field for field, texts in others.items() if value(field) in texts}
    return found


def _legal_hold_set(case: Case, by, reason: str) -> None:
    """Through the legal-hold service where it exists; otherwise on the model (sealed the same)."""
    try:
        from screening.services.legal_hold import case_legal_hold_set
    except ImportError:
        case.legal_hold_at, case.legal_hold_by, case.legal_hold_reason = timezone.now(), by, reason
        case.save(update_fields=["legal_hold_at", "legal_hold_by", "legal_hold_reason"])
        return
    case_legal_hold_set(case=case, by=by, reason=reason)
