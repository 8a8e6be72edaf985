"""API tokens: stored hashed, expiring, revocable, listed per user; Bearer authentication;
throttling per token; the browser's session still works; the caller's own tokens through
/api/v1/tokens/ (created only when signed in, the secret shown once, never replayed)."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from config.errors import ValidationError
from config.models import ApiToken, IdempotencyRecord
from config.tokens import ApiTokenNotFound
from screening import services
from screening.roles import Role
from tests.api.helpers import assert_problem, error_fields
from tests.auth import sign_in
from tests.factories import UserFactory

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
    sign_in(client, advocate)
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


# --- /api/v1/tokens/ ------------------------------------------------------------------------

TOKENS = "/api/v1/tokens/"


def signed_in(user) -> APIClient:
    """A browser's session (the only way to create tokens through the API)."""
    return sign_in(APIClient(), user)


def revoke_url(prefix: str) -> str:
    return f"{TOKENS}{prefix}/revoke"


def test_the_list_shows_only_my_tokens_newest_first_with_their_status(advocate, outsider):
    expired = services.api_token_create(user=advocate, name="old crm", days=1)
    ApiToken.objects.filter(pk=expired.token.pk).update(expires_at=timezone.now())
    revoked = services.api_token_create(user=advocate, name="test system")
    services.api_token_revoke(user=advocate, prefix=revoked.token.prefix)
    active = services.api_token_create(user=advocate, name="contact-centre")
    theirs = services.api_token_create(user=outsider, name="contact-centre")

    response = bearer(active.plaintext).get(TOKENS)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["prefix"], row["status"]) for row in rows] == [
        (active.token.prefix, "active"),
        (revoked.token.prefix, "revoked"),
        (expired.token.prefix, "expired"),
    ]
    assert set(rows[0]) == {
        "prefix",
        "name",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "status",
    }
    assert rows[0]["last_used_at"] is not None  # this very request used it
    assert rows[1]["revoked_at"] is not None
    body = response.content.decode()
    assert theirs.token.prefix not in body
    for created in (expired, revoked, active):
        assert created.plaintext.split(".")[1] not in body
        assert created.token.secret_hash not in body


def test_the_list_is_cursor_paginated(advocate):
    prefixes = [
        services.api_token_create(user=advocate, name=f"system {n}").token.prefix for n in range(3)
    ]
    client = signed_in(advocate)
    first = client.get(TOKENS, {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert [row["prefix"] for row in first["results"] + second["results"]] == prefixes[::-1]
    assert second["next"] is None


@pytest.mark.parametrize("cursor", ["not-a-cursor", "\U0009ac1c\x9c"])
def test_a_malformed_cursor_is_a_400_naming_it(advocate, cursor):
    response = signed_in(advocate).get(TOKENS, {"cursor": cursor})
    assert_problem(response, 400)
    assert error_fields(response) == ["cursor"]


@pytest.mark.parametrize("count", [2, 6])
def test_the_list_runs_a_fixed_number_of_queries(advocate, count, django_assert_num_queries):
    for n in range(count):
        services.api_token_create(user=advocate, name=f"system {n}")
    client = bearer(services.api_token_create(user=advocate, name="crm").plaintext)
    client.get(TOKENS)  # the first use records last_used_at; later ones within a minute do not
    # the token with its user; one page of tokens; the access-log entry
    with django_assert_num_queries(3):
        response = client.get(TOKENS)
    assert len(response.json()["results"]) == count + 1


@pytest.mark.parametrize(
    ("method", "url"),
    [("get", TOKENS), ("post", TOKENS), ("post", revoke_url("3f9a1c0b7e21"))],
)
def test_anonymous_is_401(anonymous, method, url):
    response = getattr(anonymous, method)(url, {"name": "crm"}, format="json")
    assert_problem(response, 401)
    assert not ApiToken.objects.exists()


def test_a_signed_in_person_creates_a_token_and_sees_the_secret_once(advocate):
    response = signed_in(advocate).post(
        TOKENS, {"name": "contact-centre", "days": 30}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    token = ApiToken.objects.get()
    assert token.user == advocate and token.name == "contact-centre"
    assert body["prefix"] == token.prefix and body["status"] == "active"
    assert body["token"].startswith(f"{token.prefix}.")
    assert "only this once" in body["note"]
    expires = timezone.now() + timedelta(days=30)
    assert abs(token.expires_at - expires) < timedelta(minutes=1)
    assert response["Cache-Control"] == "no-store"
    # it works, and the list never shows the secret again
    listing = bearer(body["token"]).get(TOKENS)
    assert listing.status_code == 200
    assert body["token"].split(".")[1] not in listing.content.decode()


def test_days_default_to_90(advocate):
    response = signed_in(advocate).post(TOKENS, {"name": "crm"}, format="json")
    assert response.status_code == 201
    assert ApiToken.objects.get().expires_at > timezone.now() + timedelta(days=89)


def test_a_token_cannot_create_tokens(api, advocate):
    response = api.post(TOKENS, {"name": "another", "days": 30}, format="json")

    body = assert_problem(response, 403)
    assert body["detail"].startswith("A token cannot create tokens; sign in")
    assert ApiToken.objects.filter(user=advocate).count() == 1  # the client's own


def test_a_session_without_the_csrf_token_cannot_create_tokens(advocate):
    client = sign_in(APIClient(enforce_csrf_checks=True), advocate)
    assert_problem(client.post(TOKENS, {"name": "crm"}, format="json"), 403)
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"days": 30}, "name"),
        ({"name": "   ", "days": 30}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "crm", "days": 0}, "days"),
        ({"name": "crm", "days": 367}, "days"),
        ({"name": "crm", "days": "x"}, "days"),
        ({"name": "crm", "days": True}, "days"),
    ],
)
def test_creating_a_token_needs_a_name_and_a_lifetime_of_1_to_366_days(advocate, body, field):
    response = signed_in(advocate).post(TOKENS, body, format="json")
    assert_problem(response, 400)
    assert error_fields(response) == [field]
    assert not ApiToken.objects.exists()


