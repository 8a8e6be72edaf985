"""Content-Security-Policy and Permissions-Policy on every response: pages, the API (JSON
too: the same policy, harmless there, and a JSON body opened in a browser can run nothing and
be framed by no one), error pages (404, 403, the CSRF failure, 500, the stored-data-unreadable
page) and the API docs, whose one relaxation is data: images. Templates carry no inline
script, style or event handler, so the policy needs no 'unsafe-inline'."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from config.crypto import DecryptionError
from screening.roles import Role
from tests.api.helpers import client_for as api_client_for
from tests.factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"
EXPECTED_CSP = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'", "https://www.bbc.co.uk"},  # the quick exit's redirect
}
DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb", "serial", "hid")


def csp(response) -> dict[str, set[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.status_code}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = set(values)
    return directives


def assert_headers(response, *, img_src: set[str] = frozenset({"'self'"})) -> None:
    directives = csp(response)
    assert directives == {**EXPECTED_CSP, "img-src": set(img_src)}
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    features = dict(
        item.strip().split("=", 1) for item in response["Permissions-Policy"].split(",")
    )
    for feature in DENIED_FEATURES:
        assert features[feature] == "()", feature
    assert features["clipboard-write"] == "(self)"  # the new-token page's Copy button
    assert "interest-cohort" not in features  # obsolete: Chromium logs it as an error


@pytest.fixture
def officer():
    agency = AgencyFactory(name="Harbour Police Unit")
    return UserFactory(agency=agency, role=Role.FRONTLINE_OFFICER)


@pytest.fixture
def signed_in(officer) -> Client:
    client = Client()
    client.force_login(officer)
    return client


def test_the_sign_in_page_and_a_signed_in_page_carry_both_policies(client, signed_in):
    login = client.get(reverse("login"))
    assert login.status_code == 200
    assert_headers(login)
    cases = signed_in.get(reverse("screening:my-cases"))
    assert cases.status_code == 200
    assert_headers(cases)


def test_api_json_answers_carry_the_same_policies(officer):
    api = api_client_for(officer)
    listed = api.get("/api/v1/cases/")
    assert listed.status_code == 200
    assert listed["Content-Type"] == "application/json"
    assert_headers(listed)
    refused = Client().get("/api/v1/cases/")
    assert refused.status_code == 401
    assert_headers(refused)


def test_health_probes_carry_them_too(client):
    assert_headers(client.get("/healthz"))


@pytest.mark.parametrize("path", ["/no-such-page/", "/api/v1/no-such-thing/"])
def test_404_pages_and_problems_carry_them(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert_headers(response)


def test_the_403_page_carries_them(signed_in):
    response = signed_in.get(reverse("screening:agency-cases"))  # supervisors only
    assert response.status_code == 403
    assert b"You cannot do this" in response.content
    assert_headers(response)


def test_the_csrf_failure_page_is_ours_without_inline_style_and_carries_them():
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "someone", "password": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page
    assert "<style" not in page and "style=" not in page
    assert_headers(response)


def test_a_500_page_and_problem_carry_them(signed_in, officer, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("fictional failure")

    monkeypatch.setattr("screening.selectors.my_case_list", explode)
    signed_in.raise_request_exception = False
    page = signed_in.get(reverse("screening:my-cases"))
    assert page.status_code == 500
    assert_headers(page)

    monkeypatch.setattr("screening.api.views.case_list", explode)
    api = api_client_for(officer)
    api.raise_request_exception = False
    problem = api.get("/api/v1/cases/")
    assert problem.status_code == 500
    assert_headers(problem)


def test_the_stored_data_unreadable_page_carries_them(signed_in, monkeypatch):
    def unreadable(**kwargs):
        raise DecryptionError(
            table="screening_case", column="identifying_name", row_id=1, reason="tampered"
        )

    monkeypatch.setattr("screening.selectors.my_case_list", unreadable)
    response = signed_in.get(reverse("screening:my-cases"))
    assert response.status_code == 500
    assert b"This record cannot be read right now" in response.content
    assert_headers(response)


def test_the_api_docs_allow_data_images_only_and_load_their_script_as_a_file(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert_headers(page, img_src={"'self'", "data:"})
    html = page.content.decode()
    assert "<style" not in html
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all('src="' in attrs and not body.strip() for attrs, body in scripts)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_has_inline_script_style_or_handlers():
    """The policy allows none of these; a page that used one would break quietly."""
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = re.sub(
            r"{#.*?#}|{% comment %}.*?{% endcomment %}", "", template.read_text(), flags=re.S
        )
        for pattern, what in INLINE:
            if pattern.search(text):
                found.append(f"{template.relative_to(TEMPLATES)}: {what}")
    assert found == []
