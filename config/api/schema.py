"""drf-spectacular hooks: every operation documents its problem responses
(`application/problem+json`, the `Problem` component), and both ways to authenticate."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from config.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from config.api.idempotency import MAX_KEY_LENGTH

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# What str.strip() takes away (DRF trims text fields): a field that may not be blank needs
# one character outside it. A NUL is refused everywhere (PostgreSQL stores none).
_PY_WHITESPACE = (
    "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
)
TEXT_PATTERN = "^[^\\x00]*$"
NON_BLANK_TEXT_PATTERN = f"^[^\\x00]*[^\\x00{_PY_WHITESPACE}][^\\x00]*$"


def _constrain_text(field: serializers.Field, schema: dict) -> None:
    """Add the text patterns to a request field's schema (list items included)."""
    if isinstance(field, serializers.ListField):
        _constrain_text(field.child, schema.get("items", {}))
        return
    if not isinstance(field, serializers.CharField):
        return
    # An allow_blank field with other constraints is `oneOf: [constrained, empty]`.
    target = schema["oneOf"][0] if "oneOf" in schema else schema
    if target.get("type") == "string" and not {"enum", "format", "pattern"} & target.keys():
        target["pattern"] = TEXT_PATTERN if field.allow_blank else NON_BLANK_TEXT_PATTERN


_RULES_KEY = "x-schema-rules"


def rule_when(conditions: dict[str, list], then: dict) -> dict:
    """A JSON Schema rule for `schema_rules`: when every field in `conditions` has one of
    its values, the body must also match `then` (OpenAPI 3.0 has no if/then: "one of the
    conditions fails, or `then` holds")."""
    return {
        "anyOf": [
            *(
                {"properties": {name: {"not": {"enum": values}}}}
                for name, values in conditions.items()
            ),
            then,
        ]
    }


def text_required(name: str) -> dict:
    """`then` for `rule_when`: `name` is given and is more than whitespace."""
    return {"required": [name], "properties": {name: {"pattern": NON_BLANK_TEXT_PATTERN}}}


# The request headers of the API's conventions, with the rules the code applies
# (config/api/idempotency.py, config/api/etags.py), for views to name in `parameters`.
IDEMPOTENCY_KEY = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        # Printable ASCII; no space at either end (HTTP drops it, so the key would change).
        "pattern": f"^[!-~](?:[ -~]{{0,{MAX_KEY_LENGTH - 2}}}[!-~])?$",
    },
    OpenApiParameter.HEADER,
    description=(
        f"Makes a retry safe: 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a fresh "
        "UUID per object (never personal data). The same key with the same body (per person, "
        "for 24 hours by default) creates nothing new and replays the first response, status "
        "and body, marked `Idempotent-Replayed: true` (a 404 if you may no longer see the "
        "object); the same key with another body is a 409 `idempotency-key-reused`; an "
        "invalid key is a 400. A request that failed stores nothing: retry with the same key."
    ),
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    response=[201],
    description="Present on a replay: this response is the stored first one.",
)
_ETAG = {"type": "string", "pattern": '^(\\*|"v[0-9]{1,10}")$'}
IF_MATCH = OpenApiParameter(
    "If-Match",
    _ETAG,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        'The ETag you read, e.g. "v3", compared strongly (a weak W/"v3" never matches); * '
        "for whatever version is current. Missing → 428; another version → 412."
    ),
)
IF_MATCH_OPTIONAL = OpenApiParameter(
    "If-Match",
    _ETAG,
    OpenApiParameter.HEADER,
    description=(
        'The ETag you read, e.g. "v3", compared strongly (a weak W/"v3" never matches). '
        "Another version → 412."
    ),
)

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
    "413": "The body is larger than the service accepts.",
    "422": "The safety gate said stop: nothing was recorded.",
    "428": "If-Match is required.",
    "429": "Too many requests: wait Retry-After seconds.",
}


class ProblemAutoSchema(AutoSchema):
    """Views may name further problem statuses they answer with `extra_problem_codes`
    (e.g. `("422",)`); 412 and 428 follow from an If-Match parameter.

    Request text says what the serializers take: no NUL character, and where blank is not
    allowed, more than whitespace (DRF trims it). An input serializer states the rules that
    join its fields (e.g. a note required with the reason "other") as JSON Schema in
    `schema_rules` (see `rule_when`); they become the component's `allOf`."""

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request":
            serializer = force_instance(serializer)
            for field in serializer.fields.values():
                if (field_schema := schema["properties"].get(field.field_name)) is not None:
                    _constrain_text(field, field_schema)
            if rules := getattr(serializer, "schema_rules", ()):
                # Set aside until the enum hook has named the fields' enums (`attach_rules`):
                # a rule's `enum` is a condition, not a field's choices.
                schema[_RULES_KEY] = list(rules)
        return schema

    def _problem_codes(self) -> list[str]:
        codes = ["401", "403", "429"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view():
            codes.append("400")
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["409", "413"]
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


def attach_rules(result, generator, request, public):
    """Postprocessing hook, after drf-spectacular's enum hook: each component's
    `schema_rules` become its `allOf`."""
    for component in result.get("components", {}).get("schemas", {}).values():
        if rules := component.pop(_RULES_KEY, None):
            component["allOf"] = rules
    return result
