"""Screenings through the API: start (safety gate, consent, idempotent), read, autosave with
If-Match, submit (safe to retry) and the stored result. One permission model with the wizard:
`case_access` / `screening_access`."""

import pytest
from django.utils import timezone
from guardian.shortcuts import remove_perm

from screening import services
from screening.models import Consent, Screening
from screening.roles import Role
from tests.api.helpers import assert_problem, client_for, error_fields
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

START = {
    "instrument": "test-flag-screen",
    "instrument_version": 1,
    "setting": "station",
    "safe_to_talk": "yes",
    "alone": "yes",
}
POSITIVE = {"ran_away": "yes", "police_contact": "yes", "injury": "no", "in_danger_now": "no"}
NEGATIVE = {"ran_away": "no", "police_contact": "no", "injury": "no", "in_danger_now": "no"}


def start_url(case) -> str:
    return f"/api/v1/cases/{case.reference}/screenings/"


def url(screening, action: str = "") -> str:
    return f"/api/v1/screenings/{screening.pk}/{action}"


@pytest.fixture
def officer_api(worker):
    return client_for(worker)


@pytest.fixture
def draft(screened_case, start_screening) -> Screening:
    return start_screening(screened_case)


@pytest.fixture
def shared_worker(hotline_supervisor, screened_case):
    """A social worker of an agency the case was shared with: may view, not change."""
    ngo = AgencyFactory(name="Shelter NGO")
    services.case_share(case=screened_case, agency=ngo, reason="Placement", by=hotline_supervisor)
    return UserFactory(agency=ngo, role=Role.SOCIAL_WORKER)


# --- start ----------------------------------------------------------------------------------


def test_starting_returns_a_draft_with_location_and_etag(officer_api, screened_case, flag_screen):
    response = officer_api.post(start_url(screened_case), START, format="json")
    assert response.status_code == 201, response.content
    screening = Screening.objects.get()
    assert response["Location"] == url(screening)
    assert response["ETag"] == '"v1"'
    body = response.json()
    assert body["status"] == "draft" and body["case"] == screened_case.reference
    assert (body["instrument"], body["instrument_version"]) == ("test-flag-screen", 1)
    assert body["consent"] == screened_case.consents.get().pk
    assert screening.instrument_version == flag_screen


@pytest.mark.parametrize("gate", [{"safe_to_talk": "no"}, {"alone": "no"}])
def test_the_safety_gate_stops_with_422_and_records_nothing(
    officer_api, screened_case, flag_screen, gate
):
    response = officer_api.post(start_url(screened_case), {**START, **gate}, format="json")
    body = assert_problem(response, 422)
    assert body["type"].endswith("safety-stop")
    assert not Screening.objects.exists()


def test_without_a_screening_consent_starting_is_409(officer_api, worker, flag_screen):
    case = services.case_create(created_by=worker)
    body = assert_problem(officer_api.post(start_url(case), START, format="json"), 409)
    assert body["type"].endswith("consent-required")
    assert not Screening.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"setting": "beach"}, "setting"),
        ({"safe_to_talk": "maybe"}, "safe_to_talk"),
        ({"instrument_version": 9}, "instrument_version"),
        ({"interpreter_used": True, "interpreter_language": ""}, "interpreter_language"),
        ({"consent": 999999}, "consent"),
    ],
)
def test_invalid_start_fields_are_400_naming_the_field(
    officer_api, screened_case, flag_screen, change, field
):
    response = officer_api.post(start_url(screened_case), {**START, **change}, format="json")
    assert_problem(response, 400)
    assert field in error_fields(response)
    assert not Screening.objects.exists()


def test_a_consent_of_another_case_cannot_be_used(officer_api, worker, screened_case, flag_screen):
    other = services.case_create(created_by=worker)
    consent = services.consent_record(
        case=other, by=worker, scope=Consent.Scope.SCREENING, method=Consent.Method.VERBAL
    )
    response = officer_api.post(
        start_url(screened_case), {**START, "consent": consent.pk}, format="json"
    )
    assert_problem(response, 400)
    assert error_fields(response) == ["consent"]


