import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from indicators.models import InstrumentVersion
from screening.roles import Role
from tests.auth import sign_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SCORE_URL = "/api/v1/instruments/test-short-screen/versions/1/score"


@pytest.fixture
def loaded(write_instrument, capsys):
    call_command("load_instruments", str(write_instrument()))
    capsys.readouterr()


@pytest.fixture
def staff_client(client):
    return sign_in(client, UserFactory(role=Role.HOTLINE_STAFF))


def test_anonymous_requests_get_401(client, loaded):
    assert client.get("/api/v1/instruments/").status_code == 401
    assert (
        client.post(SCORE_URL, {"answers": {}}, content_type="application/json").status_code == 401
    )


def test_a_user_without_agency_or_role_gets_403(client, loaded):
    no_role = UserFactory()
    no_role.groups.clear()
    sign_in(client, no_role)
    assert client.get("/api/v1/instruments/").status_code == 403
    sign_in(client, UserFactory(agency=None))
    assert client.get("/api/v1/instruments/").status_code == 403


def test_list_shows_published_versions_in_a_fixed_number_of_queries(
    staff_client, write_instrument, capsys
):
    call_command(
        "load_instruments",
        str(write_instrument()),
        str(write_instrument(version=2, status="draft")),
    )
    with CaptureQueriesContext(connection) as one_instrument:
        response = staff_client.get("/api/v1/instruments/")
    assert response.status_code == 200
    [entry] = response.json()["results"]
    assert entry["slug"] == "test-short-screen"
    assert [version["number"] for version in entry["versions"]] == [1]  # the draft is hidden

    call_command("load_instruments")  # every seed instrument
    with CaptureQueriesContext(connection) as many_instruments:
        response = staff_client.get("/api/v1/instruments/")
    assert len(response.json()["results"]) >= 10
    assert len(many_instruments) == len(one_instrument)


def test_version_detail_returns_items_rules_and_sources(staff_client, loaded):
    response = staff_client.get("/api/v1/instruments/test-short-screen/versions/1/")
    assert response.status_code == 200
    body = response.json()
    assert [item["key"] for item in body["items"]] == ["ran_away", "police_contact", "injury"]
    assert body["rules"][0]["key"] == "two_or_more"
    assert body["sources"][0]["key"] == "test-source"


def test_unknown_version_and_drafts_are_404(staff_client, write_instrument, capsys):
    call_command("load_instruments", str(write_instrument(status="draft")))
    assert staff_client.get("/api/v1/instruments/test-short-screen/versions/1/").status_code == 404
    assert staff_client.get("/api/v1/instruments/nope/versions/1/").status_code == 404
    assert (
        staff_client.post(SCORE_URL, {"answers": {}}, content_type="application/json").status_code
        == 404
    )


def test_dry_run_score_returns_the_result_and_stores_nothing(staff_client, loaded):
    before = InstrumentVersion.objects.get().updated_at
    response = staff_client.post(
        SCORE_URL,
        {"answers": {"ran_away": "yes", "injury": "yes"}, "context": {"age": 14}},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["outcome"] == "screen_positive"
    assert "minor" in body["flags"]
    assert InstrumentVersion.objects.get().updated_at == before


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"answers": {"not_an_item": "yes"}}, "not_an_item"),
        ({"answers": {"ran_away": 3}}, "ran_away"),
    ],
)
def test_bad_answers_give_400_naming_the_key(staff_client, loaded, payload, named):
    response = staff_client.post(SCORE_URL, payload, content_type="application/json")
    assert response.status_code == 400
    assert named in str(response.json()["errors"])


def test_a_body_without_answers_is_400(staff_client, loaded):
    response = staff_client.post(SCORE_URL, {"context": {}}, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in response.json()["errors"]] == ["answers"]


def test_version_detail_carries_provenance_and_validation_figures(staff_client, capsys):
    seeds = f"{settings.BASE_DIR}/seeds/instruments"
    call_command("load_instruments", f"{seeds}/qyit.v1.yaml", f"{seeds}/qyit.v2.yaml")
    capsys.readouterr()
    old = staff_client.get("/api/v1/instruments/qyit/versions/1/").json()
    assert old["provenance"] is None and old["validation"] == []
    new = staff_client.get("/api/v1/instruments/qyit/versions/2/").json()
    assert new["provenance"]["checked_on"] == "2026-12-02"
    [figures] = new["validation"]
    assert (figures["sensitivity"], figures["specificity"], figures["n"]) == (86.7, 76.5, 307)
    assert {item["provenance"]["status"] for item in new["items"]} == {"not_confirmed"}
