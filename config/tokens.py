"""API tokens for integrations: create (the plaintext is shown once), revoke, list, and check
a presented token. Only the SHA-256 of the secret is stored; comparison is constant-time.

In config (the ground floor) because the API's authentication uses it; the user model comes
from `settings.AUTH_USER_MODEL`, never from an app's import."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group
from django.db import IntegrityError, connections, router, transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import ApplicationError, NotFound, ValidationError
from config.models import ApiToken

MAX_TOKEN_DAYS = 366
# Recording every use would add a write to every request; a minute's precision is plenty.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiTokenNotFound(NotFound):
    def __init__(self, message: str = "No such API token.") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    plaintext: str  # "<prefix>.<secret>": shown to the user once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiTokenFormAlreadySent(ApplicationError):
    """The page form with this request id created a token already (its secret is gone)."""

    def __init__(self, prefix: str) -> None:
        super().__init__("That form was already sent.")
        self.prefix = prefix


def api_token_create(
    *, user: AbstractBaseUser, name: str, days: int = 90, form_request_id: str = ""
) -> CreatedToken:
    """A new token for `user`, valid for `days` (1…366). The plaintext is only in the result.

    `form_request_id`, the random id of the page form sent, makes a second sending of the
    same form (even a simultaneous one) raise `ApiTokenFormAlreadySent` instead."""
    problems: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        problems["name"] = ["Name the token after the system that will use it."]
    elif len(name) > 100:
        problems["name"] = ["At most 100 characters."]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        problems["days"] = [f"Give a whole number of days from 1 to {MAX_TOKEN_DAYS}."]
    if not user.is_active:
        problems["user"] = ["The account is not active."]
    if len(form_request_id) > 64:
        problems["request_id"] = ["At most 64 characters."]
    if problems:
        raise ValidationError("The token was not created.", problems)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=user,
                name=name,
                prefix=prefix,
                secret_hash=_hash(secret),
                expires_at=timezone.now() + timedelta(days=days),
                form_request_id=form_request_id,
            )
    except IntegrityError:
        earlier = None
        if form_request_id:
            earlier = ApiToken.objects.filter(user=user, form_request_id=form_request_id).first()
        if earlier is None:  # not this form's constraint (e.g. a prefix collision)
            raise
        raise ApiTokenFormAlreadySent(earlier.prefix) from None
    return CreatedToken(token=token, plaintext=f"{prefix}.{secret}")


@transaction.atomic
def api_token_revoke(*, user: AbstractBaseUser, prefix: str) -> ApiToken:
    """Revoke one of `user`'s own tokens; revoking a revoked token changes nothing."""
    token = ApiToken.objects.select_for_update().filter(user=user, prefix=prefix).first()
    if token is None:
        raise ApiTokenNotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_revoke_all(*, user: AbstractBaseUser) -> int:
    """Revoke every token of `user` not revoked yet (a password change, a deactivation: the
    credentials may be in the wrong hands). Returns how many were revoked."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def api_token_list(*, user: AbstractBaseUser) -> QuerySet[ApiToken]:
    """`user`'s tokens, newest first, revoked and expired ones included (they say so)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


_EXTRA_COLUMNS = ("token_id", "token_secret_hash", "token_stale", "role_list")


