"""Typed access to environment variables, with errors that name the variable.

Only settings modules call these, at settings import time; nothing else reads the
environment directly.
"""

import os
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    value = os.environ.get(name)
    if value is None or value == "":
        if required:
            raise ImproperlyConfigured(f"{name} is not set (required in this settings profile)")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {value!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: list[str] | None = None, *, required: bool = False) -> list[str]:
    value = env_str(name, required=required)
    if value is None:
        return list(default or [])
    items = [part.strip() for part in value.split(",") if part.strip()]
    if required and not items:
        raise ImproperlyConfigured(f"{name} is empty (required in this settings profile)")
    return items


def env_database(name: str, default: str | None = None, *, require_server: bool = False) -> dict:
    """Parse a database URL; ``require_server`` refuses SQLite (production needs PostgreSQL)."""
    url = env_str(name, default, required=default is None)
    assert url is not None
    scheme = urlparse(url).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// or sqlite:// URL, got scheme {scheme or '(none)'!r}"
        )
    if require_server and scheme == "sqlite":
        raise ImproperlyConfigured(f"{name} must point at PostgreSQL in production, not SQLite")
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} is malformed: {error}") from None
    if scheme != "sqlite" and not config.get("NAME"):
        raise ImproperlyConfigured(f"{name} names no database (expected .../DBNAME)")
    if scheme != "sqlite":
        config.setdefault("OPTIONS", {}).update(_postgres_binding())
    return config


def _postgres_binding() -> dict:
    """Parameters bound by the server, and statements a connection runs often prepared
    (docs/benchmarks.md "Prepared statements"). Django's defaults are the opposite (values
    quoted into the SQL text on the client, nothing prepared) so that a transaction-mode
    pooler can sit between it and PostgreSQL. Every request here repeats the same few
    statements (token, key lookup, inserts, the access-log row) on a connection kept for a
    minute: prepared, PostgreSQL parses each one once per connection, not per request.

    Each run is still planned for its own values (`plan_cache_mode=force_custom_plan`): one
    list statement serves a supervisor who sees 37,000 cases and a worker who sees 180, and
    a generic plan is chosen once for all of them. In the one full run made with generic
    plans the lists' medians were lower and no page went wrong, but one run does not show
    that every list is safe with them. Behind PgBouncer in transaction mode before 1.21 (or
    without max_prepared_statements), set DATABASE_PREPARED_STATEMENTS=false."""
    binding: dict = {"server_side_binding": True, "options": "-c plan_cache_mode=force_custom_plan"}
    if env_bool("DATABASE_PREPARED_STATEMENTS", True):
        # psycopg's own default: prepared from a statement's sixth run on a connection.
        binding["prepare_threshold"] = 5
    return binding


def env_redis_url(name: str, default: str | None = None, *, required: bool = False) -> str | None:
    url = env_str(name, default, required=required)
    if url is None:
        return None
    parsed = urlparse(url)
    if parsed.scheme not in {"redis", "rediss"} or not parsed.hostname:
        # The URL itself is not echoed: it may carry a password.
        raise ImproperlyConfigured(f"{name} must be a redis://HOST:PORT/DB URL")
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has an invalid port") from None
    return url
