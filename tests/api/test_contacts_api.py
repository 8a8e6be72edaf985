"""POST/GET/PATCH /api/v1/contacts/ and /finalise: hotline staff log contacts."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.models import AccessLogEntry, IdempotencyRecord
from screening import services
from screening.contacts import contact_list
from screening.models import Contact
from tests.api.helpers import assert_problem, client_for, error_fields
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"
CRISIS = {
    "channel": "phone",
    "contact_type": "crisis",
    "caller_type": "community_member",
    "language": "en",
    "caller_region": "Northshire",
    "immediate_danger": True,
    "exploitation_type": "labour",
    "situation_location": "A fictional farm near a fictional town",
    "summary": "Workers locked in at night (fictional).",
}


def detail_url(contact_id: int) -> str:
    return f"{URL}{contact_id}/"


def log(api, body=None, **headers):
    return api.post(URL, body or CRISIS, format="json", headers=headers)


# --- create ---------------------------------------------------------------------------------


def test_logging_a_crisis_contact_returns_it_with_location_and_etag(api, advocate):
    response = log(api)
    assert response.status_code == 201, response.content
    body = response.json()
    contact = Contact.objects.get()
    assert body["id"] == contact.pk
    assert response["Location"] == detail_url(contact.pk)
    assert response["ETag"] == '"v1"'
    assert body["status"] == "draft"
    assert body["immediate_danger"] is True
    assert body["summary"] == CRISIS["summary"]
    assert body["triage"] is None and body["case"] is None
    assert contact.agency == advocate.agency and contact.created_by == advocate


def test_an_anonymous_caller_needs_no_details_at_all(api):
    response = log(api, {"channel": "text", "contact_type": "tip"})
    assert response.status_code == 201
    assert response.json()["caller_type"] == "anonymous"


def test_triage_answers_are_scored_with_the_contacts_own_fields(api, triage_instrument):
    response = log(api, {**CRISIS, "triage_answers": {"needs_response_24h": "yes"}})
    assert response.status_code == 201, response.content
    triage = response.json()["triage"]
    assert triage["instrument"] == "hotline-triage"
    assert triage["outcome"] == "crisis"
    assert "immediate_danger" in triage["result"]["flags"]


def test_a_tip_with_no_danger_triages_as_priority(api, triage_instrument):
    body = {"channel": "web_form", "contact_type": "tip"}
    response = log(api, {**body, "triage_answers": {"needs_response_24h": "no"}})
    assert response.json()["triage"]["outcome"] == "priority"


def test_triage_answers_contradicting_the_contact_are_400(api, triage_instrument):
    response = log(api, {**CRISIS, "triage_answers": {"immediate_danger": "no"}})
    assert_problem(response, 400)
    assert error_fields(response) == ["triage_answers.immediate_danger"]
    assert not Contact.objects.exists()


def test_unknown_triage_items_are_400_naming_them(api, triage_instrument):
    response = log(api, {**CRISIS, "triage_answers": {"no_such_item": "yes"}})
    assert_problem(response, 400)
    assert error_fields(response) == ["triage_answers.no_such_item"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "pigeon"}, "channel"),
        ({"contact_type": None}, "contact_type"),
        ({"immediate_danger": "maybe"}, "immediate_danger"),
        ({"caller_region": "x" * 101}, "caller_region"),
    ],
)
def test_invalid_fields_are_400_problems_naming_the_field(api, change, field):
    response = log(api, {**CRISIS, **change})
    body = assert_problem(response, 400)
    assert field in error_fields(response)
    # Nothing the client sent is echoed back: errors may be logged by either side.
    assert CRISIS["summary"] not in str(body) and "pigeon" not in str(body)
    assert not Contact.objects.exists()


def test_a_contact_links_a_case_the_agency_can_see(api, case_of_hotline):
    response = log(api, {**CRISIS, "case": case_of_hotline.reference})
    assert response.status_code == 201
    assert response.json()["case"] == case_of_hotline.reference


def test_a_case_of_another_agency_cannot_be_linked(api, outsider):
    foreign = services.case_create(created_by=outsider)
    response = log(api, {**CRISIS, "case": foreign.reference})
    assert_problem(response, 400)
    assert error_fields(response) == ["case"]


def test_a_contact_about_a_minor_can_open_a_case_with_a_mandatory_report(api, advocate):
    response = log(api, {**CRISIS, "minor_involved": True, "create_case": True})
    assert response.status_code == 201
    contact = Contact.objects.select_related("case").get()
    assert response.json()["case"] == contact.case.reference
    assert contact.case.agency == advocate.agency
    assert contact.case.mandatory_report_required


# --- who may ----------------------------------------------------------------------------------


def test_anonymous_requests_are_401_with_a_bearer_challenge(anonymous, advocate):
    contact = services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    for response in (
        anonymous.get(URL),
        anonymous.post(URL, CRISIS, format="json"),
        anonymous.get(detail_url(contact.pk)),
        anonymous.patch(detail_url(contact.pk), {}, format="json"),
        anonymous.post(f"{detail_url(contact.pk)}finalise"),
    ):
        assert_problem(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_roles_other_than_hotline_staff_and_supervisors_get_403(hotline_officer, advocate):
    contact = services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    officer = client_for(hotline_officer)
    assert_problem(officer.get(URL), 403)
    assert_problem(log(officer), 403)
    assert_problem(officer.get(detail_url(contact.pk)), 403)
    assert not Contact.objects.exclude(pk=contact.pk).exists()


def test_a_supervisor_of_the_agency_may_work_with_its_contacts(hotline_supervisor, advocate):
    contact = services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    supervisor = client_for(hotline_supervisor)
    assert supervisor.get(detail_url(contact.pk)).status_code == 200
    assert supervisor.post(f"{detail_url(contact.pk)}finalise").status_code == 200


def test_another_agencys_contact_is_404_like_a_missing_one(api, outsider):
    foreign = services.contact_create(created_by=outsider, channel="chat", contact_type="tip")
    for response in (
        api.get(detail_url(foreign.pk)),
        api.patch(
            detail_url(foreign.pk), {"summary": "x"}, format="json", headers={"If-Match": '"v1"'}
        ),
        api.patch(detail_url(foreign.pk), {"summary": "x"}, format="json"),  # 404 before 428
        api.post(f"{detail_url(foreign.pk)}finalise"),
        api.get(detail_url(999999)),
    ):
        assert_problem(response, 404)
    foreign.refresh_from_db()
    assert foreign.summary == "" and foreign.is_draft


# --- update and finalise ------------------------------------------------------------------------


@pytest.fixture
def draft(api):
    return Contact.objects.get(pk=log(api).json()["id"])


def test_patch_without_if_match_is_428(api, draft):
    assert_problem(api.patch(detail_url(draft.pk), {"summary": "new"}, format="json"), 428)
    draft.refresh_from_db()
    assert draft.summary == CRISIS["summary"]


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(api, draft):
    first = api.patch(
        detail_url(draft.pk), {"summary": "first"}, format="json", headers={"If-Match": '"v1"'}
    )
    assert first.status_code == 200 and first["ETag"] == '"v2"'
    stale = api.patch(
        detail_url(draft.pk), {"summary": "second"}, format="json", headers={"If-Match": '"v1"'}
    )
    assert_problem(stale, 412)
    draft.refresh_from_db()
    assert draft.summary == "first" and draft.version == 2


def test_patch_with_the_current_etag_updates_the_draft(api, draft, triage_instrument):
    response = api.patch(
        detail_url(draft.pk),
        {
            "immediate_danger": False,
            "contact_type": "tip",
            "triage_answers": {"needs_response_24h": "no"},
        },
        format="json",
        headers={"If-Match": api.get(detail_url(draft.pk))["ETag"]},
    )
    assert response.status_code == 200, response.content
    assert response.json()["triage"]["outcome"] == "priority"
    assert response.json()["version"] == 2


def test_patch_validates_like_create(api, draft):
    response = api.patch(
        detail_url(draft.pk), {"channel": "pigeon"}, format="json", headers={"If-Match": '"v1"'}
    )
    assert_problem(response, 400)
    assert error_fields(response) == ["channel"]


def test_finalise_closes_the_contact_and_is_safe_to_retry(api, draft):
    url = f"{detail_url(draft.pk)}finalise"
    first = api.post(url)
    assert first.status_code == 200
    assert first.json()["status"] == "finalised" and first.json()["finalised_at"]
    again = api.post(url)
    assert again.status_code == 200 and again.json() == first.json()


def test_finalise_with_a_stale_etag_is_412(api, draft):
    api.patch(detail_url(draft.pk), {"summary": "x"}, format="json", headers={"If-Match": '"v1"'})
    assert_problem(api.post(f"{detail_url(draft.pk)}finalise", headers={"If-Match": '"v1"'}), 412)


def test_a_finalised_contact_cannot_be_changed(api, draft):
    finalised = api.post(f"{detail_url(draft.pk)}finalise")
    response = api.patch(
        detail_url(draft.pk),
        {"summary": "x"},
        format="json",
        headers={"If-Match": finalised["ETag"]},
    )
    assert_problem(response, 409)


# --- idempotency ------------------------------------------------------------------------------


def test_the_same_key_and_body_replay_the_first_response(api):
    first = log(api, **{"Idempotency-Key": "call-42"})
    second = log(api, **{"Idempotency-Key": "call-42"})
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Location"] == first["Location"]
    assert second["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 1


def test_the_same_key_with_another_body_is_409(api):
    log(api, **{"Idempotency-Key": "call-42"})
    response = log(api, {**CRISIS, "summary": "something else"}, **{"Idempotency-Key": "call-42"})
    body = assert_problem(response, 409)
    assert body["type"].endswith("idempotency-key-reused")
    assert Contact.objects.count() == 1


def test_a_failed_request_does_not_use_up_its_key(api):
    bad = log(api, {**CRISIS, "channel": "pigeon"}, **{"Idempotency-Key": "call-43"})
    assert bad.status_code == 400
    good = log(api, **{"Idempotency-Key": "call-43"})
    assert good.status_code == 201
    assert Contact.objects.count() == 1


def test_the_record_names_the_contact_it_showed(api):
    contact_id = log(api, **{"Idempotency-Key": "call-46"}).json()["id"]
    record = IdempotencyRecord.objects.get()
    assert (record.object_type, record.object_id) == ("contact", str(contact_id))


def _without_instance(problem: dict) -> dict:
    return {name: value for name, value in problem.items() if name != "instance"}


def test_a_replay_after_moving_to_another_agency_is_the_404_of_a_missing_contact(
    api, advocate, other_hotline
):
    first = log(api, **{"Idempotency-Key": "call-47"})
    assert first.status_code == 201
    advocate.agency = other_hotline
    advocate.save(update_fields=["agency"])
    again = log(api, **{"Idempotency-Key": "call-47"})
    replayed = assert_problem(again, 404)
    missing = assert_problem(api.get(detail_url(first.json()["id"] + 1000)), 404)
    assert _without_instance(replayed) == _without_instance(missing)
    assert CRISIS["summary"] not in again.content.decode()
    assert "Idempotent-Replayed" not in again and "Location" not in again


def test_a_replay_after_the_contact_was_deleted_is_404(api):
    first = log(api, **{"Idempotency-Key": "call-48"})
    Contact.objects.filter(pk=first.json()["id"]).delete()
    again = log(api, **{"Idempotency-Key": "call-48"})
    assert_problem(again, 404)
    assert CRISIS["summary"] not in again.content.decode()


def test_a_replay_checks_the_contact_but_a_first_request_does_not_look_it_up(api):
    with CaptureQueriesContext(connection) as first:
        log(api, **{"Idempotency-Key": "call-49"})
    with CaptureQueriesContext(connection) as replay:
        assert log(api, **{"Idempotency-Key": "call-49"})["Idempotent-Replayed"] == "true"

    def contact_reads(queries) -> int:
        return sum(
            query["sql"].startswith("SELECT") and 'FROM "screening_contact"' in query["sql"]
            for query in queries.captured_queries
        )

    assert (contact_reads(first), contact_reads(replay)) == (0, 1)


def test_keys_are_per_user(api, hotline_supervisor):
    log(api, **{"Idempotency-Key": "shared-key"})
    other = log(client_for(hotline_supervisor), **{"Idempotency-Key": "shared-key"})
    assert other.status_code == 201
    assert Contact.objects.count() == 2


def test_an_unusable_key_is_400(api):
    response = log(api, **{"Idempotency-Key": "x" * 300})
    assert_problem(response, 400)
    assert error_fields(response) == ["Idempotency-Key"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.integration
def test_two_concurrent_posts_with_one_key_create_one_contact(advocate):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so there is no race to test")
    first, second = client_for(advocate), client_for(advocate)
    responses = run_together(
        lambda: log(first, **{"Idempotency-Key": "race-1"}),
        lambda: log(second, **{"Idempotency-Key": "race-1"}),
    )
    assert [response.status_code for response in responses] == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert Contact.objects.count() == 1


# --- list -------------------------------------------------------------------------------------


def test_the_list_shows_only_the_agencys_contacts_newest_first(api, advocate, outsider):
    older = services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    newer = services.contact_create(created_by=advocate, channel="chat", contact_type="crisis")
    services.contact_create(created_by=outsider, channel="chat", contact_type="crisis")
    body = api.get(URL).json()
    assert [row["id"] for row in body["results"]] == [newer.pk, older.pk]


def test_the_list_filters_by_status_type_channel_region_and_date(api, advocate):
    tip = services.contact_create(
        created_by=advocate, channel="phone", contact_type="tip", caller_region="Northshire"
    )
    crisis = services.contact_create(created_by=advocate, channel="chat", contact_type="crisis")
    services.contact_finalise(contact=crisis, by=advocate)

    def ids(query: dict) -> list[int]:
        response = api.get(URL, query)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids({"status": "finalised"}) == [crisis.pk]
    assert ids({"contact_type": "tip"}) == [tip.pk]
    assert ids({"channel": "chat"}) == [crisis.pk]
    assert ids({"region": "northshire"}) == [tip.pk]
    assert ids({"immediate_danger": "false"}) == [crisis.pk, tip.pk]
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    assert ids({"created_after": tomorrow}) == []
    assert ids({"created_before": tomorrow}) == [crisis.pk, tip.pk]


def test_an_invalid_filter_is_400_not_ignored(api):
    response = api.get(URL, {"status": "lost", "created_after": "yesterday"})
    assert_problem(response, 400)
    assert sorted(error_fields(response)) == ["created_after", "status"]


def test_the_list_is_cursor_paginated(api, advocate):
    for _ in range(3):
        services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    first = api.get(URL, {"page_size": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    seen = [row["id"] for row in first["results"] + second["results"]]
    assert len(set(seen)) == 3


def test_pages_link_back_and_hold_steady_through_ties_and_new_contacts(api, advocate):
    made = [
        services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
        for _ in range(5)
    ]
    # Three share one instant, as a bulk import or a busy second would give.
    moment = timezone.now() - timedelta(hours=1)
    Contact.objects.filter(pk__in=[c.pk for c in made[1:4]]).update(created_at=moment)
    newest_first = [row["id"] for row in api.get(URL, {"page_size": 50}).json()["results"]]
    first = api.get(URL, {"page_size": 2}).json()
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    third = api.get(second["next"]).json()
    assert third["next"] is None
    pages = [first, second, third]
    assert [row["id"] for page in pages for row in page["results"]] == newest_first
    # A contact logged meanwhile does not shift the pages already handed out.
    services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    back = api.get(third["previous"]).json()
    assert [row["id"] for row in back["results"]] == [row["id"] for row in second["results"]]
    assert api.get(back["previous"]).json()["results"] == first["results"]


def test_the_list_takes_the_same_number_of_queries_for_n_and_2n_contacts(
    api, advocate, case_of_hotline, triage_instrument
):
    def add(count: int) -> None:
        for _ in range(count):
            services.contact_create(
                created_by=advocate,
                channel="phone",
                contact_type="tip",
                case_reference=case_of_hotline.reference,
                triage_answers={},
            )

    add(3)
    api.get(URL)  # the token's first use is recorded once; keep that write out of the count
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(URL).json()["results"]) == 3
    add(3)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(URL).json()["results"]) == 6
    assert len(many) == len(few)


def test_each_listed_contact_is_the_contact_as_its_own_address_gives_it(
    api, advocate, case_of_hotline, triage_instrument
):
    """The list reads of the case and the triage instrument only what it shows (never the
    instrument's definition); every row is still the whole contact, field for field."""
    services.contact_create(
        created_by=advocate,
        channel="phone",
        contact_type="crisis",
        caller_name="A Fictional Caller",
        caller_phone="+15550000001",
        situation_location="A fictional farm",
        summary="Workers locked in at night (fictional).",
        immediate_danger=True,
        case_reference=case_of_hotline.reference,
        triage_answers={"needs_response_24h": "yes"},
    )
    services.contact_create(created_by=advocate, channel="chat", contact_type="tip")
    rows = api.get(URL).json()["results"]
    assert len(rows) == 2 and rows[1]["triage"]["result"]["flags"]
    for row in rows:
        whole = api.get(detail_url(row["id"])).json()
        assert list(row.items()) == list(whole.items())
    (triaged,) = [row for row in contact_list(user=advocate) if row.triage_instrument_version_id]
    assert "definition" in triaged.triage_instrument_version.get_deferred_fields()
    assert "narrative" in triaged.case.get_deferred_fields()


def test_expired_idempotency_records_are_purged_and_the_key_is_free_again(api):
    log(api, **{"Idempotency-Key": "old-call"})
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    out = io.StringIO()
    call_command("api_idempotency_purge", stdout=out)
    assert "deleted 1" in out.getvalue()
    assert log(api, **{"Idempotency-Key": "old-call"}).status_code == 201
    assert Contact.objects.count() == 2


def test_an_expired_key_is_free_again_before_any_purge(api):
    first = log(api, **{"Idempotency-Key": "old-call"})
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=2))
    again = log(api, {**CRISIS, "summary": "a new call"}, **{"Idempotency-Key": "old-call"})
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert "Idempotent-Replayed" not in again
    assert IdempotencyRecord.objects.get().fingerprint != ""


