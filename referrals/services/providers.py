"""The provider directory changed in the product (issue 15): a provider agency's administrators
add and edit their own services and rotate a webhook's secret. Every change goes through the
directory's one validation (`referrals.directory.provider_entry_parse`, then
`ServiceProvider.full_clean`), as a directory file's entries do, and leaves a change-history
row naming who changed it. Routing reads the provider row as it is now, so a change applies to
the next routing run.

The directory file loader (`service_provider_ensure`, `load_referral_seeds`) leaves an entry
changed here alone and says so, unless told to overwrite it (docs/provider-directory.md).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from config.errors import ValidationError
from config.history import history_user_set
from referrals.directory import ProviderEntry, ProviderEntryInvalid, provider_entry_parse
from referrals.models import Referral, ServiceProvider
from referrals.permissions import provider_access, provider_add_check
from referrals.signing import secret_fingerprint
from screening.models import Agency, User

# The directory entry's field paths, as the form and these services name them.
_ENTRY_FIELDS = {
    "name": "name",
    "service_types": "service_types",
    "regions": "regions",
    "population.min_age": "min_age",
    "population.max_age": "max_age",
    "population": "max_age",  # the age range's order
    "population.genders": "genders",
    "population.exploitation_types": "exploitation_types",
    "population.languages": "languages",
    "capacity": "capacity",
    "channel.kind": "channel",
    "agency": "channel",
    "response_due_hours": "response_due_hours",
}
CHANGE_REASON_EDITED = "Changed in the product"
CHANGE_REASON_CREATED = "Added in the product"
CHANGE_REASON_ROTATED = "Webhook secret rotated"


@dataclass(frozen=True)
class ProviderSaved:
    """A saved provider, and the webhook secret made by this save if it made one: shown to
    the administrator once, never kept anywhere else in plain text."""

    provider: ServiceProvider
    new_secret: str = ""


def provider_entry_apply(
    *, provider: ServiceProvider, entry: ProviderEntry, agency: Agency | None
) -> None:
    """Set `provider`'s directory fields from a validated entry (not its secret, not saved)."""
    provider.name = entry.name
    provider.agency = agency
    provider.service_types = list(entry.service_types)
    provider.regions = list(entry.regions)
    provider.min_age = entry.population.min_age
    provider.max_age = entry.population.max_age
    provider.genders = list(entry.population.genders)
    provider.exploitation_types = list(entry.population.exploitation_types)
    provider.languages = list(entry.population.languages)
    provider.capacity = entry.capacity
    provider.channel = entry.channel.kind
    provider.webhook_url = entry.channel.url or ""
    provider.email = entry.channel.email or ""
    provider.response_due_hours = entry.response_due_hours


def provider_secret_set(provider: ServiceProvider, secret: str) -> None:
    provider.webhook_secret = secret
    provider.webhook_secret_fingerprint = secret_fingerprint(secret) if secret else ""


def provider_referrals_follow_agency(provider: ServiceProvider) -> None:
    """The inbox lists referrals by the provider's agency stored on each referral."""
    Referral.objects.filter(provider=provider).exclude(provider_agency=provider.agency).update(
        provider_agency=provider.agency
    )


def _field_for(path: str, *, channel: str) -> str:
    """The form's field for an entry's field path: the path itself or its nearest parent
    ("population.genders.0" is `genders`); the channel as a whole (or the entry: an inbox
    without agency) is the channel's address field."""
    parts = path.split(".") if path else []
    while parts:
        if field := _ENTRY_FIELDS.get(".".join(parts)):
            return field
        parts.pop()
    return {"webhook": "webhook_url", "email": "email"}.get(channel, "channel")


def _entry_problems(invalid: ProviderEntryInvalid, *, channel: str) -> dict[str, list[str]]:
    """The entry's problems by the form's field names, in words ("Value error, " dropped)."""
    errors: dict[str, list[str]] = {}
    for path, message in invalid.problems:
        text = message.removeprefix("Value error, ")
        errors.setdefault(_field_for(path, channel=channel), []).append(text[:1].upper() + text[1:])
    return errors


def provider_full_clean(provider: ServiceProvider) -> None:
    """The model's own checks (field types, the webhook target's rules, the constraints), as
    `ValidationError` with the problems by field."""
    try:
        provider.full_clean()
    except DjangoValidationError as error:
        raise ValidationError(
            "The provider was not saved: check the fields marked.",
            {
                ("channel" if field == "__all__" else field): messages
                for field, messages in error.message_dict.items()
            },
        ) from None


def _given(text: str | None) -> str | None:
    return (text or "").strip() or None


