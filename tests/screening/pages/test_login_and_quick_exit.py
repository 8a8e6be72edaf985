"""Signing in and out, and the quick exit that ends the session at once."""

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_signs_in_to_my_cases(client, officer):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert '<html lang="en">' in page.content.decode()
    response = client.post(
        "/accounts/login/", {"username": officer.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_an_error(client, officer):
    response = client.post("/accounts/login/", {"username": officer.username, "password": "x"})
    assert response.status_code == 200
    assert "did not match" in response.content.decode()


def test_logout_is_a_post(client_for, officer):
    client = client_for(officer)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_quick_exit_is_on_every_page_of_a_signed_in_worker(client_for, officer, draft):
    client = client_for(officer)
    for url in (
        "/",
        f"/cases/{draft.case.reference}/",
        reverse("screening:screening-section", kwargs={"screening_id": draft.pk, "step": 1}),
    ):
        page = client.get(url).content.decode()
        assert 'action="/quick-exit"' in page and "Quick exit" in page


@pytest.mark.parametrize("method", ["get", "post"])
def test_quick_exit_flushes_the_session_and_leaves(client_for, officer, method):
    client = client_for(officer)
    client.get("/")
    session_key = client.session.session_key
    response = getattr(client, method)("/quick-exit")
    assert response.status_code == 302
    assert response["Location"] == settings.QUICK_EXIT_URL
    assert client.session.session_key != session_key
    assert "_auth_user_id" not in client.session
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_quick_exit_goes_where_the_setting_says(client_for, officer, settings):
    settings.QUICK_EXIT_URL = "https://example.org/weather"
    assert client_for(officer).post("/quick-exit")["Location"] == "https://example.org/weather"
