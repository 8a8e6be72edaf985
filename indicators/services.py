"""Writes for instruments: loading validated versions; published versions never change."""

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from indicators.engine import InstrumentDefinition, score
from indicators.models import Instrument, InstrumentVersion, Item
from indicators.selectors import instrument_definition


class PublishedVersionChanged(Exception):
    """A file changed under a version number that is already published."""


@dataclass(frozen=True)
class LoadResult:
    slug: str
    number: int
    action: str  # "created", "unchanged", "updated draft", "published draft"
    items: int


@transaction.atomic
def instrument_version_load(
    *, definition: InstrumentDefinition, source_file: str = ""
) -> LoadResult:
    """Store one validated version. Loading the same content again changes nothing; a published
    version whose content differs is refused (publish a new version number instead)."""
    content_hash = definition.content_hash()
    title = definition.title.root["en"]
    instrument, _ = Instrument.objects.get_or_create(
        slug=definition.slug, defaults={"title": title, "audience": definition.audience}
    )
    existing = (
        InstrumentVersion.objects.select_for_update()
        .filter(instrument=instrument, number=definition.version)
        .first()
    )
    item_count = len(definition.items)
    if existing is not None:
        if existing.content_hash == content_hash:
            return LoadResult(definition.slug, definition.version, "unchanged", item_count)
        if existing.status == InstrumentVersion.Status.PUBLISHED:
            raise PublishedVersionChanged(
                f"{definition.slug} v{definition.version} is published and its content changed "
                f"(stored {existing.content_hash[:12]}…, file {content_hash[:12]}…): published "
                f"versions are immutable, bump the version number to v{definition.version + 1}"
            )
        action = "published draft" if definition.status == "published" else "updated draft"
        existing.items.all().delete()
        version = existing
    else:
        action = "created"
        version = InstrumentVersion(instrument=instrument, number=definition.version)

    version.status = definition.status
    version.title = title
    version.languages = list(definition.languages)
    version.definition = definition.model_dump(mode="json")
    version.content_hash = content_hash
    version.source_file = source_file
    version.save()
    Item.objects.bulk_create(
        Item(
            version=version,
            key=item.key,
            section=section.key,
            position=position,
            response_type=item.response_type,
            domain=item.domain,
            dimension=item.dimension or "",
            strength=item.strength or "",
        )
        for position, (section, item) in enumerate(
            (section, item) for section in definition.sections for item in section.items
        )
    )
    if definition.status == "published" and instrument.title != title:
        instrument.title = title
        instrument.save(update_fields=["title"])
    return LoadResult(definition.slug, definition.version, action, item_count)


def instrument_version_score(
    *, version: InstrumentVersion, answers: dict[str, Any], context: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Dry-run scoring: computes and returns the result, stores nothing.

    Raises the engine's AnswerError, naming each unknown key or invalid value.
    """
    return score(instrument_definition(version), answers, context or {}).to_dict()