def _validated_entry(*, slug: str, agency: Agency, values: dict[str, Any]) -> ProviderEntry:
    regions = [region.strip() for region in values["regions"] if region.strip()]
    channel = values["channel"]
    data = {
        "slug": slug,
        "name": values["name"].strip(),
        "agency": agency.name,
        "service_types": list(dict.fromkeys(values["service_types"])),
        "regions": list(dict.fromkeys(regions)),
        "population": {
            "min_age": values["min_age"],
            "max_age": values["max_age"],
            "genders": list(dict.fromkeys(values["genders"])),
            "exploitation_types": list(dict.fromkeys(values["exploitation_types"])),
            "languages": list(dict.fromkeys(values["languages"])),
        },
        "capacity": values["capacity"],
        "channel": {
            "kind": channel,
            "url": _given(values["webhook_url"]) if channel == "webhook" else None,
            "email": _given(values["email"]) if channel == "email" else None,
        },
        "response_due_hours": values["response_due_hours"],
    }
    try:
        return provider_entry_parse(data)
    except ProviderEntryInvalid as invalid:
        raise ValidationError(
            "The provider was not saved: check the fields marked.",
            _entry_problems(invalid, channel=channel),
        ) from None


def _save(provider: ServiceProvider, entry: ProviderEntry, *, by: User, reason: str) -> str:
    """Apply, check, save with its history row; returns a secret made for a new webhook."""
    had_webhook = provider.channel == ServiceProvider.Channel.WEBHOOK and bool(
        provider.webhook_secret
    )
    provider_entry_apply(provider=provider, entry=entry, agency=by.agency)
    new_secret = ""
    if provider.channel == ServiceProvider.Channel.WEBHOOK:
        if not had_webhook:
            new_secret = secrets.token_hex(32)
            provider_secret_set(provider, new_secret)
    else:
        # A secret no channel uses any more must not sign or verify anything.
        provider_secret_set(provider, "")
    provider_full_clean(provider)
    provider.product_edited_at = timezone.now()
    history_user_set(provider, by)
    provider._change_reason = reason
    provider.save()
    provider_referrals_follow_agency(provider)
    return new_secret


def _slug_for(name: str) -> str:
    base = (slugify(name)[:70].strip("-") or "provider").lower()
    slug, number = base, 1
    while ServiceProvider.objects.filter(slug=slug).exists():
        number += 1
        slug = f"{base}-{number}"
    return slug


@transaction.atomic
def provider_create(*, by: User, **values: Any) -> ProviderSaved:
    """Add a service of `by`'s agency to the directory (see `provider_update` for `values`).
    Its slug, the name referrals and consents use for it, is made from its name."""
    provider_add_check(user=by)
    entry = _validated_entry(slug=_slug_for(values["name"]), agency=by.agency, values=values)
    provider = ServiceProvider(slug=entry.slug)
    new_secret = _save(provider, entry, by=by, reason=CHANGE_REASON_CREATED)
    return ProviderSaved(provider, new_secret)


@transaction.atomic
def provider_update(
    *,
    provider_id: int | str,
    by: User,
    name: str,
    service_types: list[str],
    regions: list[str],
    languages: list[str],
    min_age: int | None,
    max_age: int | None,
    genders: list[str],
    exploitation_types: list[str],
    capacity: str,
    response_due_hours: int,
    channel: str,
    webhook_url: str = "",
    email: str = "",
) -> ProviderSaved:
    """Change one of `by`'s agency's providers: who it serves, whether and how much it takes
    referrals (`capacity` "closed": none), how soon it answers, how referrals reach it. A
    channel that becomes a webhook gets a new secret (returned once); leaving the webhook
    drops the secret. Nothing is saved when any field is wrong (`ValidationError`)."""
    provider = provider_access(user=by, provider_id=provider_id, for_update=True)
    values = {
        "name": name,
        "service_types": service_types,
        "regions": regions,
        "languages": languages,
        "min_age": min_age,
        "max_age": max_age,
        "genders": genders,
        "exploitation_types": exploitation_types,
        "capacity": capacity,
        "response_due_hours": response_due_hours,
        "channel": channel,
        "webhook_url": webhook_url,
        "email": email,
    }
    entry = _validated_entry(slug=provider.slug, agency=by.agency, values=values)
    new_secret = _save(provider, entry, by=by, reason=CHANGE_REASON_EDITED)
    return ProviderSaved(provider, new_secret)


@transaction.atomic
def provider_secret_rotate(*, provider_id: int | str, by: User) -> ProviderSaved:
    """A new webhook secret for one of `by`'s agency's webhook providers, in force at once:
    the next delivery is signed with it and a callback signed with the old one is refused.
    Returned once; afterwards only its fingerprint is shown."""
    provider = provider_access(user=by, provider_id=provider_id, for_update=True)
    if provider.channel != ServiceProvider.Channel.WEBHOOK:
        raise ValidationError(
            "Only a webhook has a secret to rotate.", {"channel": ["This is not a webhook."]}
        )
    new_secret = secrets.token_hex(32)
    provider_secret_set(provider, new_secret)
    provider.product_edited_at = timezone.now()
    history_user_set(provider, by)
    provider._change_reason = CHANGE_REASON_ROTATED
    provider.save()
    return ProviderSaved(provider, new_secret)
