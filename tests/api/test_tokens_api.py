"""API tokens: stored hashed, expiring, revocable, listed per user; Bearer authentication;
throttling per token; the browser's session still works."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from screening import services
from screening.errors import ValidationError
from screening.models import ApiToken
from screening.services.tokens import ApiTokenNotFound
from tests.api.helpers import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/contacts/"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_token_authenticates_and_records_its_use(advocate):
    created = services.api_token_create(user=advocate, name="contact-centre", days=90)
    assert bearer(created.plaintext).get(URL).status_code == 200
    created.token.refresh_from_db()
    assert created.token.last_used_at is not None


def test_only_a_hash_of_the_secret_is_stored(advocate):
    created = services.api_token_create(user=advocate, name="contact-centre")
    prefix, secret = created.plaintext.split(".")
    row = ApiToken.objects.filter(pk=created.token.pk).values().get()
    assert row["prefix"] == prefix
    assert secret not in str(row)
    assert row["expires_at"] > timezone.now() + timedelta(days=89)


@pytest.mark.parametrize(
    "presented",
    ["", "nonsense", "abc.def", "Bearer", "deadbeef0000.wrong-secret"],
)
def test_unknown_or_malformed_tokens_are_401(advocate, presented):
    response = bearer(presented).get(URL)
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_right_prefix_with_a_wrong_secret_is_401(advocate):
    created = services.api_token_create(user=advocate, name="contact-centre")
    assert_problem(bearer(f"{created.token.prefix}.not-the-secret").get(URL), 401)


def test_an_expired_token_is_401(advocate):
    created = services.api_token_create(user=advocate, name="contact-centre", days=1)
    ApiToken.objects.filter(pk=created.token.pk).update(expires_at=timezone.now())
    assert_problem(bearer(created.plaintext).get(URL), 401)


def test_a_revoked_token_is_401(advocate):
    created = services.api_token_create(user=advocate, name="contact-centre")
    services.api_token_revoke(user=advocate, prefix=created.token.prefix)
    assert_problem(bearer(created.plaintext).get(URL), 401)


def test_a_deactivated_users_token_is_401(advocate):
    created = services.api_token_create(user=advocate, name="contact-centre")
    advocate.is_active = False
    advocate.save()
    assert_problem(bearer(created.plaintext).get(URL), 401)


def test_only_the_owner_can_revoke_a_token(advocate, outsider):
    created = services.api_token_create(user=advocate, name="contact-centre")
    with pytest.raises(ApiTokenNotFound):
        services.api_token_revoke(user=outsider, prefix=created.token.prefix)
    assert bearer(created.plaintext).get(URL).status_code == 200


def test_tokens_are_listed_per_user(advocate, outsider):
    mine = [services.api_token_create(user=advocate, name=f"system {n}").token for n in (1, 2)]
    services.api_token_create(user=outsider, name="theirs")
    assert list(services.api_token_list(user=advocate)) == mine[::-1]


@pytest.mark.parametrize(("name", "days"), [("", 90), ("x", 0), ("x", 400), ("x" * 101, 9)])
def test_a_token_needs_a_name_and_a_bounded_lifetime(advocate, name, days):
    with pytest.raises(ValidationError):
        services.api_token_create(user=advocate, name=name, days=days)
    assert not ApiToken.objects.exists()


def test_the_command_prints_a_working_token_once(advocate):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "api_token_create",
        advocate.username,
        "--name",
        "crm",
        "--days",
        "30",
        stdout=out,
        stderr=err,
    )
    plaintext = out.getvalue().strip()
    assert bearer(plaintext).get(URL).status_code == 200
    assert plaintext not in err.getvalue()
    assert ApiToken.objects.get().name == "crm"


def test_the_command_explains_bad_input(advocate):
    with pytest.raises(CommandError, match="no user"):
        call_command("api_token_create", "nobody", "--name", "crm", stderr=io.StringIO())
    with pytest.raises(CommandError, match="days"):
        call_command(
            "api_token_create",
            advocate.username,
            "--name",
            "crm",
            "--days",
            "0",
            stderr=io.StringIO(),
        )


def test_the_browser_session_still_works_and_anonymous_is_401(client, advocate):
    assert_problem(client.get(URL), 401)
    client.force_login(advocate)
    assert client.get(URL).status_code == 200


def test_requests_are_throttled_per_token(advocate):
    first = services.api_token_create(user=advocate, name="one").plaintext
    second = services.api_token_create(user=advocate, name="two").plaintext
    rest_framework = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": "2/min"},
    }
    with override_settings(REST_FRAMEWORK=rest_framework):
        client = bearer(first)
        assert [client.get(URL).status_code for _ in range(2)] == [200, 200]
        response = client.get(URL)
        assert_problem(response, 429)
        assert int(response["Retry-After"]) > 0
        assert bearer(second).get(URL).status_code == 200


def test_operators_can_list_and_revoke_tokens_by_command(advocate):
    created = services.api_token_create(user=advocate, name="crm")
    listing = io.StringIO()
    call_command("api_token_list", advocate.username, stdout=listing)
    assert created.token.prefix in listing.getvalue() and "active" in listing.getvalue()
    assert created.plaintext.split(".")[1] not in listing.getvalue()
    call_command("api_token_revoke", advocate.username, created.token.prefix, stdout=io.StringIO())
    assert_problem(bearer(created.plaintext).get(URL), 401)
    with pytest.raises(CommandError, match="no token"):
        call_command("api_token_revoke", advocate.username, "nope", stdout=io.StringIO())
