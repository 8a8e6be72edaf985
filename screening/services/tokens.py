"""API tokens for integrations: create (the plaintext is shown once), revoke, list, and check
a presented token. Only the SHA-256 of the secret is stored; comparison is constant-time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from screening.errors import NotFound, ValidationError
from screening.models import ApiToken, User

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


@transaction.atomic
def api_token_create(*, user: User, name: str, days: int = 90) -> CreatedToken:
    """A new token for `user`, valid for `days` (1…366). The plaintext is only in the result."""
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
    if problems:
        raise ValidationError("The token was not created.", problems)
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        expires_at=timezone.now() + timedelta(days=days),
    )
    return CreatedToken(token=token, plaintext=f"{prefix}.{secret}")


@transaction.atomic
def api_token_revoke(*, user: User, prefix: str) -> ApiToken:
    """Revoke one of `user`'s own tokens; revoking a revoked token changes nothing."""
    token = ApiToken.objects.select_for_update().filter(user=user, prefix=prefix).first()
    if token is None:
        raise ApiTokenNotFound()
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    """`user`'s tokens, newest first, revoked and expired ones included (they say so)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-pk")


def api_token_authenticate(presented: str) -> ApiToken | None:
    """The usable token `presented` ("<prefix>.<secret>") names, with its user loaded, or None
    (unknown, wrong secret, expired, revoked, inactive user). Records the use."""
    prefix, dot, secret = presented.partition(".")
    if not dot or not prefix or not secret or len(prefix) > 16:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
    # Compare even when there is no such token, so timing does not tell prefixes apart.
    expected = token.secret_hash if token is not None else _hash("")
    if not hmac.compare_digest(expected, _hash(secret)) or token is None:
        return None
    now = timezone.now()
    if not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
