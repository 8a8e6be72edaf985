"""Response headers every page of a victim-data service needs, the access log, and the page
shown when a stored value cannot be read."""

import ipaddress
import logging
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.functional import LazyObject, empty

from config.access_log import access_log_draft, access_log_object, is_recorded_route
from config.api.exceptions import (
    PROBLEM_CONTENT_TYPE,
    stored_data_reference,
    stored_data_unreadable_problem,
)
from config.crypto import DecryptionError
from config.db import insert_row
from config.models import AccessLogEntry, ApiToken

logger = logging.getLogger(__name__)


class NoStoreMiddleware:
    """Tell browsers and proxies never to cache a response (OWASP ASVS: no sensitive data in
    caches). Shared devices in stations and clinics make the back button a disclosure risk."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        return response


class PermissionsPolicyMiddleware:
    """Switch off the browser features no page uses (camera, microphone, location, payment,
    USB, ...) with a Permissions-Policy header built from `settings.PERMISSIONS_POLICY`: a
    script that got in anyway cannot ask for them. Django has no setting for this header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = permissions_policy_header(settings.PERMISSIONS_POLICY)
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        return response


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """`{"camera": [], "clipboard-write": ["self"]}` -> `camera=(), clipboard-write=(self)`."""

    def allowlist(origins: list[str]) -> str:
        return " ".join(origin if origin in ("self", "*") else f'"{origin}"' for origin in origins)

    return ", ".join(f"{feature}=({allowlist(origins)})" for feature, origins in policy.items())


class StoredDataUnreadableMiddleware:
    """A stored value that does not decrypt (`config.crypto.DecryptionError`) ends a page with
    a calm explanation and a reference for the administrator (table, column, row id; never
    the value), status 500, logged the same way. Nothing is written on the way: a service's
    transaction rolled back with the exception, and the unreadable value stays as it was
    for the administrator to look at (saving a row writes an unread value back unchanged).
    The API answers through its exception handler (config/api/exceptions.py); an API path
    that gets here anyway answers the same problem.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DecryptionError):
            return None
        problem = stored_data_unreadable_problem(exception, method=request.method)
        if request.path.startswith("/api/"):
            return JsonResponse(problem, status=500, content_type=PROBLEM_CONTENT_TYPE)
        context = {"reference": stored_data_reference(exception)}
        return render(request, "stored_data_unreadable.html", context, status=500)


class AccessLogMiddleware:
    """Record the request in the access log when it touched case data or was refused (see
    `config.access_log.is_recorded_route`): one INSERT after the response, nothing else (plain
    SQL through `config.db.insert_row`: it runs on most requests).

    It runs after the view returned, outside the view's transaction, so a request that was
    refused, failed or rolled back is recorded too. Who asked is read only from what the
    request already loaded: DRF sets `request.user` and `request.auth` (the API token) on the
    Django request once it authenticated; a page's session user is the lazy object the view
    evaluated if it cared who asked. Their roles are the ones the request's permission
    checks loaded (`User.role_names`); only a request that never checked them costs one
    query more to record them.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with access_log_draft() as draft:
            response = self.get_response(request)
        match = request.resolver_match
        status_code = response.status_code
        if not is_recorded_route(match, status_code=status_code, login_failed=draft.login_failed):
            return response
        user = _loaded_user(request)
        token = getattr(request, "auth", None)
        if draft.login_failed or (user is None and 300 <= status_code < 400):
            outcome = AccessLogEntry.Outcome.UNAUTHENTICATED  # sent back to the sign-in page
        else:
            outcome = AccessLogEntry.Outcome.for_status(status_code)
        if outcome == AccessLogEntry.Outcome.ALLOWED and draft.break_glass:
            outcome = AccessLogEntry.Outcome.BREAK_GLASS
        object_type, object_ref, case_id = access_log_object(draft, outcome=outcome)
        try:
            insert_row(
                AccessLogEntry,
                user_id=user.pk if user else None,
                agency_id=user.agency_id if user else None,
                api_token_id=token.pk if isinstance(token, ApiToken) else None,
                roles=",".join(sorted(user.role_names))[:200] if user else "",
                method=request.method[:8],
                route=match.view_name[:150],
                object_type=object_type,
                object_ref=object_ref[:32],
                case_id=case_id,
                status_code=status_code,
                outcome=outcome,
                client_ip=_client_ip(request),
            )
        except DatabaseError:
            # The response has been produced already (and the view's work committed or rolled
            # back): failing it now would undo nothing. Nothing about the request is logged.
            logger.warning("access log entry not recorded: database error")
        return response


def _loaded_user(request: HttpRequest):
    """The signed-in user the request already loaded, else None. Never loads one: a lazy
    session user the view never evaluated stays unevaluated (no query)."""
    user = getattr(request, "user", None)
    if isinstance(user, LazyObject):
        if user._wrapped is empty:
            return None
        user = user._wrapped
    return user if user is not None and user.is_authenticated else None


def _client_ip(request: HttpRequest) -> str | None:
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None
