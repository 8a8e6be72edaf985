"""Requests no page or endpoint can serve, answered before any view, query or log line sees
them (OWASP ASVS V5: input validated at the edge, errors that say nothing about internals).

- A path with a control character (U+0000–U+001F, U+007F–U+009F) names nothing that exists:
  404, as for any path no route matches — problem+json under /api/, the 404 page elsewhere.
  (PostgreSQL refuses a NUL in a string, so such a path reaching a lookup or the access log
  was a 500.)
- A NUL in a header value is refused with a 400, as RFC 9110 §5.5 allows (a header such as
  Authorization is looked up in the database).
- A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (by its Content-Length) is a 413 —
  problem+json under /api/, a plain page elsewhere. Django would answer a 400 page once a view
  read the body; a chunked body without a length is refused by the API's parser instead
  (config/api/parsers.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.defaults import bad_request

from config.api.exceptions import PROBLEM_CONTENT_TYPE, problem_body

_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")

BODY_TOO_LARGE = "The request body is too large."


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class RequestGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _CONTROL_CHARACTER.search(request.path):
            # handler404 (config/api/exceptions.py) answers: problem+json under /api/.
            raise Http404()
        if any("\x00" in value for name, value in request.META.items() if name.startswith("HTTP_")):
            return header_nul_response(request)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and _declared_length(request) > limit:
            return body_too_large_response(request)
        return self.get_response(request)


def body_too_large_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = problem_body(413, BODY_TOO_LARGE)
        return JsonResponse(body, status=413, content_type=PROBLEM_CONTENT_TYPE)
    return render(request, "413.html", status=413)


def header_nul_response(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        body = problem_body(400, "A request header holds a NUL character.")
        return JsonResponse(body, status=400, content_type=PROBLEM_CONTENT_TYPE)
    return bad_request(request, SuspiciousOperation())