def test_starting_is_idempotent(officer_api, screened_case, flag_screen):
    key = {"Idempotency-Key": "start-1"}
    first = officer_api.post(start_url(screened_case), START, format="json", headers=key)
    again = officer_api.post(start_url(screened_case), START, format="json", headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    other = officer_api.post(
        start_url(screened_case), {**START, "setting": "clinic"}, format="json", headers=key
    )
    assert_problem(other, 409)
    assert Screening.objects.count() == 1


def test_a_replay_once_the_case_is_out_of_sight_is_the_404_of_a_missing_screening(
    officer_api, worker, screened_case, flag_screen
):
    key = {"Idempotency-Key": "start-3"}
    first = officer_api.post(start_url(screened_case), START, format="json", headers=key)
    assert first.status_code == 201
    for codename in ("screening.view_case", "screening.change_case"):
        remove_perm(codename, worker, screened_case)
    # A replay is answered before the view looks at the case: the record's check decides.
    again = officer_api.post(start_url(screened_case), START, format="json", headers=key)
    replayed = assert_problem(again, 404)
    missing = assert_problem(officer_api.get("/api/v1/screenings/999999/"), 404)
    assert (replayed["type"], replayed["detail"]) == (missing["type"], missing["detail"])
    assert "Idempotent-Replayed" not in again


def test_a_stopped_start_does_not_use_up_its_key(officer_api, screened_case, flag_screen):
    key = {"Idempotency-Key": "start-2"}
    stop = officer_api.post(
        start_url(screened_case), {**START, "alone": "no"}, format="json", headers=key
    )
    assert stop.status_code == 422
    assert (
        officer_api.post(start_url(screened_case), START, format="json", headers=key).status_code
        == 201
    )


def test_who_may_start(anonymous, screened_case, outsider, shared_worker, hotline, flag_screen):
    assert_problem(anonymous.post(start_url(screened_case), START, format="json"), 401)
    assert_problem(client_for(outsider).post(start_url(screened_case), START, format="json"), 404)
    # Sees the case (shared with their agency), may not change it.
    shared = client_for(shared_worker)
    assert_problem(shared.post(start_url(screened_case), START, format="json"), 403)
    admin = client_for(UserFactory(agency=hotline, role=Role.AGENCY_ADMIN))
    assert_problem(admin.post(start_url(screened_case), START, format="json"), 403)
    assert not Screening.objects.exists()


# --- read -----------------------------------------------------------------------------------


def test_reading_a_screening_sends_its_etag(officer_api, draft):
    response = officer_api.get(url(draft))
    assert response.status_code == 200
    assert response["ETag"] == '"v1"'
    assert response.json()["id"] == draft.pk and response.json()["answers"] == {}


def test_who_may_read(anonymous, draft, outsider, shared_worker, hotline):
    assert_problem(anonymous.get(url(draft)), 401)
    assert_problem(client_for(outsider).get(url(draft)), 404)
    assert_problem(client_for(outsider).get("/api/v1/screenings/999999/"), 404)
    assert client_for(shared_worker).get(url(draft)).status_code == 200
    admin = client_for(UserFactory(agency=hotline, role=Role.AGENCY_ADMIN))
    assert_problem(admin.get(url(draft)), 403)


# --- answers ----------------------------------------------------------------------------------


def save(api, screening, answers, etag='"v1"'):
    headers = {"If-Match": etag} if etag else {}
    return api.patch(
        url(screening, "answers"), {"answers": answers}, format="json", headers=headers
    )


def test_saving_answers_needs_the_current_etag(officer_api, draft):
    assert_problem(save(officer_api, draft, {"ran_away": "yes"}, etag=None), 428)
    first = save(officer_api, draft, {"ran_away": "yes"})
    assert first.status_code == 200 and first["ETag"] == '"v2"'
    assert first.json()["answers"] == {"ran_away": "yes"}
    assert_problem(save(officer_api, draft, {"injury": "yes"}), 412)
    cleared = save(officer_api, draft, {"ran_away": None, "injury": "no"}, etag='"v2"')
    assert cleared.json()["answers"] == {"injury": "no"}
    draft.refresh_from_db()
    assert draft.answers == {"injury": "no"} and draft.version == 3


def test_invalid_answers_are_400_naming_each_key_and_save_nothing(officer_api, draft):
    response = save(officer_api, draft, {"ran_away": "perhaps", "no_such_item": "yes"})
    assert_problem(response, 400)
    assert sorted(error_fields(response)) == ["answers.no_such_item", "answers.ran_away"]
    draft.refresh_from_db()
    assert draft.answers == {} and draft.version == 1


def test_answers_must_be_an_object(officer_api, draft):
    response = officer_api.patch(
        url(draft, "answers"), {"answers": ["yes"]}, format="json", headers={"If-Match": '"v1"'}
    )
    assert_problem(response, 400)
    assert error_fields(response) == ["answers"]


def test_who_may_save_answers(anonymous, draft, outsider, shared_worker):
    assert_problem(save(anonymous, draft, {"ran_away": "yes"}), 401)
    assert_problem(save(client_for(outsider), draft, {"ran_away": "yes"}), 404)
    assert_problem(save(client_for(outsider), draft, {"ran_away": "yes"}, etag=None), 404)
    assert_problem(save(client_for(shared_worker), draft, {"ran_away": "yes"}), 403)
    draft.refresh_from_db()
    assert draft.answers == {}


# --- submit and result ------------------------------------------------------------------------


def test_submitting_scores_once_and_a_retry_returns_the_same_result(officer_api, draft):
    save(officer_api, draft, POSITIVE)
    first = officer_api.post(url(draft, "submit"))
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["outcome"] == "screen_positive" == body["outcome_in_force"]
    assert body["status"] == "submitted" and body["override"] is None
    assert body["result"]["outcome"] == "screen_positive"
    again = officer_api.post(url(draft, "submit"))
    assert again.status_code == 200 and again.json() == body
    result = officer_api.get(url(draft, "result"))
    assert result.status_code == 200 and result.json() == body
    draft.refresh_from_db()
    assert draft.status == "submitted" and draft.version == 3


def test_a_submitted_screenings_answers_cannot_change(officer_api, draft):
    submitted = officer_api.post(url(draft, "submit"))
    response = save(officer_api, draft, {"ran_away": "no"}, etag=submitted["ETag"])
    assert assert_problem(response, 409)["type"].endswith("invalid-state")


def test_submitting_with_a_stale_etag_is_412(officer_api, draft):
    save(officer_api, draft, {"ran_away": "yes"})
    assert_problem(officer_api.post(url(draft, "submit"), headers={"If-Match": '"v1"'}), 412)
    draft.refresh_from_db()
    assert draft.is_draft


def test_a_withdrawn_consent_stops_the_submit_with_409(officer_api, draft, worker):
    Consent.objects.filter(pk=draft.consent_id).update(
        withdrawn_at=timezone.now(), withdrawn_by=worker
    )
    body = assert_problem(officer_api.post(url(draft, "submit")), 409)
    assert body["type"].endswith("consent-required")
    draft.refresh_from_db()
    assert draft.is_draft


def test_a_draft_has_no_result_yet(officer_api, draft):
    assert_problem(officer_api.get(url(draft, "result")), 404)


def test_the_result_shows_a_supervisors_override_beside_the_computed_outcome(
    officer_api, draft, hotline_supervisor
):
    save(officer_api, draft, NEGATIVE)
    officer_api.post(url(draft, "submit"))
    services.screening_override(
        screening=draft,
        by=hotline_supervisor,
        outcome="screen_positive",
        reason_code="professional_judgement",
        note="Fictional reason.",
    )
    body = officer_api.get(url(draft, "result")).json()
    assert body["outcome"] == "screen_negative"
    assert body["outcome_in_force"] == "screen_positive"
    assert body["override"]["reason_code"] == "professional_judgement"


def test_who_may_submit_and_read_results(anonymous, draft, outsider, shared_worker, officer_api):
    assert_problem(anonymous.post(url(draft, "submit")), 401)
    assert_problem(client_for(outsider).post(url(draft, "submit")), 404)
    assert_problem(client_for(shared_worker).post(url(draft, "submit")), 403)
    officer_api.post(url(draft, "submit"))
    assert_problem(anonymous.get(url(draft, "result")), 401)
    assert_problem(client_for(outsider).get(url(draft, "result")), 404)
    assert client_for(shared_worker).get(url(draft, "result")).status_code == 200
