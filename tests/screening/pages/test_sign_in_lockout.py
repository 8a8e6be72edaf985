"""Sign-in lockout (config/lockout.py): five failures for one username, or from one address,
within 15 minutes pause sign-in for 30 minutes, with a calm page; failures spread wider than
the window never lock; the lock ends by itself."""

import datetime

import pytest
from axes.models import AccessFailureLog
from django.db.models import F
from django.test import Client

from config.lockout import lockout_reset_username
from config.models import AccessLogEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "correct-horse-battery"


def sign_in(client: Client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def fail(client: Client, username: str, times: int = 1):
    for _ in range(times):
        response = sign_in(client, username, "not-the-password")
    return response


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/"


def age_failures(minutes: int) -> None:
    """Time travel: every recorded failure happened `minutes` earlier than it did."""
    AccessFailureLog.objects.update(
        attempt_time=F("attempt_time") - datetime.timedelta(minutes=minutes)
    )


def test_five_failures_pause_sign_in_even_with_the_right_password(client, officer):
    for _ in range(4):
        assert "did not match" in fail(client, officer.username).content.decode()
    fifth = fail(client, officer.username)
    assert fifth.status_code == 429 and "in about 30 minutes" in fifth.content.decode()
    refused = sign_in(client, officer.username, PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    page = refused.content.decode()
    assert "Sign-in is paused" in page
    assert "in about 30 minutes" in page
    assert "an administrator of your agency" in page
    assert 1790 <= int(refused["Retry-After"]) <= 1800
    assert officer.username not in page  # never echoed


def test_the_page_is_the_same_for_an_unknown_username(client, officer):
    unknown = fail(Client(REMOTE_ADDR="192.0.2.10"), "no-such-person", times=5)
    known = fail(Client(REMOTE_ADDR="192.0.2.11"), officer.username, times=5)
    assert unknown.status_code == known.status_code == 429
    assert unknown.content.decode().replace("no-such-person", "") == known.content.decode().replace(
        officer.username, ""
    )
    assert "no-such-person" not in unknown.content.decode()


def test_refused_attempts_do_not_extend_the_pause(client, officer):
    fail(client, officer.username, times=5)
    fail(client, officer.username, times=10)
    assert AccessFailureLog.objects.count() == 5
    age_failures(31)
    assert signed_in(sign_in(client, officer.username, PASSWORD))


def test_the_pause_ends_after_30_minutes(client, officer):
    fail(client, officer.username, times=5)
    age_failures(29)
    assert sign_in(client, officer.username, PASSWORD).status_code == 429
    age_failures(2)
    assert signed_in(sign_in(client, officer.username, PASSWORD))


def test_failures_spread_wider_than_the_window_never_pause(client, officer):
    """Four failures, 16 minutes pass, four more: never five within 15 minutes."""
    fail(client, officer.username, times=4)
    age_failures(16)
    assert fail(client, officer.username, times=4).status_code == 200
    assert signed_in(sign_in(client, officer.username, PASSWORD))


def test_failures_inside_the_window_pause_however_they_are_spaced(client, officer):
    fail(client, officer.username, times=3)
    age_failures(14)
    assert fail(client, officer.username).status_code == 200
    assert fail(client, officer.username).status_code == 429


def test_a_pause_by_username_follows_it_to_any_address(officer):
    fail(Client(REMOTE_ADDR="192.0.2.20"), officer.username, times=5)
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert sign_in(elsewhere, officer.username, PASSWORD).status_code == 429


def test_an_address_is_paused_for_every_username_it_tries(officer, colleague):
    attacker = Client(REMOTE_ADDR="192.0.2.30")
    for number in range(5):
        fail(attacker, f"guess-{number}")
    assert sign_in(attacker, colleague.username, PASSWORD).status_code == 429
    # The colleague signs in from anywhere else: only the address was paused.
    assert signed_in(sign_in(Client(REMOTE_ADDR="198.51.100.8"), colleague.username, PASSWORD))


def test_forwarded_headers_do_not_change_the_address(officer):
    for number in range(5):
        client = Client(REMOTE_ADDR="192.0.2.40", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
        fail(client, f"guess-{number}")
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {"192.0.2.40"}
    client = Client(REMOTE_ADDR="192.0.2.40", HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert sign_in(client, officer.username, PASSWORD).status_code == 429


def test_a_successful_sign_in_clears_only_that_usernames_failures(client, officer, colleague):
    fail(client, "someone-else", times=2)
    fail(client, officer.username, times=2)
    assert signed_in(sign_in(client, officer.username, PASSWORD))
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == ["someone-else"] * 2


def test_lifting_a_lock_lets_the_member_sign_in_at_once(client, officer):
    fail(Client(REMOTE_ADDR="192.0.2.50"), officer.username, times=5)
    assert sign_in(client, officer.username, PASSWORD).status_code == 429
    lockout_reset_username(username=officer.username)
    assert signed_in(sign_in(client, officer.username, PASSWORD))


def test_limits_come_from_settings(client, officer, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.LOCKOUT_MINUTES = 5
    fail(client, officer.username, times=2)
    refused = sign_in(client, officer.username, PASSWORD)
    assert refused.status_code == 429 and "in about 5 minutes" in refused.content.decode()
    age_failures(6)
    assert signed_in(sign_in(client, officer.username, PASSWORD))


def test_failed_and_refused_sign_ins_are_in_the_access_log(client, officer):
    fail(client, officer.username, times=5)
    sign_in(client, officer.username, PASSWORD)
    entries = list(
        AccessLogEntry.objects.order_by("pk").values_list("route", "status_code", "outcome")
    )
    assert (
        entries == [("login", 200, "unauthenticated")] * 4 + [("login", 429, "unauthenticated")] * 2
    )


def test_the_api_token_is_not_a_sign_in(client, officer):
    from screening import services

    token = services.api_token_create(user=officer, name="crm").plaintext
    fail(client, officer.username, times=5)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/instruments/").status_code == 200


def test_old_failures_are_deleted_as_new_ones_come_in(client):
    fail(client, "someone", times=2)
    age_failures(31)
    fail(client, "someone-else")
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == ["someone-else"]


def test_admin_sign_in_is_paused_too(client):
    UserFactory(username="fictional-root", is_staff=True, is_superuser=True)
    for _ in range(5):
        client.post("/admin/login/", {"username": "fictional-root", "password": "wrong"})
    refused = client.post("/admin/login/", {"username": "fictional-root", "password": PASSWORD})
    assert refused.status_code == 429
