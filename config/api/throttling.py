"""Throttling per API token (per user for the browser's session): one bucket each, at the
rate `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["api_token"]`. The counters live in the
default cache; give production a shared cache so every process counts the same requests."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from screening.models import ApiToken


class ApiTokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

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