def test_a_reused_key_with_an_invalid_body_is_a_conflict_not_a_validation_error(api):
    log(api, **{"Idempotency-Key": "call-44"})
    response = log(api, {**CRISIS, "channel": "pigeon"}, **{"Idempotency-Key": "call-44"})
    assert response.status_code == 409
    assert Contact.objects.count() == 1


def test_a_replay_writes_nothing(api):
    log(api, **{"Idempotency-Key": "call-45"})
    with CaptureQueriesContext(connection) as queries:
        again = log(api, **{"Idempotency-Key": "call-45"})
    assert again["Idempotent-Replayed"] == "true"
    assert Contact.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert not any(
        query["sql"].startswith(('INSERT INTO "screening_contact"', 'UPDATE "screening'))
        for query in queries.captured_queries
    )


def test_date_filters_take_any_offset_and_reject_what_utc_cannot_hold(api, advocate):
    services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    # Found by schemathesis: PostgreSQL refused an offset beyond ±15:59 with a 500.
    wide_offset = api.get(URL, {"created_after": "0846-02-18T21:38:36.1-16:51"})
    assert wide_offset.status_code == 200 and len(wide_offset.json()["results"]) == 1
    response = api.get(URL, {"created_before": "0001-01-01T00:00:00+05:00"})
    assert_problem(response, 400)
    assert error_fields(response) == ["created_before"]


def test_a_logged_contact_is_written_in_the_idempotency_records_transaction_alone(api):
    """The service's writes join the idempotency record's transaction without a savepoint of
    their own (two round trips fewer on the API's hot path). In a test the record's
    transaction is itself a savepoint inside the test's: that one stays."""
    with CaptureQueriesContext(connection) as queries:
        assert log(api, **{"Idempotency-Key": "call-90"}).status_code == 201
    savepoints = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1


def test_a_refused_contact_in_an_idempotent_request_saves_nothing_and_is_logged(api):
    body = {**CRISIS, "case": "HT-NOPE0000", "create_case": True}
    response = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="call-91")
    assert_problem(response, 400)
    assert not Contact.objects.exists()
    assert not IdempotencyRecord.objects.exists()
    entry = AccessLogEntry.objects.latest("id")
    assert (entry.method, entry.status_code) == ("POST", 400)
