"""Loading routing rule versions and the provider directory from validated files."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from config.errors import ValidationError
from referrals.directory import ProviderEntry
from referrals.models import RoutingRuleSet, ServiceProvider
from referrals.routing import RoutingDefinition
from referrals.services.providers import (
    provider_entry_apply,
    provider_full_clean,
    provider_referrals_follow_agency,
    provider_secret_set,
)
from screening.models import Agency

# What the loader says of an entry changed in the product since it last wrote it.
SKIPPED_PRODUCT_EDIT = "skipped (changed in the product since the last load)"


# The slugs of agencies' own rules (referrals/services/rule_sets.py): never a rule file's.
AGENCY_LINE = re.compile(r"agency-\d+-routing")


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
    if AGENCY_LINE.fullmatch(definition.slug) or (
        existing is not None and existing.agency_id is not None
    ):
        raise PublishedRoutingChanged(
            f"{name}: the slug is an agency's own line (drafted in the product), which a rule "
            "file cannot write; give the file another slug"
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
    if rule_set.status == RoutingRuleSet.Status.PUBLISHED:
        rule_set.published_at = timezone.now()
    rule_set.save()
    if rule_set.status == RoutingRuleSet.Status.PUBLISHED:
        # The older published versions of the default's line step aside for this one.
        RoutingRuleSet.objects.filter(
            agency__isnull=True,
            slug=rule_set.slug,
            status=RoutingRuleSet.Status.PUBLISHED,
            number__lt=rule_set.number,
            superseded_by__isnull=True,
        ).update(superseded_at=rule_set.published_at, superseded_by=rule_set)
    return LoadResult(name, action)


def _directory_values(provider: ServiceProvider) -> tuple:
    """What a directory entry sets on a provider, to tell whether a load changes anything."""
    return (
        provider.name,
        provider.agency_id,
        provider.service_types,
        provider.regions,
        provider.min_age,
        provider.max_age,
        provider.genders,
        provider.exploitation_types,
        provider.languages,
        provider.capacity,
        provider.channel,
        provider.webhook_url,
        provider.email,
        provider.response_due_hours,
        provider.webhook_secret,
    )


@transaction.atomic
def service_provider_ensure(
    *, entry: ProviderEntry, overwrite_product_edits: bool = False
) -> LoadResult:
    """Create or update a provider from its directory entry. The webhook secret comes from the
    environment variable the entry names, else stays as stored, else a random one is made.

    An entry that changes nothing is "unchanged" (no save, no history row). A provider its
    agency changed in the product since the last load is left as it is and reported
    (`SKIPPED_PRODUCT_EDIT`), unless `overwrite_product_edits`: then the file's entry
    replaces the change, and the history row says so (docs/provider-directory.md)."""
    agency = None
    if entry.agency:
        agency = Agency.objects.filter(name=entry.agency).first()
        if agency is None:
            raise ValueError(f"provider {entry.slug}: no agency named {entry.agency!r}")
    provider = ServiceProvider.objects.select_for_update().filter(slug=entry.slug).first()
    before = _directory_values(provider) if provider else None
    edited_in_product = bool(provider and provider.product_edited_at)
    action = "updated" if provider else "created"
    provider = provider or ServiceProvider(slug=entry.slug)
    channel = entry.channel
    secret = os.environ.get(channel.secret_env, "") if channel.secret_env else ""
    provider_entry_apply(provider=provider, entry=entry, agency=agency)
    if channel.kind == "webhook":
        provider_secret_set(provider, secret or provider.webhook_secret or secrets.token_hex(32))
    if before is not None and _directory_values(provider) == before:
        return LoadResult(entry.slug, "unchanged")
    if edited_in_product and not overwrite_product_edits:
        return LoadResult(entry.slug, SKIPPED_PRODUCT_EDIT)
    try:
        provider_full_clean(provider)  # the webhook URL's target too (ServiceProvider.clean)
    except ValidationError as error:
        problems = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.field_errors.items()
        )
        raise ValueError(f"provider {entry.slug}: {problems}") from None
    if edited_in_product:
        provider._change_reason = "Directory file replaced the change made in the product"
        action = "overwrote the change made in the product"
    else:
        provider._change_reason = "Loaded from the directory file"
    provider.product_edited_at = None
    provider.save()
    provider_referrals_follow_agency(provider)
    return LoadResult(entry.slug, action)
