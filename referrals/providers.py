"""The provider directory as agency staff search it (issue 6): active providers by service
type, region and language. Kept apart from selectors.py while the referral pages change it;
fold it in there later.

Lists of service types, regions and languages are JSON arrays. The filters match a whole
element, case-insensitively, with one portable lookup (`icontains` on the element's JSON
text, quotes included), so SQLite and PostgreSQL answer alike; a directory is small.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Q, QuerySet

from config.errors import ActionNotAllowed
from referrals.models import ServiceProvider
from referrals.permissions import is_active_staff
from screening.models import User

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
