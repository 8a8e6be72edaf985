"""Throttling per API token (per user for the browser's session), at the rate
`REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_token"]`, counted in the default cache
(production: Redis, `CACHE_URL`, so every process counts the same requests).

Fixed windows: one counter per token per window (a minute for "600/min"), raised with one
atomic increment. DRF's default keeps a list of request times per token and reads and rewrites
it on every request: on Redis that was two round trips and a pickle per API call, the largest
single cost of logging a contact after the database (docs/benchmarks.md). The price of a fixed
window is that a client may spend one window's allowance at its very end and the next one's
at once; the limit guards against runaway integrations, it is not a billing quota.
"""

from __future__ import annotations

import math
from functools import cache

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config.models import ApiToken


@cache
def _redis(location: str) -> redis.Redis:
    """One client (and connection pool) per process and Redis URL for the counters. Django's
    Redis backend has no increment that creates the key, and builds a new client object on
    every call, which cost more than the round trip itself."""
    return redis.Redis.from_url(location)


def _count(backend, key: str, *, window_seconds: int) -> int:
    """Add one to the counter `key` and return the new count; the counter expires with its
    window. On Redis: INCR and EXPIRE in one pipeline, one round trip, under the key Django's
    cache would use (so `cache.get(key)` reads the count)."""
    location = settings.CACHES[DEFAULT_CACHE_ALIAS].get("LOCATION")
    if isinstance(backend, RedisCache) and isinstance(location, str):
        full_key = backend.make_and_validate_key(key)
        # No MULTI/EXEC: nothing can come between the two that matters, and it halves the cost.
        with _redis(location).pipeline(transaction=False) as pipeline:
            count, _ = pipeline.incr(full_key).expire(full_key, window_seconds).execute()
        return int(count)
    backend.add(key, 0, timeout=window_seconds)
    return backend.incr(key)


class ApiTokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def __init__(self) -> None:
        super().__init__()
        # The backend itself: DRF's class attribute is Django's cache proxy.
        self.cache = caches[DEFAULT_CACHE_ALIAS]

    def get_rate(self) -> str | None:
        # Read at request time (not import time) so the setting can change under tests.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def window_key(self, request, view) -> str | None:
        """The cache key of the counter for the current window (None: not throttled)."""
        key = self.get_cache_key(request, view)
        if key is None:
            return None
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_ends_at = (window + 1) * self.duration
        return f"{key}:{window}"

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.window_key(request, view)
        if key is None:
            return True
        count = _count(self.cache, key, window_seconds=int(self.duration))
        return count <= self.num_requests

    def wait(self) -> float:
        """Seconds until the window ends (sent as Retry-After, rounded up by DRF)."""
        return max(1.0, math.ceil(self.window_ends_at - self.now))
