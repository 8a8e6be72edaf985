"""The case-work API (issue 14): assign, share, transfer, close and reopen, notes, the
timeline, tasks and notifications. Each operation: anonymous 401, another agency 404, a role
that may not 403, and the happy path; lists keep a fixed number of queries. All people and
agencies are fictional."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from screening import services
from screening.models import Case, CaseTransfer, Consent, Notification
from screening.roles import Role
from tests.api.helpers import assert_problem, client_for, error_fields
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

SOON = (timezone.now() + timedelta(days=2)).isoformat()

# (method, path under /api/v1/ with {ref}, body): every case-scoped operation.
CASE_OPERATIONS = [
    ("post", "cases/{ref}/assign", {"worker": "nobody"}),
    ("post", "cases/{ref}/unassign", {"worker": "nobody"}),
    ("post", "cases/{ref}/share", {"agency": "Nowhere", "reason": "x"}),
    ("post", "cases/{ref}/close", {"reason_code": "other"}),
    ("post", "cases/{ref}/reopen", {}),
    ("post", "cases/{ref}/transfers/", {"agency": "Nowhere", "reason": "x"}),
    ("get", "cases/{ref}/notes/", None),
    ("post", "cases/{ref}/notes/", {"kind": "other", "text": "x"}),
    ("get", "cases/{ref}/timeline/", None),
    ("get", "cases/{ref}/tasks/", None),
    ("post", "cases/{ref}/tasks/", {"description": "x", "due_at": SOON}),
]
OTHER_OPERATIONS = [
    ("get", "tasks/", None),
    ("get", "transfers/", None),
    ("get", "notifications/", None),
    ("post", "notifications/1/read", None),
    ("post", "tasks/1/done", None),
    ("get", "notes/1/", None),
    ("get", "transfers/1/", None),
    ("post", "transfers/1/accept", {}),
]


def call(client, method: str, path: str, body=None):
    url = f"/api/v1/{path}"
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, body or {}, format="json")


@pytest.fixture
def receiving():
    return AgencyFactory(name="Riverside Support")


@pytest.fixture
def receiving_supervisor(receiving):
    return UserFactory(agency=receiving, role=Role.SUPERVISOR)


@pytest.fixture
def receiving_worker(receiving):
    return UserFactory(agency=receiving, role=Role.SOCIAL_WORKER)


def consent_naming(case, by, agency):
    services.consent_record(
        case=case,
        by=by,
        scope=Consent.Scope.REFERRAL_PROVIDER,
        method=Consent.Method.WRITTEN,
        provider_name=agency.name,
        valid_until=timezone.now() + timedelta(days=30),
    )


@pytest.mark.parametrize(("method", "path", "body"), CASE_OPERATIONS + OTHER_OPERATIONS)
def test_anonymous_requests_are_401(anonymous, case_of_hotline, method, path, body):
    assert_problem(call(anonymous, method, path.format(ref=case_of_hotline.reference), body), 401)


@pytest.mark.parametrize(("method", "path", "body"), CASE_OPERATIONS)
def test_another_agency_gets_404_like_a_missing_case(outsider, case_of_hotline, method, path, body):
    client = client_for(outsider)
    refused = assert_problem(
        call(client, method, path.format(ref=case_of_hotline.reference), body), 404
    )
    missing = assert_problem(call(client, method, path.format(ref="C-NONE-XIST"), body), 404)
    assert refused == missing
    assert Case.objects.get(pk=case_of_hotline.pk).is_open


@pytest.mark.parametrize(("method", "path", "body"), CASE_OPERATIONS + OTHER_OPERATIONS[:2])
def test_an_agency_administrator_is_403(hotline, case_of_hotline, method, path, body):
    """Case work is for case-work roles (notifications are for every member of staff)."""
    admin = client_for(UserFactory(agency=hotline, role=Role.AGENCY_ADMIN))
    assert_problem(call(admin, method, path.format(ref=case_of_hotline.reference), body), 403)


@pytest.mark.parametrize(
    "path",
    ["cases/{ref}/assign", "cases/{ref}/unassign", "cases/{ref}/share", "cases/{ref}/transfers/"],
)
def test_a_worker_on_the_case_may_not_do_a_supervisors_work(api, case_of_hotline, path):
    body = {"worker": "x", "agency": "x", "reason": "x"}
    assert_problem(call(api, "post", path.format(ref=case_of_hotline.reference), body), 403)


# --- assign, share, close, reopen ---------------------------------------------------------


def test_a_supervisor_assigns_and_unassigns_by_username(
    hotline_supervisor, hotline_officer, case_of_hotline
):
    client = client_for(hotline_supervisor)
    ref = case_of_hotline.reference

    response = call(client, "post", f"cases/{ref}/assign", {"worker": hotline_officer.username})
    assert response.status_code == 200, response.content
    assert response.json()["assigned_workers"] == [hotline_officer.username]
    assert client_for(hotline_officer).get(f"/api/v1/cases/{ref}/").status_code == 200

    response = call(client, "post", f"cases/{ref}/unassign", {"worker": hotline_officer.username})
    assert response.json()["assigned_workers"] == []
    assert client_for(hotline_officer).get(f"/api/v1/cases/{ref}/").status_code == 404


def test_assigning_someone_of_another_agency_is_a_field_error(
    hotline_supervisor, outsider, case_of_hotline
):
    client = client_for(hotline_supervisor)
    ref = case_of_hotline.reference
    for username in (outsider.username, "no-such-person"):
        response = call(client, "post", f"cases/{ref}/assign", {"worker": username})
        assert_problem(response, 400)
        assert error_fields(response) == ["worker"]
    assert not case_of_hotline.assignments.exists()


def test_share_what_the_partner_sees_before_and_after(
    advocate, hotline_supervisor, case_of_hotline, receiving, receiving_worker
):
    ref = case_of_hotline.reference
    partner = client_for(receiving_worker)
    assert partner.get(f"/api/v1/cases/{ref}/").status_code == 404

    refused = call(
        client_for(hotline_supervisor),
        "post",
        f"cases/{ref}/share",
        {"agency": receiving.name, "reason": "Joint support plan", "identifying": True},
    )
    assert_problem(refused, 409)
    assert partner.get(f"/api/v1/cases/{ref}/").status_code == 404

    consent_naming(case_of_hotline, advocate, receiving)
    response = call(
        client_for(hotline_supervisor),
        "post",
        f"cases/{ref}/share",
        {"agency": receiving.name, "reason": "Joint support plan", "identifying": True},
    )
    assert response.status_code == 200, response.content
    assert response.json()["shared_with"] == [receiving.name]
    seen = partner.get(f"/api/v1/cases/{ref}/").json()
    assert seen["identifying_name"] == "Fictional Person"
    # Read only: no notes, no tasks, no closing.
    assert_problem(partner.get(f"/api/v1/cases/{ref}/notes/"), 403)
    assert_problem(call(partner, "post", f"cases/{ref}/close", {"reason_code": "other"}), 403)
    assert partner.get(f"/api/v1/cases/{ref}/timeline/").status_code == 200


def test_a_share_without_identifying_data_hides_it(
    hotline_supervisor, case_of_hotline, receiving, receiving_worker
):
    ref = case_of_hotline.reference
    response = call(
        client_for(hotline_supervisor),
        "post",
        f"cases/{ref}/share",
        {"agency": receiving.name, "reason": "Joint support plan"},
    )
    assert response.status_code == 200, response.content
    seen = client_for(receiving_worker).get(f"/api/v1/cases/{ref}/").json()
    assert "identifying_name" not in seen and "narrative" not in seen


def test_close_with_a_reason_then_reopen(api, case_of_hotline):
    ref = case_of_hotline.reference
    bad = call(api, "post", f"cases/{ref}/close", {"reason_code": "because"})
    assert_problem(bad, 400)
    assert error_fields(bad) == ["reason_code"]

    closed = call(
        api, "post", f"cases/{ref}/close", {"reason_code": "not_reached", "note": "Three tries"}
    ).json()
    assert (closed["status"], closed["close_reason_code"]) == ("closed", "not_reached")
    reopened = call(api, "post", f"cases/{ref}/reopen").json()
    assert (reopened["status"], reopened["close_reason_code"]) == ("open", "")


# --- transfers -------------------------------------------------------------------------------


def test_transfer_request_accept_and_what_each_side_sees(
    advocate,
    hotline_supervisor,
    case_of_hotline,
    receiving,
    receiving_supervisor,
    receiving_worker,
):
    ref = case_of_hotline.reference
    consent_naming(case_of_hotline, advocate, receiving)
    sender, receiver = client_for(hotline_supervisor), client_for(receiving_supervisor)

    response = call(
        sender, "post", f"cases/{ref}/transfers/", {"agency": receiving.name, "reason": "Moved"}
    )
    assert response.status_code == 201, response.content
    transfer = response.json()
    assert response["Location"] == f"/api/v1/transfers/{transfer['id']}/"
    assert transfer["status"] == "pending"
    assert transfer["case_summary"]["age_band"] == "adult"
    assert "identifying_name" not in str(transfer)

    # Before the answer the receiver sees the request, not the case.
    assert receiver.get(f"/api/v1/cases/{ref}/").status_code == 404
    incoming = receiver.get("/api/v1/transfers/").json()["results"]
    assert [row["id"] for row in incoming] == [transfer["id"]]
    assert sender.get("/api/v1/transfers/").json()["results"] == []
    outgoing = sender.get("/api/v1/transfers/?direction=outgoing").json()["results"]
    assert [row["id"] for row in outgoing] == [transfer["id"]]
    assert_problem(call(sender, "post", f"transfers/{transfer['id']}/accept"), 403)
    assert_problem(call(client_for(receiving_worker), "get", f"transfers/{transfer['id']}/"), 404)

    accepted = call(
        receiver,
        "post",
        f"transfers/{transfer['id']}/accept",
        {"assign_to": receiving_worker.username},
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"
    assert accepted.json()["case_summary"] is None

    assert receiver.get(f"/api/v1/cases/{ref}/").json()["agency"] == receiving.name
    assert client_for(receiving_worker).get(f"/api/v1/cases/{ref}/notes/").status_code == 200
    for old in (sender, client_for(advocate)):
        assert_problem(old.get(f"/api/v1/cases/{ref}/"), 404)


def test_decline_and_cancel(
    advocate, hotline_supervisor, case_of_hotline, receiving, receiving_supervisor
):
    consent_naming(case_of_hotline, advocate, receiving)
    sender, receiver = client_for(hotline_supervisor), client_for(receiving_supervisor)
    ref = case_of_hotline.reference

    first = call(
        sender, "post", f"cases/{ref}/transfers/", {"agency": receiving.name, "reason": "x"}
    )
    again = call(
        sender, "post", f"cases/{ref}/transfers/", {"agency": receiving.name, "reason": "y"}
    )
    assert_problem(again, 409)
    no_reason = call(receiver, "post", f"transfers/{first.json()['id']}/decline", {"reason": ""})
    assert_problem(no_reason, 400)
    declined = call(
        receiver, "post", f"transfers/{first.json()['id']}/decline", {"reason": "No places"}
    )
    assert declined.json()["status"] == "declined"
    assert declined.json()["decision_note"] == "No places"

    second = call(
        sender, "post", f"cases/{ref}/transfers/", {"agency": receiving.name, "reason": "z"}
    )
    assert_problem(call(receiver, "post", f"transfers/{second.json()['id']}/cancel"), 403)
    cancelled = call(sender, "post", f"transfers/{second.json()['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert CaseTransfer.objects.get(pk=second.json()["id"]).status == "cancelled"
    assert Case.objects.get(pk=case_of_hotline.pk).agency_id == hotline_supervisor.agency_id


def test_a_transfer_without_consent_is_409_and_saves_nothing(
    hotline_supervisor, case_of_hotline, receiving
):
    response = call(
        client_for(hotline_supervisor),
        "post",
        f"cases/{case_of_hotline.reference}/transfers/",
        {"agency": receiving.name, "reason": "Moved"},
    )
    assert_problem(response, 409)
    assert not CaseTransfer.objects.exists()


# --- notes ---------------------------------------------------------------------------------


def test_notes_add_list_and_correct_with_if_match(api, advocate, case_of_hotline):
    ref = case_of_hotline.reference
    created = call(
        api, "post", f"cases/{ref}/notes/", {"kind": "contact_attempt", "text": "No answer"}
    )
    assert created.status_code == 201, created.content
    note = created.json()
    assert created["ETag"] == '"v1"'
    assert (note["author"], note["version"]) == (advocate.username, 1)

    url = f"/api/v1/notes/{note['id']}/"
    assert_problem(api.patch(url, {"text": "Rang twice"}, format="json"), 428)
    corrected = api.patch(url, {"text": "Rang twice"}, format="json", HTTP_IF_MATCH='"v1"')
    assert corrected.status_code == 200, corrected.content
    assert (corrected.json()["text"], corrected.json()["version"]) == ("Rang twice", 2)
    stale = api.patch(url, {"text": "Again"}, format="json", HTTP_IF_MATCH='"v1"')
    assert_problem(stale, 412)

    listed = api.get(f"/api/v1/cases/{ref}/notes/").json()
    assert [row["text"] for row in listed["results"]] == ["Rang twice"]


def test_someone_else_may_not_correct_a_note(api, hotline_supervisor, case_of_hotline):
    note = api.post(
        f"/api/v1/cases/{case_of_hotline.reference}/notes/",
        {"kind": "other", "text": "Mine"},
        format="json",
    ).json()
    response = client_for(hotline_supervisor).patch(
        f"/api/v1/notes/{note['id']}/", {"text": "Theirs"}, format="json", HTTP_IF_MATCH='"v1"'
    )
    assert_problem(response, 403)


def test_an_outsider_gets_404_for_a_note(api, outsider, case_of_hotline):
    note = api.post(
        f"/api/v1/cases/{case_of_hotline.reference}/notes/",
        {"kind": "other", "text": "Mine"},
        format="json",
    ).json()
    assert_problem(client_for(outsider).get(f"/api/v1/notes/{note['id']}/"), 404)


def test_the_notes_list_costs_the_same_for_2_and_6_notes(api, advocate, case_of_hotline):
    def add(count):
        for number in range(count):
            services.case_note_add(
                case=case_of_hotline, by=advocate, kind="other", text=f"{number}"
            )

    url = f"/api/v1/cases/{case_of_hotline.reference}/notes/"
    add(2)
    api.get(url)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get(url).json()["results"]) == 2
    add(4)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(url).json()["results"]) == 6
    assert len(many) == len(few)


# --- timeline -----------------------------------------------------------------------------


def test_the_timeline_pages_newest_first_and_its_cost_is_fixed(
    api, advocate, hotline_supervisor, case_of_hotline
):
    url = f"/api/v1/cases/{case_of_hotline.reference}/timeline/"
    services.case_note_add(case=case_of_hotline, by=advocate, kind="other", text="First")
    api.get(url)
    with CaptureQueriesContext(connection) as few:
        api.get(url)
    for number in range(60):
        services.case_note_add(case=case_of_hotline, by=advocate, kind="other", text=f"n{number}")
    with CaptureQueriesContext(connection) as many:
        body = api.get(url).json()
    assert len(many) == len(few)
    assert body["results"][0]["detail"] == "n59"
    seen = [row["detail"] for row in body["results"]]
    second = api.get(body["next"]).json()
    seen += [row["detail"] for row in second["results"]]
    assert second["next"] is None
    assert seen == [f"n{n}" for n in range(59, -1, -1)] + ["First"]
    assert_problem(api.get(f"{url}?cursor=bm9wZQ"), 400)


# --- tasks ---------------------------------------------------------------------------------


def test_tasks_add_list_done_and_mine(api, advocate, case_of_hotline):
    ref = case_of_hotline.reference
    created = call(
        api,
        "post",
        f"cases/{ref}/tasks/",
        {"description": "Check shelter place", "due_at": SOON, "kind": "revisit_consent"},
    )
    assert created.status_code == 201, created.content
    task = created.json()
    assert (task["assignee"], task["overdue"], task["kind"]) == (
        advocate.username,
        False,
        "revisit_consent",
    )
    assert [row["id"] for row in api.get("/api/v1/tasks/").json()["results"]] == [task["id"]]
    assert api.get("/api/v1/tasks/?overdue=true").json()["results"] == []

    done = call(api, "post", f"tasks/{task['id']}/done").json()
    assert done["done_at"] is not None
    assert api.get("/api/v1/tasks/").json()["results"] == []
    assert [row["id"] for row in api.get(f"/api/v1/cases/{ref}/tasks/").json()["results"]] == [
        task["id"]
    ]


def test_a_task_with_no_description_is_a_field_error(api, case_of_hotline):
    response = call(
        api,
        "post",
        f"cases/{case_of_hotline.reference}/tasks/",
        {"description": "", "due_at": SOON},
    )
    assert_problem(response, 400)
    assert error_fields(response) == ["description"]


def test_my_tasks_cost_the_same_for_2_and_6(api, advocate, case_of_hotline):
    def add(count):
        for _ in range(count):
            services.case_task_add(
                case=case_of_hotline,
                by=advocate,
                description="Call back",
                due_at=timezone.now() + timedelta(days=1),
            )

    add(2)
    api.get("/api/v1/tasks/")
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/api/v1/tasks/").json()["results"]) == 2
    add(4)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/v1/tasks/").json()["results"]) == 6
    assert len(many) == len(few)


def test_an_outsider_cannot_mark_a_task_done(api, outsider, case_of_hotline, advocate):
    task = services.case_task_add(
        case=case_of_hotline, by=advocate, description="x", due_at=timezone.now()
    )
    assert_problem(call(client_for(outsider), "post", f"tasks/{task.pk}/done"), 404)


# --- notifications ----------------------------------------------------------------------


def test_notifications_list_and_read_only_ones_own(
    hotline_supervisor, hotline_officer, advocate, case_of_hotline
):
    services.case_assign(case=case_of_hotline, worker=hotline_officer, by=hotline_supervisor)
    officer = client_for(hotline_officer)
    (notice,) = officer.get("/api/v1/notifications/?unread=true").json()["results"]
    assert notice["text"] == f"You were given case {case_of_hotline.reference}."
    assert notice["link"] == f"/cases/{case_of_hotline.reference}/"

    assert_problem(call(client_for(advocate), "post", f"notifications/{notice['id']}/read"), 404)
    read = call(officer, "post", f"notifications/{notice['id']}/read").json()
    assert read["read_at"] is not None
    assert officer.get("/api/v1/notifications/?unread=true").json()["results"] == []


def test_notifications_cost_the_same_for_2_and_6(advocate, api):
    def add(count):
        services.notification_send(
            users=[advocate] * count, kind=Notification.Kind.OTHER, text="Hello"
        )

    add(2)
    api.get("/api/v1/notifications/")
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/api/v1/notifications/").json()["results"]) == 2
    add(4)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/v1/notifications/").json()["results"]) == 6
    assert len(many) == len(few)
