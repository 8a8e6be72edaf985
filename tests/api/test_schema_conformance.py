"""Schemathesis, generated from the committed contract (docs/openapi.yaml), sent over real HTTP
to the app served by a running server, with a token per role: no request may end in a 5xx, and
every response must match the schema (status codes, content types, headers, bodies). A
schema-valid case is sent by every role, a schema-violating one by one role in turn (`_callers`).

Every built-in check runs (server errors, status codes, content types, headers, bodies,
schema-valid requests accepted and schema-violating ones refused, required headers, allowed
methods, authentication), with the statuses the contract documents for a valid request
refused for a reason the schema cannot see (`CONFIG`). Values only stored data can make
valid (a cursor, the instrument version, consent, case and answers a body names) are taken
from stored data in schema-valid cases (`_with_stored_values`).

Generated path ids almost never name a stored object, so each call with path parameters is
sent a second time with ids of real objects (a case, a contact, screenings, referrals, the
instruments), taken in turn: detail, action and answer endpoints then answer about objects
that exist, for callers who may and may not see them.

The server is pytest-django's `live_server`: Django's threaded WSGI server on a loopback port,
serving the test database. It needs committed data (the test is transactional), so the
fixtures' people, tokens and cases are visible to the server's own database connections on
PostgreSQL; on SQLite the in-memory test database's connection is shared with the server.
(A server in a separate process, e.g. gunicorn, could not reach SQLite's in-memory test
database, so the laptop run would differ from CI's; this one is the same on both.)
"""

import itertools
import threading
from datetime import timedelta
from http.cookiejar import DefaultCookiePolicy
from pathlib import Path

import pytest
import requests
import schemathesis
from django.conf import settings
from django.contrib.auth.models import Group
from django.test.testcases import QuietWSGIRequestHandler
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig

from screening import services
from screening.roles import Role
from screening.services.contacts import TRIAGE_SLUG
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CONTRACT = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"

CONFIG = SchemathesisConfig.from_dict(
    {
        # Every built-in check is on (the default set, when no `checks=` is given).
        "checks": {
            # A well-formed If-Match naming a version that is not the current one is a 412: the
            # contract cannot know which version an object is at. A safety gate answered "no"
            # (not safe to talk, not alone) stops a screening by design: 422 safety-stop.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]
            },
            # A PATCH without If-Match is a 428 Precondition Required (RFC 6585); an object
            # that is missing, or not yours to see, is a 404 first.
            "missing_required_header": {
                "expected-statuses": ["400", "401", "403", "404", "406", "415", "422", "428"]
            },
            # An If-Match that is no ETag at all fails the precondition as well: 412.
            "negative_data_rejection": {
                "expected-statuses": [
                    *("400", "401", "403", "404", "405", "406", "409", "412", "415"),
                    *("422", "428", "429"),
                ]
            },
        },
        # Each call carries a real token of one role (below); generated credentials would
        # be replaced by it and prove nothing.
        "generation": {"with-security-parameters": False},
    }
)

schema = schemathesis.openapi.from_path(CONTRACT, config=CONFIG).exclude(
    # Every token operation but the list is left out on purpose: a generated revoke
    # (`tokens_revoke`) could revoke the very token this run authenticates with, and every
    # later call would be a 401 that proves nothing; `tokens_create` works only from a signed-in
    # browser session (a Bearer caller always gets 403). tests/api/test_tokens_api.py covers
    # them. Any token operation added later is left out too until someone decides otherwise.
    operation_id_regex=r"^tokens_(?!list$)",
)


@pytest.fixture(autouse=True)
def _role_groups(transactional_db):
    """A transactional test ends by flushing every table, the role groups the data migration
    made included: bring them back before the fixtures make people in those roles."""
    for role in Role:
        Group.objects.get_or_create(name=role.value)


@pytest.fixture
def real_ids() -> dict[str, list]:
    """Path parameter → ids of stored objects; filled by `tokens_by_role`."""
    return {}