@cache
def _authenticate_sql(alias: str) -> str:
    """The usable token of a prefix, its active user and the user's role names: one query.

    Plain SQL because this runs on every API request: through the ORM it took two queries
    (token with user, then the roles) whose compilation cost more than the statements."""
    User = get_user_model()  # noqa: N806
    connection = connections[alias]
    quote = connection.ops.quote_name
    token = {field.attname: quote(field.column) for field in ApiToken._meta.concrete_fields}
    user_columns = ", ".join(f"u.{quote(field.column)}" for field in User._meta.concrete_fields)
    membership = User.groups.through._meta
    group = Group._meta
    joined_names = (
        "string_agg(g.{name}, ',')"
        if connection.vendor == "postgresql"
        else "group_concat(g.{name}, ',')"
    ).format(name=quote(group.get_field("name").column))
    return (
        f"SELECT {user_columns}, t.{token['id']} AS token_id, "  # noqa: S608 (names from the models, quoted; values are parameters)
        f"t.{token['secret_hash']} AS token_secret_hash, "
        f"(t.{token['last_used_at']} IS NULL OR t.{token['last_used_at']} < %s) AS token_stale, "
        f"(SELECT {joined_names} FROM {quote(group.db_table)} g "
        f"INNER JOIN {quote(membership.db_table)} m "
        f"ON m.{quote(membership.get_field('group').column)} = g.{quote(group.pk.column)} "
        f"WHERE m.{quote(membership.get_field('user').column)} = u.{quote(User._meta.pk.column)}"
        ") AS role_list "
        f"FROM {quote(ApiToken._meta.db_table)} t INNER JOIN {quote(User._meta.db_table)} u "
        f"ON u.{quote(User._meta.pk.column)} = t.{token['user_id']} "
        f"WHERE t.{token['prefix']} = %s AND t.{token['revoked_at']} IS NULL "
        f"AND t.{token['expires_at']} > %s AND u.{quote(User._meta.get_field('is_active').column)}"
    )


@cache
def _user_attnames() -> tuple[str, ...]:
    return tuple(field.attname for field in get_user_model()._meta.concrete_fields)


@cache
def _user_converters(alias: str) -> tuple[tuple[object, tuple], ...]:
    """Per user column, what the ORM would run on a fetched value (e.g. SQLite's text dates)."""
    User = get_user_model()  # noqa: N806
    connection = connections[alias]
    converters = []
    for field in User._meta.concrete_fields:
        column = field.get_col(User._meta.db_table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        converters.append((column, tuple(functions)))
    return tuple(converters)


def _converted(values: tuple, connection) -> list:
    converted = []
    for value, (column, functions) in zip(values, _user_converters(connection.alias), strict=True):
        for function in functions:
            value = function(value, column, connection)
        converted.append(value)
    return converted


def api_token_authenticate(presented: str) -> ApiToken | None:
    """The usable token `presented` ("<prefix>.<secret>") names, with its user and the user's
    roles loaded, or None (unknown, wrong secret, expired, revoked, inactive user). Records
    the use, at most once a minute."""
    prefix, dot, secret = presented.partition(".")
    if not dot or not prefix or not secret or len(prefix) > 16:
        return None
    alias = router.db_for_read(ApiToken)
    connection = connections[alias]
    now = timezone.now()
    as_db_time = ApiToken._meta.get_field("expires_at").get_db_prep_value
    params = [
        as_db_time(now - LAST_USED_PRECISION, connection),
        prefix,
        as_db_time(now, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_authenticate_sql(alias), params)
        row = cursor.fetchone()
    user = None
    if row is not None:
        user_values, token_values = row[: -len(_EXTRA_COLUMNS)], row[-len(_EXTRA_COLUMNS) :]
        # Built as the ORM builds a fetched row: converters for the backend, then from_db.
        user_model = get_user_model()
        user = user_model.from_db(alias, _user_attnames(), _converted(user_values, connection))
        extra = dict(zip(_EXTRA_COLUMNS, token_values, strict=True))
    # Compare even when there is no such token, so timing does not tell prefixes apart.
    expected = extra["token_secret_hash"] if user is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or user is None:
        return None
    user.__dict__["role_names"] = frozenset(filter(None, (extra["role_list"] or "").split(",")))
    token = ApiToken.from_db(  # the token's other fields load if asked for
        alias,
        ["id", "user_id", "prefix", "secret_hash"],
        [extra["token_id"], user.pk, prefix, expected],
    )
    token.user = user
    if extra["token_stale"]:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


API_TOKEN_STATUSES = ("active", "expired", "revoked")


def api_token_status(token: ApiToken, *, at: datetime | None = None) -> str:
    """What the owner sees in a list: "revoked" (whatever the date), "expired" or "active"."""
    if token.revoked_at is not None:
        return "revoked"
    return "expired" if token.expires_at <= (at or timezone.now()) else "active"


def api_token_get(*, user: AbstractBaseUser, prefix: str) -> ApiToken:
    """One of `user`'s own tokens; another person's is "not found", exactly like a missing one."""
    token = ApiToken.objects.filter(user=user, prefix=prefix).first()
    if token is None:
        raise ApiTokenNotFound()
    return token
