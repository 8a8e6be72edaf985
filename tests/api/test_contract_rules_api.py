"""What the contract (docs/openapi.yaml) states is what the code does: the Idempotency-Key
and If-Match rules, filters and paging that refuse what the schema refuses, JSON bodies in
the JSON types the schema names, length limits on every text input, and the rules that join
fields. tests/api/test_schema_conformance.py checks the same at random; these are the cases
a person would try first."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings

from config.api.idempotency import MAX_KEY_LENGTH
from screening import services
from screening.models import Case, Contact
from tests.api.helpers import assert_problem, client_for, error_fields

pytestmark = pytest.mark.django_db

CONTRACT = yaml.safe_load((Path(settings.BASE_DIR) / "docs" / "openapi.yaml").read_text())
CONTACT = {"channel": "phone", "contact_type": "tip"}


def _operations():
    for path, methods in CONTRACT["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def _parameter(operation: dict, name: str) -> dict | None:
    return next((p for p in operation.get("parameters", []) if p["name"] == name), None)


# --- Idempotency-Key ---------------------------------------------------------------------


def test_every_creating_post_states_the_idempotency_key_rules():
    creating = [
        operation["operationId"]
        for _, method, operation in _operations()
        if method == "post" and _parameter(operation, "Idempotency-Key")
    ]
    assert sorted(creating) == [
        "cases_create",
        "contacts_create",
        "screenings_start",
        "tokens_create",
    ]
    for _, _, operation in _operations():
        if parameter := _parameter(operation, "Idempotency-Key"):
            assert parameter["schema"]["maxLength"] == MAX_KEY_LENGTH
            assert parameter["schema"]["minLength"] == 1
            assert (
                "409" in parameter["description"]
                and "Idempotent-Replayed" in (parameter["description"])
            )
            assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]


@pytest.mark.parametrize("key", ["x" * (MAX_KEY_LENGTH + 1), "tab\there", "del\x7f"])
def test_a_key_outside_the_stated_rules_is_a_400_naming_the_header(api, key):
    response = api.post(
        "/api/v1/contacts/", CONTACT, format="json", headers={"Idempotency-Key": key}
    )
    assert_problem(response, 400)
    assert error_fields(response) == ["Idempotency-Key"]
    assert not Contact.objects.exists()


def test_a_key_inside_the_rules_replays_and_a_reuse_with_another_body_is_a_409(api):
    key = "~" + "k" * (MAX_KEY_LENGTH - 2) + "!"  # the longest key, printable ASCII
    first = api.post("/api/v1/contacts/", CONTACT, format="json", headers={"Idempotency-Key": key})
    again = api.post("/api/v1/contacts/", CONTACT, format="json", headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    other = {**CONTACT, "summary": "Another call."}
    reused = api.post("/api/v1/contacts/", other, format="json", headers={"Idempotency-Key": key})
    assert assert_problem(reused, 409)["type"].endswith(":idempotency-key-reused")
    assert Contact.objects.count() == 1


# --- If-Match ------------------------------------------------------------------------------


def test_if_match_is_stated_as_one_strong_etag():
    for _, _, operation in _operations():
        if parameter := _parameter(operation, "If-Match"):
            assert parameter["schema"]["pattern"] == '^(\\*|"v[0-9]{1,10}")$'
            assert "weak" in parameter["description"]


@pytest.mark.parametrize("header", ['W/"v1"', '"v1", "v2"', '"v99999999999"', '"v²"', "v1"])
def test_an_if_match_the_schema_refuses_is_a_412_and_changes_nothing(api, advocate, header):
    contact = services.contact_create(created_by=advocate, **CONTACT)
    response = api.patch(
        f"/api/v1/contacts/{contact.pk}/",
        {"summary": "x"},
        format="json",
        headers={"If-Match": header},
    )
    assert_problem(response, 412)
    contact.refresh_from_db()
    assert contact.version == 1 and contact.summary == ""


# --- filters and paging ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "url", "name"),
    [
        ("advocate", "/api/v1/cases/", "status"),
        ("advocate", "/api/v1/cases/", "region"),
        ("advocate", "/api/v1/contacts/", "status"),
        ("advocate", "/api/v1/contacts/", "immediate_danger"),
        ("advocate", "/api/v1/providers/", "service_type"),
        ("hotline_supervisor", "/api/v1/referrals/queue/", "status"),
    ],
)
def test_a_filter_sent_empty_is_a_400_naming_it(request, who, url, name):
    response = client_for(request.getfixturevalue(who)).get(url, {name: ""})
    assert_problem(response, 400)
    assert error_fields(response) == [name]


def test_a_filter_given_twice_is_a_400(api):
    response = api.get("/api/v1/cases/?status=open&status=closed")
    assert_problem(response, 400)
    assert error_fields(response) == ["status"]


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "null", "1.5", "١"])
def test_a_page_size_the_schema_refuses_is_a_400(api, page_size):
    response = api.get("/api/v1/contacts/", {"page_size": page_size})
    assert_problem(response, 400)
    assert error_fields(response) == ["page_size"]


def test_a_page_size_given_twice_is_a_400(api):
    response = api.get("/api/v1/contacts/?page_size=2&page_size=2")
    assert_problem(response, 400)
    assert error_fields(response) == ["page_size"]


def test_a_page_size_over_the_maximum_gives_the_maximum(api, advocate):
    for _ in range(3):
        services.contact_create(created_by=advocate, **CONTACT)
    response = api.get("/api/v1/contacts/", {"page_size": "999999999999"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 3


def test_an_empty_cursor_is_a_400_like_any_other_bad_cursor(api):
    response = api.get("/api/v1/contacts/", {"cursor": ""})
    assert_problem(response, 400)
    assert error_fields(response) == ["cursor"]


# --- JSON types and length limits ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**CONTACT, "summary": 5}, "summary"),
        ({**CONTACT, "immediate_danger": "yes"}, "immediate_danger"),
        ({**CONTACT, "minor_involved": 1}, "minor_involved"),
    ],
)
def test_a_body_value_of_another_json_type_is_a_400_naming_it(api, body, field):
    response = api.post("/api/v1/contacts/", body, format="json")
    assert_problem(response, 400)
    assert error_fields(response) == [field]
    assert not Contact.objects.exists()


def test_a_case_age_sent_as_text_is_a_400(api):
    response = api.post("/api/v1/cases/", {"age": "30"}, format="json")
    assert_problem(response, 400)
    assert error_fields(response) == ["age"]
    assert not Case.objects.exists()


def _request_components():
    for name, component in CONTRACT["components"]["schemas"].items():
        if name.endswith("Request"):
            yield name, component


def _text_schemas(schema: dict):
    if schema.get("type") == "array":
        yield from _text_schemas(schema.get("items", {}))
    elif "oneOf" in schema:
        yield schema["oneOf"][0]
    elif schema.get("type") == "string":
        yield schema


def test_every_text_input_in_the_schema_has_a_length_limit_and_refuses_nul():
    checked = 0
    for name, component in _request_components():
        for prop, schema in component.get("properties", {}).items():
            for text in _text_schemas(schema):
                if "enum" in text or text.get("format") == "date-time":
                    continue
                assert "maxLength" in text, f"{name}.{prop}"
                pattern = text.get("pattern", "")
                # Free text refuses NUL by its pattern; a slug is a whitelist without it.
                slug = pattern in ("^[-a-zA-Z0-9_]+$",)
                assert pattern.startswith("^[^\\x00]") or slug or prop == "instrument", (
                    f"{name}.{prop}"
                )
                checked += 1
    for path, _, operation in _operations():
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            if parameter["in"] == "query" and schema.get("type") == "string":
                if "enum" in schema or "format" in schema or parameter["name"] == "cursor":
                    continue
                assert "maxLength" in schema, f"{path} ?{parameter['name']}"
                checked += 1
    assert checked > 30


# --- rules that join fields ------------------------------------------------------------------


def test_the_rules_that_join_fields_are_in_the_schema():
    components = CONTRACT["components"]["schemas"]
    for name in (
        "CaseCreateInputRequest",
        "ContactCreateInputRequest",
        "ScreeningStartInputRequest",
        "ReferralDeclineInputRequest",
        "ReferralAnswerInputRequest",
    ):
        assert components[name]["allOf"], name


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"age": 16, "age_band": "adult"}, "age_band"),
        ({"age": 40, "age_band": "minor"}, "age_band"),
    ],
)
def test_a_case_whose_age_and_band_disagree_is_a_400(api, body, field):
    response = api.post("/api/v1/cases/", body, format="json")
    assert_problem(response, 400)
    assert error_fields(response) == [field]


def test_a_case_whose_age_and_band_agree_is_opened(api):
    assert (
        api.post("/api/v1/cases/", {"age": 16, "age_band": "minor"}, format="json").status_code
        == 201
    )
    assert (
        api.post("/api/v1/cases/", {"age": 40, "age_band": "unknown"}, format="json").status_code
        == 201
    )


def test_the_score_context_takes_its_stated_keys_and_null(api, triage_instrument):
    url = "/api/v1/instruments/hotline-triage/versions/1/score"
    stated = {"answers": {}, "context": {"age": None, "exploitation_type": None}}
    assert api.post(url, stated, format="json").status_code == 200
    other = api.post(url, {"answers": {}, "context": {"mood": "calm"}}, format="json")
    assert_problem(other, 400)
    context = CONTRACT["components"]["schemas"]["ScoreInputRequest"]["properties"]["context"]
    assert context["additionalProperties"] is False
    assert set(context["properties"]) == {"age", "exploitation_type"}
