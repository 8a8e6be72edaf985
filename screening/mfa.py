"""The second sign-in step (django-otp: an authenticator app's 6-digit code, or a one-time
backup code): who owes it, and the middleware that holds them at the MFA pages until they
have taken it.

The rules:
- Holders of a role in MFA_REQUIRED_ROLES (default: supervisors and agency administrators)
  verify every session before any other page. Without a device they set one up first.
- Anyone else may set up a device on the "Two-step sign-in" page; from their next sign-in on,
  they are asked for a code too (the sign-in notes in the session that they have one).
- A signed-in person who owes the step reaches only sign-in and sign-out, the code and set-up
  pages, the quick exit and the health probes; every other page sends them to the MFA page, and a
  session-authenticated API request is refused with 401 problem+json. API requests with a
  Bearer token are left to the token (a token is a separate credential, created from a
  verified session when its owner's role requires one).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core import checks
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import resolve_url
from django.utils.http import urlencode
from django_otp import user_has_device

from config.access_log import access_log_note_login_failed
from config.api.exceptions import PROBLEM_CONTENT_TYPE, problem_body
from screening.roles import Role

# Set at sign-in: True when the person had a confirmed device then (so optional users are
# asked for a code without a device query on every request).
MFA_DUE_SESSION_KEY = "mfa_due"

# Reachable before the second step (URL names). Not the rest of the `mfa` pages: making new
# backup codes needs a verified session.
MFA_EXEMPT_VIEWS = frozenset(
    {
        "login",
        "logout",
        "mfa:verify",
        "mfa:setup",
        "screening:quick-exit",
        "healthz",
        "readyz",
    }
)


def mfa_required(user) -> bool:
    """Whether the user's roles require the second step (no query beyond their roles)."""
    return bool(user.is_authenticated and user.has_any_role(settings.MFA_REQUIRED_ROLES))


def mfa_pending(request: HttpRequest) -> bool:
    """The signed-in person owes the second step in this session."""
    user = request.user
    if not user.is_authenticated or user.is_verified():
        return False
    return mfa_required(user) or bool(request.session.get(MFA_DUE_SESSION_KEY))


@checks.register(checks.Tags.security)
def mfa_required_roles_check(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """A misspelt role in MFA_REQUIRED_ROLES would quietly require the step of nobody."""
    unknown = sorted(set(settings.MFA_REQUIRED_ROLES) - set(Role.values))
    if not unknown:
        return []
    return [
        checks.Error(
            f"MFA_REQUIRED_ROLES names roles that do not exist: {', '.join(unknown)}.",
            hint=f"Roles: {', '.join(Role.values)}.",
            id="screening.E001",
        )
    ]


def mfa_note_sign_in(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver: remember whether this person has a device to verify with."""
    if request is not None and hasattr(request, "session"):
        request.session[MFA_DUE_SESSION_KEY] = user_has_device(user)


def mfa_step_url(next_url: str | None = None) -> str:
    """The MFA verification page (it sends people without a device on to set one up)."""
    url = resolve_url("mfa:verify")
    return f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}" if next_url else url


class MfaRequiredMiddleware:
    """Sends a signed-in person who owes the second step to the MFA page (see the module
    docstring). Runs in `process_view`, where the route is known; paths that match no route
    answer 404 as usual."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or match.view_name in MFA_EXEMPT_VIEWS:
            return None
        is_api = request.path.startswith("/api/")
        if is_api and _has_bearer_token(request):
            return None
        if not mfa_pending(request):
            return None
        access_log_note_login_failed(sender=None)  # recorded as "not signed in"
        if is_api:
            body = problem_body(
                401,
                "Finish signing in first: enter the code from your authenticator app on the "
                "sign-in page, or use an API token.",
            )
            response = JsonResponse(body, status=401, content_type=PROBLEM_CONTENT_TYPE)
            response["WWW-Authenticate"] = 'Session realm="api"'
            return response
        next_url = request.get_full_path() if request.method == "GET" else None
        return HttpResponseRedirect(mfa_step_url(next_url))


def _has_bearer_token(request: HttpRequest) -> bool:
    """Mirrors `config.api.authentication.ApiTokenAuthentication`: a Bearer header is decided
    by the token alone, never by the session."""
    scheme, _, _ = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return scheme.lower() == "bearer"
