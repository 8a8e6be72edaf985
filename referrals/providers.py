"""The provider directory as agency staff search it (issue 6): active providers by service
type, region and language. Kept apart from selectors.py while the referral pages change it;
fold it in there later.

Lists of service types, regions and languages are JSON arrays. The filters match a whole
element, case-insensitively, with one portable lookup (`icontains` on the element's JSON
text, quotes included), so SQLite and PostgreSQL answer alike; a directory is small.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from config.errors import ActionNotAllowed
from config.labels import label
from referrals.models import ServiceProvider
from referrals.permissions import is_active_staff, may_manage_providers
from referrals.signing import fingerprint_display
from screening.history import change_rows
from screening.models import Agency, User

NATIONAL = "national"


def _element(field: str, value: str) -> Q:
    # PostgreSQL renders jsonb text with the characters themselves; Django writes JSON to
    # SQLite with non-ASCII characters escaped. Match what each one stores.
    text = json.dumps(value, ensure_ascii=connection.vendor != "postgresql")
    return Q(**{f"{field}__icontains": text})


def provider_list(
    *,
    user: User,
    service_type: str | None = None,
    region: str | None = None,
    language: str | None = None,
) -> QuerySet[ServiceProvider]:
    """Active providers any agency staff member may look up, by name. `region` also finds
    providers that cover the whole country ("national"). One query."""
    if not is_active_staff(user):
        raise ActionNotAllowed("Only agency staff may search the provider directory.")
    providers = ServiceProvider.objects.filter(is_active=True).select_related("agency")
    if service_type:
        providers = providers.filter(_element("service_types", service_type))
    if region:
        providers = providers.filter(
            _element("regions", region.strip()) | _element("regions", NATIONAL)
        )
    if language:
        providers = providers.filter(_element("languages", language.strip()))
    return providers.order_by("name", "pk")


# --- the directory as its agencies manage it (issue 15) ----------------------------------


def provider_list_managed(*, user: User) -> QuerySet[ServiceProvider]:
    """The providers of the administrator's own agency, by name (inactive ones too). One
    query; `ActionNotAllowed` for anyone who does not manage providers."""
    if not may_manage_providers(user):
        raise ActionNotAllowed("Only an agency's administrators manage its providers.")
    return ServiceProvider.objects.filter(agency_id=user.agency_id).order_by("name", "pk")


def provider_regions_known() -> list[str]:
    """Every region a provider or an agency names, to offer as choices. Two small queries."""
    regions: set[str] = set()
    for listed in ServiceProvider.objects.values_list("regions", flat=True):
        regions.update(region for region in listed or () if isinstance(region, str))
    regions.update(Agency.objects.exclude(region="").values_list("region", flat=True).distinct())
    return sorted(regions, key=str.lower)


# Field names as the history page says them, and the vocabulary of their codes.
HISTORY_FIELDS = {
    "name": ("Name", None),
    "service_types": ("Services", "service_type"),
    "regions": ("Regions", None),
    "min_age": ("Youngest age", None),
    "max_age": ("Oldest age", None),
    "genders": ("Genders", "gender"),
    "exploitation_types": ("Kinds of exploitation", "exploitation_type"),
    "languages": ("Languages", "language"),
    "capacity": ("Capacity", dict(ServiceProvider.Capacity.choices)),
    "channel": ("Channel", "channel"),
    "webhook_url": ("Webhook address", None),
    "webhook_secret_fingerprint": ("Webhook secret (fingerprint)", None),
    "email": ("Email address", None),
    "response_due_hours": ("Answers within (hours)", None),
    "is_active": ("Listed", None),
    "slug": ("Directory name", None),
}


@dataclass(frozen=True)
class ProviderChange:
    at: datetime
    who: str
    kind: str
    reason: str
    fields: tuple[tuple[str, str, str], ...]  # (field, before, after)


def _word(value: Any, kind: str | dict | None) -> str:
    if isinstance(kind, dict):
        return kind.get(value, str(value))
    return label(value, kind) if kind else str(value)


def _words(value: Any, kind: str | dict | None) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(_word(item, kind) for item in value)
    return _word(value, kind)


def provider_change_history(*, provider: ServiceProvider) -> list[ProviderChange]:
    """The provider's changes, newest first (at most `CHANGES_LIMIT`), each field before and
    after in words. The webhook secret is never in the history table: its fingerprint is.
    One query (`change_rows`); the caller checked access (`provider_access`)."""
    rows = change_rows(
        ServiceProvider.history.filter(id=provider.pk),
        what=lambda row: "Provider",
        hidden=("product_edited_at", "agency"),
    )
    changes = []
    for row in rows:
        fields = []
        for field, old, new in row.differences:
            name, kind = HISTORY_FIELDS.get(field.name, (field.name, None))
            if field.name == "webhook_secret_fingerprint":
                old, new = fingerprint_display(old or ""), fingerprint_display(new or "")
            fields.append((name, _words(old, kind), _words(new, kind)))
        user = row.record.history_user
        changes.append(
            ProviderChange(
                at=row.record.history_date,
                who=(user.get_full_name() or user.get_username()) if user else "The system",
                kind=row.kind,
                reason=row.record.history_change_reason or "",
                fields=tuple(fields),
            )
        )
    return changes
