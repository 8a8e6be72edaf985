"""drf-spectacular hooks: every operation documents its problem responses
(`application/problem+json`, the `Problem` component), and both ways to authenticate."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

PROBLEM_COMPONENT = {
    "type": "object",
    "description": "An error, as RFC 9457 problem details (application/problem+json).",
    "properties": {
        "type": {"type": "string", "description": "Identifies the kind of problem."},
        "title": {"type": "string", "description": "Short summary of the kind of problem."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        "errors": {
            "type": "array",
            "description": "Bad input, one entry per message; field is a dotted path.",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["type", "title", "status", "detail"],
}

_DESCRIPTIONS = {
    "400": "Invalid input: see `errors` for each field.",
    "401": "No credentials, or an invalid, expired or revoked token.",
    "403": "Your role may not do this.",
    "404": "No such object, or you may not see it (deliberately the same).",
    "409": "Conflicts with the current state, or an Idempotency-Key reused with another body.",
    "412": "If-Match does not match the current ETag: read the object again.",
    "422": "The safety gate said stop: nothing was recorded.",
    "428": "If-Match is required.",
    "429": "Too many requests: wait Retry-After seconds.",
}


class ProblemAutoSchema(AutoSchema):
    """Views may name further problem statuses they answer with `extra_problem_codes`
    (e.g. `("422",)`); 412 and 428 follow from an If-Match parameter."""

    def _problem_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if self.method in ("POST", "PUT", "PATCH"):
            codes.append("409")
        # If-Match: a stale version is a 412 wherever the header is taken, a missing one a 428
        # where it is required.
        for parameter in self.get_override_parameters():
            if isinstance(parameter, OpenApiParameter) and parameter.name == "If-Match":
                codes.append("412")
                if parameter.required:
                    codes.append("428")
        extra = getattr(self.view, "extra_problem_codes", {}).get(self.method, ())
        return sorted(set(codes) | set(extra))

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._problem_codes():
            responses.setdefault(
                code,
                {
                    "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                    "description": _DESCRIPTIONS[code],
                },
            )
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "<prefix>.<secret>",
            "description": (
                "A personal API token: create one on the API tokens page "
                "(`/account/api-tokens/`) while signed in, or an operator runs "
                "`manage.py api_token_create USERNAME`."
            ),
        }


class SessionScheme401(OpenApiAuthenticationExtension):
    target_class = "config.api.authentication.SessionAuthentication401"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": settings.SESSION_COOKIE_NAME}


def add_problem_component(result, generator, request, public):
    """Postprocessing hook: the `Problem` schema every error response refers to."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_COMPONENT
    return result
