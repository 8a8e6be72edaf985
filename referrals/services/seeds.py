"""Loading routing rule versions and the provider directory from validated files."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from referrals.directory import ProviderEntry
from referrals.models import Referral, RoutingRuleSet, ServiceProvider
from referrals.routing import RoutingDefinition
from screening.models import Agency


class PublishedRoutingChanged(Exception):
    """A routing file changed under a version number that is already published."""


@dataclass(frozen=True)
class LoadResult:
    name: str
    action: str


@transaction.atomic
def routing_rule_set_load(*, definition: RoutingDefinition, source_file: str = "") -> LoadResult:
    """Store one version; the same content again changes nothing, and a published version
    never changes (bump the version number instead)."""
    content_hash = definition.content_hash()
    name = f"{definition.slug} v{definition.version}"
    existing = (
        RoutingRuleSet.objects.select_for_update()
        .filter(slug=definition.slug, number=definition.version)
        .first()
    )
    if existing is not None:
        if existing.content_hash == content_hash:
            return LoadResult(name, "unchanged")
        if existing.status == RoutingRuleSet.Status.PUBLISHED:
            raise PublishedRoutingChanged(
                f"{name} is published and its content changed: published versions are "
                f"immutable, bump the version number to v{definition.version + 1}"
            )
        action = "updated draft"
        rule_set = existing
    else:
        action = "created"
        rule_set = RoutingRuleSet(slug=definition.slug, number=definition.version)
    rule_set.status = definition.status
    rule_set.title = definition.title
    rule_set.definition = definition.model_dump(mode="json", by_alias=True)
    rule_set.content_hash = content_hash
    rule_set.source_file = source_file
    rule_set.save()
    return LoadResult(name, action)


@transaction.atomic
def service_provider_ensure(*, entry: ProviderEntry) -> LoadResult:
    """Create or update a provider from its directory entry. The webhook secret comes from the
    environment variable the entry names, else stays as stored, else a random one is made."""
    agency = None
    if entry.agency:
        agency = Agency.objects.filter(name=entry.agency).first()
        if agency is None:
            raise ValueError(f"provider {entry.slug}: no agency named {entry.agency!r}")
    provider = ServiceProvider.objects.select_for_update().filter(slug=entry.slug).first()
    action = "updated" if provider else "created"
    provider = provider or ServiceProvider(slug=entry.slug)
    channel = entry.channel
    secret = os.environ.get(channel.secret_env, "") if channel.secret_env else ""
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
    provider.channel = channel.kind
    provider.webhook_url = channel.url or ""
    provider.email = channel.email or ""
    if channel.kind == "webhook":
        provider.webhook_secret = secret or provider.webhook_secret or secrets.token_hex(32)
    provider.response_due_hours = entry.response_due_hours
    try:
        provider.full_clean()  # the webhook URL's target too (ServiceProvider.clean)
    except ValidationError as error:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
        raise ValueError(f"provider {entry.slug}: {problems}") from None
    provider.save()
    # The inbox lists referrals by the provider's agency stored on each referral.
    Referral.objects.filter(provider=provider).exclude(provider_agency=agency).update(
        provider_agency=agency
    )
    return LoadResult(entry.slug, action)