def test_an_idempotent_replay_carries_no_secret(advocate):
    client = signed_in(advocate)
    headers = {"Idempotency-Key": "6f1d2c9e-8c1b-4a53-9a47-2d5e1b7c0a11"}
    first = client.post(TOKENS, {"name": "crm", "days": 30}, format="json", headers=headers)
    again = client.post(TOKENS, {"name": "crm", "days": 30}, format="json", headers=headers)

    assert first.status_code == again.status_code == 201
    secret = first.json()["token"].split(".")[1]
    assert again["Idempotent-Replayed"] == "true"
    replayed = again.json()
    assert replayed["token"] is None
    assert "shown only then" in replayed["note"] and "revoke" in replayed["note"]
    assert replayed["prefix"] == first.json()["prefix"]
    assert ApiToken.objects.count() == 1
    assert secret not in again.content.decode()
    # the stored record, whole, never held the secret
    record = IdempotencyRecord.objects.get()
    assert record.response_status == 201
    assert record.response_body["token"] is None
    assert secret not in str(record.response_body)
    assert secret not in str(IdempotencyRecord.objects.values().get())


def test_a_replay_of_a_token_that_is_gone_is_the_404_of_a_missing_token(advocate):
    client = signed_in(advocate)
    headers = {"Idempotency-Key": "token-request-2"}
    first = client.post(TOKENS, {"name": "crm"}, format="json", headers=headers)
    record = IdempotencyRecord.objects.get()
    assert (record.object_type, record.object_id) == ("api_token", first.json()["prefix"])
    ApiToken.objects.filter(prefix=first.json()["prefix"]).delete()
    again = client.post(TOKENS, {"name": "crm"}, format="json", headers=headers)
    replayed = assert_problem(again, 404)
    missing = assert_problem(client.post(f"{TOKENS}000000000000/revoke"), 404)
    assert (replayed["type"], replayed["detail"]) == (missing["type"], missing["detail"])
    assert first.json()["prefix"] not in again.content.decode()


def test_a_reused_idempotency_key_with_another_body_is_409(advocate):
    client = signed_in(advocate)
    headers = {"Idempotency-Key": "token-request-1"}
    assert client.post(TOKENS, {"name": "crm"}, format="json", headers=headers).status_code == 201
    assert_problem(client.post(TOKENS, {"name": "other"}, format="json", headers=headers), 409)
    assert ApiToken.objects.count() == 1


def test_revoking_my_token_takes_effect_at_once(advocate):
    created = services.api_token_create(user=advocate, name="crm")
    response = signed_in(advocate).post(revoke_url(created.token.prefix))

    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert response.json()["revoked_at"] is not None
    assert_problem(bearer(created.plaintext).get(TOKENS), 401)


def test_revoking_twice_changes_nothing(advocate):
    created = services.api_token_create(user=advocate, name="crm")
    client = signed_in(advocate)
    first = client.post(revoke_url(created.token.prefix)).json()
    second = client.post(revoke_url(created.token.prefix)).json()
    assert first == second


def test_a_token_may_revoke_itself(advocate):
    created = services.api_token_create(user=advocate, name="crm")
    client = bearer(created.plaintext)
    response = client.post(revoke_url(created.token.prefix))
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert_problem(client.get(TOKENS), 401)


def test_another_persons_token_is_404_exactly_like_a_missing_one(advocate, outsider):
    theirs = services.api_token_create(user=outsider, name="crm")
    client = bearer(services.api_token_create(user=advocate, name="mine").plaintext)

    forbidden = client.post(revoke_url(theirs.token.prefix))
    missing = client.post(revoke_url("000000000000"))

    assert assert_problem(forbidden, 404) == assert_problem(missing, 404)
    assert bearer(theirs.plaintext).get(TOKENS).status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_every_role_manages_its_own_tokens(role):
    person = UserFactory(role=role)
    client = signed_in(person)
    created = client.post(TOKENS, {"name": "crm"}, format="json")
    assert created.status_code == 201
    prefix = created.json()["prefix"]
    own = bearer(created.json()["token"])
    assert [row["prefix"] for row in own.get(TOKENS).json()["results"]] == [prefix]
    assert own.post(revoke_url(prefix)).status_code == 200
