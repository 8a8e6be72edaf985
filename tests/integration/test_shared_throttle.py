"""With production's cache (Redis, `CACHE_URL`), a token's throttle counter is one counter for
every process: what one process counted, another sees and enforces. With Django's default
in-memory cache each process would count alone, multiplying the limit by the process count."""

import uuid
from types import SimpleNamespace

import pytest
import redis
from django.conf import settings
from django.core.cache import CacheHandler
from django.test import override_settings
from rest_framework.test import APIClient

from config.api.throttling import ApiTokenRateThrottle
from screening import services
from tests.api.helpers import assert_problem
from tests.factories import UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

URL = "/api/v1/tokens/"


@pytest.fixture
def redis_cache(redis_url):
    """The default cache on the real Redis, under a key prefix of this test's own (the database
    is the broker's too: only this prefix's keys are deleted afterwards, never the database)."""
    prefix = f"test-throttle-{uuid.uuid4().hex}"
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        }
    }
    rest_framework = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_token": "3/min"}}
    raw = redis.Redis.from_url(redis_url)
    try:
        with override_settings(CACHES=caches, REST_FRAMEWORK=rest_framework):
            yield SimpleNamespace(prefix=prefix, raw=raw)
    finally:
        for key in raw.scan_iter(f"{prefix}:*"):
            raw.delete(key)
        raw.close()


def test_every_process_counts_the_same_requests_of_a_token(redis_cache):
    person = UserFactory()
    created = services.api_token_create(user=person, name="contact-centre")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.plaintext}")

    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]

    # Another process: a cache handler and connection pool of its own, on the same Redis.
    other_process = CacheHandler(settings.CACHES)["default"]
    throttle = ApiTokenRateThrottle()
    throttle.cache = other_process
    request = SimpleNamespace(auth=created.token, user=person)
    key = throttle.window_key(request, view=None)
    try:
        assert other_process.get(key) == 3  # this window's counter: the three requests
        assert throttle.allow_request(request, view=None) is False  # the fourth, counted there
    finally:
        other_process.close()
    # The counter is in Redis itself, expiring with the throttle's window.
    assert redis_cache.raw.get(f"{redis_cache.prefix}:1:{key}") == b"4"
    assert 0 < redis_cache.raw.ttl(f"{redis_cache.prefix}:1:{key}") <= 60

    response = client.get(URL)
    assert_problem(response, 429)
    assert int(response["Retry-After"]) > 0
