"""Serializer fields shared by the API."""

from __future__ import annotations

from datetime import UTC, datetime

from rest_framework import serializers


class UtcDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time with any offset, returned in UTC. PostgreSQL accepts offsets of
    at most ±15:59, and filters compare in UTC anyway; a value that cannot be expressed in
    UTC (e.g. year 1 with a positive offset) is a 400, not a server error."""

    default_error_messages = {"out_of_range": "Date-time out of range."}

    def to_internal_value(self, value) -> datetime:
        parsed = super().to_internal_value(value)
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError):
            self.fail("out_of_range")


def filter_params(validated: dict) -> dict[str, str]:
    """Validated filter values as the query strings django-filter expects (None dropped)."""
    params: dict[str, str] = {}
    for name, value in validated.items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, datetime):
            params[name] = value.isoformat()
        else:
            params[name] = str(value)
    return params
