"""Query-string filters for lists (django-filter), applied by the selectors."""

from typing import Any

import django_filters
from django.db.models import QuerySet

from config.errors import ValidationError
from screening.models import Case, Contact


def apply_filters(
    filter_class: type[django_filters.FilterSet], filters: dict[str, Any] | None, queryset: QuerySet
) -> QuerySet:
    """`queryset` narrowed by `filters`; invalid filter values raise a `ValidationError`
    naming each (never silently ignored, which would widen the list)."""
    filterset = filter_class(filters or {}, queryset=queryset)
    if not filterset.is_valid():
        raise ValidationError(
            "Some filters are not valid.",
            {
                field: [_safe_message(error) for error in errors]
                for field, errors in filterset.form.errors.as_data().items()
            },
        )
    return filterset.qs


def _safe_message(error) -> str:
    # Django's choice message quotes the input back; input has no place in an error.
    if error.code == "invalid_choice":
        return "Not one of the allowed values."
    return " ".join(error.messages)


class ContactFilter(django_filters.FilterSet):
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    region = django_filters.CharFilter(field_name="caller_region", lookup_expr="iexact")

    class Meta:
        model = Contact
        fields = [
            "status",
            "contact_type",
            "channel",
            "exploitation_type",
            "immediate_danger",
            "minor_involved",
        ]


class CaseFilter(django_filters.FilterSet):
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    region = django_filters.CharFilter(field_name="region", lookup_expr="iexact")

    class Meta:
        model = Case
        fields = ["status", "exploitation_type", "age_band", "urgent"]
