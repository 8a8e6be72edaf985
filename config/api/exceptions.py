"""One exception handler for the whole API: every error is `application/problem+json`
(RFC 9457) with `type`, `title`, `status`, `detail` and, for bad input, field-level `errors`.

Domain errors of `config.errors` map here, in one place:
NotFound → 404, ActionNotAllowed → 403, ValidationError → 400, ConflictError → 409,
InvalidState → 409, ConsentRequired → 409 (the request is fine; the case's consents are not
in a state that allows it — record the consent and retry), SafetyStop → 422.

A stored value that does not decrypt (`config.crypto.DecryptionError`: a key missing from
the keyring, a tampered or moved value) → 500 `stored-data-unreadable`, naming the table,
column and row id so an administrator can find it, never the value.

Details are fixed, safe messages: never a stack trace, never case data. Unexpected exceptions
are left to Django (logged server-side, a bare 500 to the client).
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from config import errors as domain
from config.crypto import DecryptionError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Identifiers, not links: docs/api.md lists every type and what to do about it.
PROBLEM_BASE = "urn:ht-screening:problem:"

# status → (type slug, title). Titles are the same for every occurrence of a type (RFC 9457).
_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid-request", "Your request is not valid."),
    401: ("not-authenticated", "Authentication is required."),
    403: ("forbidden", "You may not do this."),
    404: ("not-found", "Not found."),
    405: ("method-not-allowed", "Method not allowed."),
    406: ("not-acceptable", "Not acceptable."),
    409: ("conflict", "The request conflicts with the current state."),
    412: ("precondition-failed", "The resource changed since you read it."),
    413: ("body-too-large", "The request body is too large."),
    415: ("unsupported-media-type", "Unsupported media type."),
    422: ("unprocessable", "The request cannot be carried out."),
    428: ("precondition-required", "If-Match is required."),
    429: ("throttled", "Too many requests."),
}

_SPECIFIC_TYPES: dict[str, tuple[str, str]] = {
    "idempotency_key_reused": ("idempotency-key-reused", "Idempotency-Key reused."),
    "idempotency_key_in_progress": ("idempotency-key-in-progress", "Request in progress."),
    "consent_required": ("consent-required", "Consent required."),
    "invalid_state": ("invalid-state", "Not allowed in the current state."),
    "safety_stop": ("safety-stop", "Stopped for safety."),
    "version_conflict": ("version-conflict", "Someone else saved first."),
    "stored_data_unreadable": ("stored-data-unreadable", "Stored data cannot be read."),
}


def problem_body(
    status_code: int,
    detail: str,
    *,
    code: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    slug, title = _SPECIFIC_TYPES.get(code or "", _TYPES.get(status_code, ("error", "Error.")))
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status_code,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_response(
    status_code: int,
    detail: str,
    *,
    code: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_body(status_code, detail, code=code, errors=errors)
    return Response(body, status=status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """`handler404`: a URL no API route matches (e.g. a malformed id in the path) is a
    problem+json 404 like any other API 404, not Django's HTML page; pages keep theirs."""
    if _is_api(request):
        body = problem_body(404, "Not found.")
        return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """`handler500`: the API's clients get problem+json (with nothing about the failure);
    pages keep Django's plain 500 page."""
    if _is_api(request):
        body = problem_body(500, "Something went wrong on our side; nothing about it is shown.")
        return JsonResponse(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
    return defaults.server_error(request)


def stored_data_reference(error: DecryptionError) -> str:
    """Where the unreadable value is, for the administrator: table, column, row id."""
    return f"{error.table}.{error.column} row {error.row_id}"


def stored_data_unreadable_problem(error: DecryptionError, *, method: str) -> dict[str, Any]:
    """Log a value that does not decrypt (where, never what) and describe it as a problem.
    The unreadable value itself is never overwritten; a change the request made before it
    met the value may have been saved, and the detail says so rather than promise otherwise.
    """
    # Plain strings, not the exception: log records withhold exception messages
    # (config/log_redaction.py), and these name only where the value is and why it failed.
    reference = stored_data_reference(error)
    logger.error("stored value does not decrypt: %s (%s)", reference, error.reason)
    detail = (
        f"A stored value cannot be read ({reference}); it was left as it "
        "is. Give this reference to your administrator."
    )
    if method not in ("GET", "HEAD", "OPTIONS"):
        detail += " Read the object again to see whether your change was saved."
    return problem_body(500, detail, code="stored_data_unreadable")


def flatten_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error structure as a flat list of `{field, message}`; `field` is a dotted
    path (`triage_answers.immediate_danger`, `languages.0`); non-field errors have `field` "".
    """
    if isinstance(detail, dict):
        flat: list[dict[str, str]] = []
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            flat += flatten_errors(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return flat
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"field": prefix, "message": _safe_message(item)} for item in detail]
        flat = []
        for index, item in enumerate(detail):
            if item:
                flat += flatten_errors(item, f"{prefix}.{index}" if prefix else str(index))
        return flat
    return [{"field": prefix, "message": _safe_message(detail)}]


# DRF messages that quote the client's input back; input may be case data, so say it plainly.
_QUOTING_CODES = {
    "invalid_choice": "Not one of the allowed values (see the schema).",
    "not_a_list": "Expected a list.",
    "not_a_dict": "Expected an object.",
}


def _safe_message(message: Any) -> str:
    return _QUOTING_CODES.get(getattr(message, "code", None) or "", str(message))


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]."""
    if isinstance(exc, DecryptionError):
        method = getattr(context.get("request"), "method", "GET")
        body = stored_data_unreadable_problem(exc, method=method)
        response = Response(body, status=500, content_type=PROBLEM_CONTENT_TYPE)
    else:
        response = _problem_for(exc)
    if response is not None:
        set_rollback()
    return response


def _problem_for(exc: Exception) -> Response | None:
    # Domain errors first: NotFound subclasses Http404, ActionNotAllowed Django's PermissionDenied.
    if isinstance(exc, domain.NotFound):
        return problem_response(404, exc.message)
    if isinstance(exc, domain.ActionNotAllowed):
        return problem_response(403, exc.message)
    if isinstance(exc, domain.ValidationError):
        errors = [
            {"field": field, "message": message}
            for field, messages in exc.field_errors.items()
            for message in messages
        ]
        return problem_response(400, exc.message, errors=errors)
    if isinstance(exc, domain.ConflictError):
        return problem_response(409, exc.message, code="version_conflict")
    if isinstance(exc, domain.InvalidState):
        return problem_response(409, exc.message, code="invalid_state")
    if isinstance(exc, domain.ConsentRequired):
        return problem_response(409, exc.message, code="consent_required")
    if isinstance(exc, domain.SafetyStop):
        return problem_response(422, exc.message, code="safety_stop")
    if isinstance(exc, Http404):
        return problem_response(404, "Not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return problem_response(403, "You may not do this.")
    if isinstance(exc, exceptions.ValidationError):
        return problem_response(
            400,
            "Please correct the fields listed in errors.",
            errors=flatten_errors(exc.detail),
        )
    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(math.ceil(exc.wait))
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.default_detail)
        code = exc.default_code if isinstance(exc.default_code, str) else None
        return problem_response(exc.status_code, str(detail), code=code, headers=headers)
    return None


__all__ = ["PROBLEM_CONTENT_TYPE", "problem_exception_handler", "problem_response"]
