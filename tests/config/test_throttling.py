"""The per-token throttle counts fixed windows: the limit within a window, a fresh allowance
in the next, and Retry-After saying how long until then."""

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from config.api.throttling import ApiTokenRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def three_a_minute():
    cache.clear()
    rates = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_token": "3/min"}}
    with override_settings(REST_FRAMEWORK=rates):
        yield
    cache.clear()


def throttle_at(seconds: float) -> ApiTokenRateThrottle:
    throttle = ApiTokenRateThrottle()
    throttle.timer = lambda: seconds
    return throttle


def caller(user_id: int = 1):
    return SimpleNamespace(auth=None, user=SimpleNamespace(pk=user_id, is_authenticated=True))


def test_the_limit_holds_within_a_window_and_resets_in_the_next():
    request = caller()
    allowed = [throttle_at(600 + second).allow_request(request, None) for second in (0, 10, 20, 30)]
    assert allowed == [True, True, True, False]
    refused = throttle_at(659)
    assert refused.allow_request(request, None) is False
    assert refused.wait() == 1  # the window of 600..660 ends in a second
    assert throttle_at(660).allow_request(request, None) is True


def test_retry_after_counts_to_the_end_of_the_window():
    request = caller()
    for _ in range(3):
        throttle_at(1200.5).allow_request(request, None)
    refused = throttle_at(1215.5)
    assert refused.allow_request(request, None) is False
    assert refused.wait() == 45


def test_each_caller_has_a_counter_of_its_own():
    for _ in range(3):
        throttle_at(30).allow_request(caller(1), None)
    assert throttle_at(31).allow_request(caller(1), None) is False
    assert throttle_at(31).allow_request(caller(2), None) is True
