"""The absolute session lifetime: a session ends SESSION_ABSOLUTE_SECONDS after its sign-in,
however often it is used (the idle timeout, SESSION_COOKIE_AGE renewed on every request,
never ends a session used every few minutes). OWASP ASVS 3.3.

The sign-in time goes into the session when Django's `login()` runs (`user_logged_in`); a
signed-in session without one (made before this existed) starts its clock at its next
request. `update_session_auth_hash` (a password change) keeps the session's data, so it
keeps its sign-in time: changing a password does not extend a session.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "_signed_in_at"


def session_signed_in_at_record(sender, request=None, user=None, **kwargs) -> None:
    """`user_logged_in` receiver: when this session signed in (seconds since the epoch)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SIGNED_IN_AT] = int(time.time())


class SessionLifetimeMiddleware:
    """Flush a signed-in session older than SESSION_ABSOLUTE_SECONDS before anything reads
    the user: the request goes on as anonymous (a page sends it to the sign-in page, the API
    answers 401). Requests without a session cookie (the API with a token) cost nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME in request.COOKIES:
            session = request.session
            if SESSION_KEY in session:
                signed_in_at = session.get(SIGNED_IN_AT)
                now = int(time.time())
                if not isinstance(signed_in_at, int):
                    session[SIGNED_IN_AT] = now
                elif now - signed_in_at >= settings.SESSION_ABSOLUTE_SECONDS:
                    session.flush()
        return self.get_response(request)
