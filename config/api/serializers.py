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
"""

from __future__ import annotations

import copy

from rest_framework import serializers
from rest_framework.relations import ManyRelatedField

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
