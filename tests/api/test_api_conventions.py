"""Conventions every endpoint shares: problem+json errors, ETag parsing, the schema and docs."""

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from rest_framework.exceptions import ErrorDetail
from rest_framework.test import APIRequestFactory

from config import errors as domain
from config.api.etags import expected_version
from config.api.exceptions import flatten_errors, problem_exception_handler
from config.api.problems import PreconditionFailed, PreconditionRequired
from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400_problem(api):
    response = api.generic(
        "POST", "/api/v1/contacts/", "{not json", content_type="application/json"
    )
    assert_problem(response, 400)


def test_an_unsupported_method_is_a_405_problem(api):
    assert_problem(api.delete("/api/v1/contacts/"), 405)


def test_a_non_json_body_is_a_415_problem(api):
    response = api.generic("POST", "/api/v1/contacts/", "a=b", content_type="text/plain")
    assert_problem(response, 415)


def test_nested_drf_errors_flatten_to_dotted_fields():
    detail = {
        "channel": [ErrorDetail("Not a valid choice.")],
        "triage_answers": {"immediate_danger": [ErrorDetail("Not valid.")]},
        "languages": [{}, [ErrorDetail("Too long.")]],
        "non_field_errors": [ErrorDetail("Inconsistent.")],
    }
    assert flatten_errors(detail) == [
        {"field": "channel", "message": "Not a valid choice."},
        {"field": "triage_answers.immediate_danger", "message": "Not valid."},
        {"field": "languages.1", "message": "Too long."},
        {"field": "", "message": "Inconsistent."},
    ]


@pytest.mark.parametrize(
    ("header", "version"),
    [('"v3"', 3), (' "v3" ', 3), ("*", None)],
)
def test_if_match_names_the_version_read(header, version):
    request = APIRequestFactory().patch("/", HTTP_IF_MATCH=header)
    assert expected_version(request) == version


# A weak tag never matches: If-Match uses the strong comparison (RFC 9110 §13.1.1).
@pytest.mark.parametrize("header", ['"3"', "v3", '"v3", "v4"', '""', 'W/"v3"', 'w/"v3"'])
def test_an_if_match_naming_no_single_version_fails(header):
    request = APIRequestFactory().patch("/", HTTP_IF_MATCH=header)
    with pytest.raises(PreconditionFailed):
        expected_version(request)


def test_a_missing_if_match_is_required_or_not():
    request = APIRequestFactory().patch("/")
    with pytest.raises(PreconditionRequired):
        expected_version(request)
    assert expected_version(request, required=False) is None


def test_the_schema_and_the_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/contacts/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"drf_spectacular_sidecar" in docs.content
    assert b"cdn." not in docs.content


@pytest.mark.parametrize(
    ("error", "status", "kind"),
    [
        (domain.CaseNotFound(), 404, "not-found"),
        (domain.ActionNotAllowed("No."), 403, "forbidden"),
        (domain.ConflictError("Stale.", current_version=3), 409, "version-conflict"),
        (domain.InvalidState("Closed."), 409, "invalid-state"),
        (domain.ConsentRequired("No consent."), 409, "consent-required"),
        (domain.SafetyStop("Stop."), 422, "safety-stop"),
    ],
)
def test_domain_errors_map_to_problems(error, status, kind):
    response = problem_exception_handler(error, {})
    assert response.status_code == status
    assert response.data["type"] == f"urn:ht-screening:problem:{kind}"
    assert response.data["detail"] == error.message
    assert response.content_type == "application/problem+json"


def test_domain_validation_errors_list_every_field_message():
    error = domain.ValidationError("Bad.", {"age": ["Too old.", "Not a number."], "gender": ["?"]})
    response = problem_exception_handler(error, {})
    assert response.status_code == 400
    assert response.data["errors"] == [
        {"field": "age", "message": "Too old."},
        {"field": "age", "message": "Not a number."},
        {"field": "gender", "message": "?"},
    ]


def test_unexpected_errors_are_left_to_django():
    assert problem_exception_handler(RuntimeError("boom"), {}) is None


@pytest.mark.parametrize(
    "path",
    ["/api/v1/contacts/null%2Cnull/", "/api/v1/screenings/abc/submit", "/api/v1/no-such-thing/"],
)
def test_an_api_path_no_route_matches_is_a_404_problem_not_an_html_page(api, path):
    assert_problem(api.get(path), 404)


def test_a_page_no_route_matches_keeps_the_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unexpected_api_error_is_a_500_problem_that_tells_nothing(api, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("fictional failure with a secret detail")

    monkeypatch.setattr("screening.api.views.contact_list", explode)
    api.raise_request_exception = False
    response = api.get("/api/v1/contacts/")
    assert_problem(response, 500)
    assert "secret" not in response.content.decode()


def test_every_operation_taking_if_match_documents_412_and_428_where_it_is_required():
    """Schemathesis found finalise answering an undocumented 412: the statuses now follow
    from the If-Match parameter itself, for every operation of the committed contract."""
    contract = yaml.safe_load((Path(settings.BASE_DIR) / "docs" / "openapi.yaml").read_text())
    taking = 0
    for path, operations in contract["paths"].items():
        for method, operation in operations.items():
            if_match = [p for p in operation.get("parameters", []) if p["name"] == "If-Match"]
            documented = set(operation["responses"])
            if not if_match:
                assert "412" not in documented, (method, path)
                continue
            taking += 1
            assert "412" in documented, (method, path)
            assert ("428" in documented) == bool(if_match[0].get("required")), (method, path)
    assert taking >= 4  # contacts update and finalise, screening answers and submit
