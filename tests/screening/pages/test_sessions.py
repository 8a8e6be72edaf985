"""Sessions end: 12 hours after sign-in however busy (config/sessions.py), everywhere at once
on request, and when the password changes or the account is deactivated (with the API
tokens then)."""

import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client

from config.models import ApiToken
from config.sessions import SIGNED_IN_AT
from screening import services
from screening.roles import Role
from screening.services.staff import staff_deactivate, staff_sessions_end
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
NEW_PASSWORD = "a-new-long-passphrase-42"


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def sign_in_with_form(user, **extra) -> Client:
    client = Client(**extra)
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    return client


def set_signed_in_at(client: Client, seconds_ago: int) -> None:
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - seconds_ago
    session.save()


# --- absolute lifetime ----------------------------------------------------------------------


def test_signing_in_records_when(officer):
    before = int(time.time())
    client = sign_in_with_form(officer)
    assert before <= client.session[SIGNED_IN_AT] <= int(time.time())


def test_a_session_busy_all_along_ends_12_hours_after_sign_in(client_for, officer):
    client = client_for(officer)
    assert settings.SESSION_ABSOLUTE_SECONDS == 12 * 3600
    set_signed_in_at(client, 12 * 3600 - 60)
    assert signed_in(client)  # used a minute ago: the idle timeout alone would never end it
    set_signed_in_at(client, 12 * 3600)
    old_key = client.session.session_key
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)
    assert not Session.objects.filter(session_key=old_key).exists()  # gone server-side
    assert not signed_in(client)


def test_the_api_answers_401_to_a_session_past_its_lifetime(client_for, officer):
    client = client_for(officer)
    assert client.get("/api/v1/instruments/").status_code == 200
    set_signed_in_at(client, 12 * 3600 + 1)
    assert client.get("/api/v1/instruments/").status_code == 401


def test_the_lifetime_comes_from_settings(client_for, officer, settings):
    settings.SESSION_ABSOLUTE_SECONDS = 600
    client = client_for(officer)
    set_signed_in_at(client, 601)
    assert not signed_in(client)


def test_a_session_from_before_the_lifetime_existed_starts_its_clock_now(client_for, officer):
    client = client_for(officer)
    session = client.session
    del session[SIGNED_IN_AT]
    session.save()
    assert signed_in(client)
    assert abs(client.session[SIGNED_IN_AT] - time.time()) < 5


def test_changing_the_password_does_not_extend_the_session(client_for, officer):
    client = client_for(officer)
    set_signed_in_at(client, 3600)
    started = client.session[SIGNED_IN_AT]
    client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert signed_in(client)
    assert client.session[SIGNED_IN_AT] == started


# --- sign out everywhere --------------------------------------------------------------------


def test_the_account_page_offers_sign_out_everywhere(client_for, officer):
    page = client_for(officer).get("/account/").content.decode()
    assert 'action="/account/sign-out-everywhere"' in page and 'method="post"' in page
    header = client_for(officer).get("/").content.decode()
    assert 'href="/account/"' in header


def test_the_account_pages_need_a_signed_in_person(client):
    for url in ("/account/", "/account/password/", "/account/sign-out-everywhere"):
        response = client.post(url) if url.endswith("everywhere") else client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(settings.LOGIN_URL)


def test_sign_out_everywhere_ends_every_session_and_keeps_the_tokens(client_for, officer):
    token = services.api_token_create(user=officer, name="crm")
    laptop, phone = sign_in_with_form(officer), client_for(officer)
    someone_else = client_for(UserFactory(agency=officer.agency))
    response = laptop.post("/account/sign-out-everywhere")
    assert response.status_code == 302 and response["Location"] == settings.LOGIN_URL
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(someone_else)
    assert "You are signed out everywhere" in laptop.get(settings.LOGIN_URL).content.decode()
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    assert api.get("/api/v1/instruments/").status_code == 200
    # Signing in again works, and the new session is not ended by the old sign-out.
    assert signed_in(sign_in_with_form(officer))


def test_sign_out_everywhere_is_a_post(client_for, officer):
    client = client_for(officer)
    # A GET (a reload, a link) signs nobody out: it leads back to the account page.
    response = client.get("/account/sign-out-everywhere")
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert signed_in(client)


def test_sessions_from_before_the_generation_existed_are_ended_too(client_for, officer):
    """Generation 0 keeps Django's own hash; the first sign-out-everywhere ends those too."""
    old = client_for(officer)
    assert officer.session_generation == 0
    staff_sessions_end(member=officer)
    assert not signed_in(old)


# --- password change ------------------------------------------------------------------------


def _change_password(client: Client, *, old: str = PASSWORD, new: str = NEW_PASSWORD):
    return client.post(
        "/account/password/", {"old_password": old, "new_password1": new, "new_password2": new}
    )


def test_changing_the_password_keeps_this_session_ends_others_and_revokes_tokens(
    client_for, officer
):
    token = services.api_token_create(user=officer, name="crm")
    here, elsewhere = client_for(officer), client_for(officer)
    page = here.get("/account/password/").content.decode()
    assert "your 1 API token will be revoked" in page
    response = _change_password(here)
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert "every other session has ended and 1 API token revoked" in (
        here.get("/account/").content.decode()
    )
    assert signed_in(here) and not signed_in(elsewhere)
    assert ApiToken.objects.get(pk=token.token.pk).revoked_at is not None
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    assert api.get("/api/v1/instruments/").status_code == 401
    officer.refresh_from_db()
    assert officer.check_password(NEW_PASSWORD)


def test_a_wrong_current_password_changes_nothing(client_for, officer):
    token = services.api_token_create(user=officer, name="crm")
    here, elsewhere = client_for(officer), client_for(officer)
    response = _change_password(here, old="not-my-password")
    assert response.status_code == 400
    assert "error-summary" in response.content.decode()
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)
    assert signed_in(elsewhere)
    assert ApiToken.objects.get(pk=token.token.pk).revoked_at is None


def test_a_weak_new_password_is_refused(client_for, officer):
    response = _change_password(client_for(officer), new="short")
    assert response.status_code == 400
    officer.refresh_from_db()
    assert officer.check_password(PASSWORD)


def test_djangos_password_change_address_leads_to_ours(client_for, officer):
    response = client_for(officer).get("/accounts/password_change/")
    assert response.status_code == 302 and response["Location"] == "/account/password/"


def test_a_password_set_by_any_service_ends_the_other_sessions(client_for, officer):
    from screening.services.staff import staff_password_set

    elsewhere = client_for(officer)
    token = services.api_token_create(user=officer, name="crm").token
    assert staff_password_set(member=officer, password=NEW_PASSWORD, by=officer) == 1
    assert not signed_in(elsewhere)
    token.refresh_from_db()
    assert token.revoked_at is not None


# --- deactivation ---------------------------------------------------------------------------


def test_deactivation_ends_sessions_and_tokens_for_good(client_for, officer):
    admin = UserFactory(agency=officer.agency, role=Role.AGENCY_ADMIN)
    token = services.api_token_create(user=officer, name="crm")
    session = client_for(officer)
    staff_deactivate(member=officer, by=admin)
    assert not signed_in(session)
    # Reactivated later (by a superuser, say): the old session and the token stay dead.
    officer.refresh_from_db()
    officer.is_active = True
    officer.save()
    assert not signed_in(session)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token.plaintext}")
    assert api.get("/api/v1/instruments/").status_code == 401