@pytest.fixture
def tokens_by_role(
    real_ids,
    hotline,
    advocate,
    hotline_supervisor,
    triage_instrument,
    worker,
    start_screening,
    submitted_screening,
    make_referral,
    provider_staff,
) -> dict[str, str]:
    """A token for each kind of caller. The hotline has a contact, cases, a draft and a
    submitted screening, referrals waiting for a decision and one sent to a provider whose
    staff member has a token too. All committed, so the server sees them."""
    people = {
        Role.HOTLINE_STAFF: advocate,
        Role.SUPERVISOR: hotline_supervisor,
        Role.FRONTLINE_OFFICER: worker,
        Role.AGENCY_ADMIN: UserFactory(agency=hotline, role=Role.AGENCY_ADMIN),
        Role.PROVIDER_STAFF: provider_staff,
    }
    case = services.case_create(created_by=advocate, identifying_name="Fictional")
    contact = services.contact_create(
        created_by=advocate, channel="phone", contact_type="tip", case_reference=case.reference
    )
    draft = start_screening(submitted_screening.case)
    # Case work (issue 14): a note, a task, a transfer waiting for an answer, a notification.
    note = services.case_note_add(case=case, by=advocate, kind="other", text="Fictional")
    task = services.case_task_add(
        case=case, by=advocate, description="Call back", due_at=timezone.now() + timedelta(days=1)
    )
    receiving = AgencyFactory(name="Receiving Agency")
    services.consent_record(
        case=case,
        by=advocate,
        scope="referral_provider",
        method="written",
        provider_name=receiving.name,
        valid_until=timezone.now() + timedelta(days=30),
    )
    transfer = services.case_transfer_request(
        case=case, to_agency=receiving, reason="Fictional", by=hotline_supervisor
    )
    (notification,) = services.notification_send(users=[advocate], kind="other", text="Hello")
    referrals = [
        make_referral(),
        make_referral(status="sent", service_type="medical"),
        make_referral(status="failed", service_type="legal_aid"),
    ]
    real_ids.update(
        reference=[case.reference, submitted_screening.case.reference],
        contact_id=[contact.pk],
        screening_id=[submitted_screening.pk, draft.pk],
        referral_id=[referral.pk for referral in referrals],
        # Slug and number go together: pairs at the same index.
        slug=[TRIAGE_SLUG, submitted_screening.instrument_version.instrument.slug],
        number=[1, submitted_screening.instrument_version.number],
        note_id=[note.pk],
        task_id=[task.pk],
        transfer_id=[transfer.pk],
        notification_id=[notification.pk],
        username=[worker.username],
        agency=[receiving.name],
    )
    return {
        role: services.api_token_create(user=user, name="schemathesis").plaintext
        for role, user in people.items()
    }


@pytest.fixture
def http(monkeypatch):
    """The calls of one test share a keep-alive connection, as an integration's HTTP client
    would (and the server thread answering them keeps one database connection, as a
    production worker does). No cookies are kept: every call authenticates by its token.

    Django's test server writes a response's headers and body separately; with Nagle's
    algorithm on, a keep-alive client then waits for a delayed ACK, about 40 ms a call."""
    monkeypatch.setattr(QuietWSGIRequestHandler, "disable_nagle_algorithm", True)
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    yield session
    session.close()
    # The server's request thread now reads end-of-stream and closes its database connection
    # on the way out: wait for that, so no session of it outlives the test (on PostgreSQL an
    # open one keeps the test database from being dropped at the end of the run).
    for thread in threading.enumerate():
        if thread.name.endswith("(process_request_thread)"):
            thread.join(timeout=10)


@schema.parametrize()
@hypothesis_settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors_and_every_response_matches_the_contract(
    case, live_server, tokens_by_role, real_ids, http
):
    cases = [_with_stored_values(case, real_ids)]
    if case.path_parameters:
        with_real_ids = case.derive()
        turn = next(_turns)
        for name in with_real_ids.path_parameters:
            values = real_ids[name]  # a new path parameter needs ids here (KeyError otherwise)
            with_real_ids.path_parameters[name] = values[turn % len(values)]
        # A case negative only through its path (a made-up slug) is positive with real ids:
        # schemathesis judges it again before sending, so its body needs the stored values too.
        case.operation.schema.revalidate_case_metadata(with_real_ids)
        cases.append(_with_stored_values(with_real_ids, real_ids))
    tokens = list(tokens_by_role.values())
    for sent in cases:
        for token in _callers(sent, tokens):
            sent.call_and_validate(
                base_url=live_server.url,
                session=http,
                headers={"Authorization": f"Bearer {token}"},
            )


_turns = itertools.count()
_caller_turns = itertools.count()


def _callers(case, tokens: list[str]) -> list[str]:
    """Who sends `case`: every role when it is schema-valid (what each may do differs), one
    role in turn when it is not. A request the contract forbids is refused (400, 404, 415…)
    whoever sends it, and the turns give each role a share of every operation's invalid
    cases; sending each of them five times made this the slowest test of the suite (about a
    third of its time, most of it the coverage phase's invalid cases)."""
    if case.meta is None or case.meta.generation.mode.is_positive:
        return tokens
    return [tokens[next(_caller_turns) % len(tokens)]]


def _with_stored_values(case, real_ids):
    """A schema-valid case with the values only stored data can make valid taken from it.
    The contract cannot list them, so a generated one is refused (400) however well formed:
    a cursor (only a `next` link carries one), the instrument version a screening uses, the
    consent and the case a body names, answers keyed by an instrument's own items, the people
    and agencies case work names and a due date ahead. A
    case meant to be invalid is sent as generated. tests/api/ covers each refusal itself."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    if case.query:
        case.query.pop("cursor", None)
    if isinstance(case.body, dict):
        body = case.body
        if "instrument" in body:
            body["instrument"], body["instrument_version"] = (
                real_ids["slug"][0],
                real_ids["number"][0],
            )
        for name, stored in (("consent", None), ("case", None), ("triage_answers", None)):
            if name in body:
                body[name] = stored
        if "answers" in body:
            body["answers"] = {}
        # People and agencies are named by their username and name; a task is due ahead.
        for name in ("worker", "assign_to"):
            if body.get(name) is not None:
                body[name] = real_ids["username"][0]
        if "assignee" in body:
            body["assignee"] = None  # the caller: someone on the case
        if "agency" in body:
            body["agency"] = real_ids["agency"][0]
        if "due_at" in body:
            body["due_at"] = (timezone.now() + timedelta(days=1)).isoformat()
    return case
