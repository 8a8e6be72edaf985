"""Pages refuse what they cannot serve with a calm 4xx page, never a 500: a control character
in the path is the 404 page, a form over the size limit the 413 page, a name over its length
a form error. Nothing is saved."""

import pytest
from django.urls import reverse

from config.models import ApiToken
from screening import services
from screening.models import Case

pytestmark = pytest.mark.django_db

NEW_CASE = {
    "age_band": "unknown",
    "gender": "not_stated",
    "exploitation_type": "unknown",
    "safe_to_contact": "unknown",
}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/account/api-tokens/%00/revoke"),
        ("get", "/account/api-tokens/%00/revoke"),
        ("get", "/cases/%00/"),
        ("get", "/cases/C-AAAA-AAA%01/changes/"),
        ("get", "/screenings/1%7F/"),
        ("get", "/no-such%0Apage/"),
    ],
)
def test_a_control_character_in_a_page_path_is_the_404_page(client_for, officer, method, path):
    token = services.api_token_create(user=officer, name="kept").token
    client = client_for(officer)
    client.raise_request_exception = False
    response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "Page not found" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None and ApiToken.objects.count() == 1


def test_the_404_page_for_a_control_character_needs_no_sign_in(client):
    response = client.get("/cases/%00/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


def test_a_form_over_the_size_limit_is_the_413_page_and_saves_nothing(client_for, officer):
    response = client_for(officer).post(
        reverse("screening:case-new"), {**NEW_CASE, "identifying_name": "x" * 3_000_000}
    )
    assert response.status_code == 413
    page = response.content.decode()
    assert "too much to send" in page and "Nothing was saved" in page
    assert "x" * 100 not in page
    assert not Case.objects.exists()


def test_a_name_over_its_length_is_a_form_error_and_saves_nothing(client_for, officer):
    response = client_for(officer).post(
        reverse("screening:case-new"), {**NEW_CASE, "identifying_name": "x" * 200_000}
    )
    assert response.status_code == 400
    assert "at most 200 characters" in response.content.decode()
    assert not Case.objects.exists()


def test_a_nul_in_a_header_is_a_400_page(client_for, officer):
    client = client_for(officer)
    response = client.post(reverse("screening:case-new"), NEW_CASE, headers={"X-Other": "a\x00"})
    assert response.status_code == 400
    assert not Case.objects.exists()
