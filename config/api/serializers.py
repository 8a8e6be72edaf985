"""The base class of every API serializer.

DRF gives each serializer instance its own fields by deep-copying the class's declared ones,
and a field's deep copy re-runs its `__init__` with deep-copied arguments (choices,
validators, help text). On `POST /api/v1/contacts/` that was a fifth of the request's CPU
(docs/benchmarks.md): two serializers of about twenty fields each, on every request.

A declared field is a prototype that is never bound, so a shallow copy of it is a fresh,
unbound field as good as the deep copy: `bind` then sets the copy's own name and parent, and
what the copies share (choices, error messages, validator lists, help text) is read-only
after `__init__`. Fields that hold other fields (nested serializers, list and dict fields,
whose child is bound to its parent in `__init__`) are deep-copied as DRF does, so no
copy ever shares a bound child. tests/config/test_api_serializers.py pins the difference.

A JSON body must use the JSON types the schema names (text for a CharField, a number for an
IntegerField, true/false for a BooleanField), where DRF would convert; `ApiFilterSerializer`
refuses query-string filters sent empty or twice. What the schema promises is what is taken.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers
from rest_framework.relations import ManyRelatedField
from rest_framework.utils import html

# Fields that own bound sub-fields: copied DRF's way.
_HOLDS_FIELDS = (
    serializers.BaseSerializer,
    serializers.ListField,
    serializers.DictField,
    ManyRelatedField,
)


def _fresh(field: serializers.Field) -> serializers.Field:
    if isinstance(field, _HOLDS_FIELDS):
        return copy.deepcopy(field)
    # copy.copy(field), without its generic reduce protocol (a third of the cost).
    fresh = object.__new__(type(field))
    fresh.__dict__.update(field.__dict__)
    return fresh


class ApiSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: _fresh(field) for name, field in self._declared_fields.items()}

    def to_internal_value(self, data):
        """DRF's validation, with each field taking only the JSON type the schema names for it
        (DRF turns 5 into "5" for a CharField, takes "5" for an IntegerField and "yes" or 1
        for a BooleanField). Query strings, all text, are left to DRF's reading of them."""
        wrong_types = {} if html.is_html_input(data) else _json_type_errors(self, data)
        try:
            validated = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if wrong_types and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **wrong_types}) from None
            raise
        if wrong_types:
            raise serializers.ValidationError(wrong_types)
        return validated


# One instance per output serializer class for `represent`, its fields made and bound once.
_PROTOTYPES: dict[type[serializers.Serializer], serializers.Serializer] = {}


def represent(serializer_class: type[serializers.Serializer], instance: Any) -> dict:
    """`serializer_class(instance).data` as a plain dict, for an output serializer that reads
    no context (no request, no view): made once per class and kept, so its fields are copied
    and bound once per process instead of on every response. Building them costs about five
    times turning one contact into its dict (docs/benchmarks.md). Representing reads the
    fields and the instance and changes neither, so one kept instance serves every request
    (tests/config/test_api_serializers.py pins the output to `.data`'s)."""
    prototype = _PROTOTYPES.get(serializer_class)
    if prototype is None:
        prototype = serializer_class()
        prototype.fields  # noqa: B018 - made and bound now, before any request shares it
        _PROTOTYPES[serializer_class] = prototype
    return prototype.to_representation(instance)


class ApiFilterSerializer(ApiSerializer):
    """Filters read from the query string. A filter sent empty (`?status=`) or more than once
    is a 400, as the schema says (`minLength: 1`, one value): DRF would read an empty one as
    absent and a repeated one as its last value."""

    def to_internal_value(self, data):
        misused = {}
        for name in self.fields:
            values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
            values = [value for value in values if value is not None]
            if "" in values:
                misused[name] = ["Leave this filter out rather than send it empty."]
            elif len(values) > 1:
                misused[name] = ["Give this filter once."]
        try:
            validated = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if misused and isinstance(error.detail, dict):
                raise serializers.ValidationError({**error.detail, **misused}) from None
            raise
        if misused:
            raise serializers.ValidationError(misused)
        return validated


# The JSON type each kind of field takes, and what to say otherwise; the first match counts
# (a SlugField is a CharField).
_JSON_TYPES: tuple[tuple[type[serializers.Field], str, str], ...] = (
    (serializers.BooleanField, "boolean", "Expected true or false."),
    (serializers.IntegerField, "integer", "Expected a whole number."),
    (serializers.CharField, "string", "Expected text."),
)


def _is_json(value: Any, json_type: str) -> bool:
    if json_type == "boolean":
        return isinstance(value, bool)
    if json_type == "integer":
        # JSON Schema counts 5.0 as an integer; DRF reads it as 5.
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    return isinstance(value, str)


def _wrong_type(field: serializers.Field, value: Any) -> str | None:
    if value is None:  # allow_null decides
        return None
    for kind, json_type, message in _JSON_TYPES:
        if isinstance(field, kind):
            return None if _is_json(value, json_type) else message
    return None


def _json_type_errors(serializer: serializers.Serializer, data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        return {}
    errors: dict[str, Any] = {}
    for field in serializer._writable_fields:
        if field.field_name not in data:
            continue
        value = data[field.field_name]
        if isinstance(field, serializers.ListField) and isinstance(value, list):
            items = {
                index: [message]
                for index, item in enumerate(value)
                if (message := _wrong_type(field.child, item))
            }
            if items:
                errors[field.field_name] = items
        elif message := _wrong_type(field, value):
            errors[field.field_name] = [message]
    return errors
