"""Reads for instruments. Every caller (commands, API, screening) goes through these."""

from functools import lru_cache

from django.db.models import Prefetch, QuerySet

from indicators.engine import InstrumentDefinition, parse_instrument
from indicators.models import Instrument, InstrumentVersion


class InstrumentVersionNotFound(LookupError):
    """No such instrument or version (the same error for both, and for drafts where only
    published versions are asked for)."""


def instrument_list(*, published_only: bool = True) -> QuerySet[Instrument]:
    versions = InstrumentVersion.objects.order_by("number").only(
        "id", "instrument_id", "number", "status", "content_hash", "title"
    )
    if published_only:
        versions = versions.filter(status=InstrumentVersion.Status.PUBLISHED)
    instruments = Instrument.objects.order_by("slug").prefetch_related(
        Prefetch("versions", queryset=versions, to_attr="listed_versions")
    )
    if published_only:
        instruments = instruments.filter(versions__status=InstrumentVersion.Status.PUBLISHED)
    return instruments.distinct()


def instrument_version_get(
    *, slug: str, number: int | None = None, published_only: bool = True
) -> InstrumentVersion:
    """The version `number` of `slug`, or its newest published version when number is None."""
    versions = InstrumentVersion.objects.select_related("instrument").filter(instrument__slug=slug)
    if published_only:
        versions = versions.filter(status=InstrumentVersion.Status.PUBLISHED)
    if number is None:
        version = versions.order_by("-number").first()
    else:
        version = versions.filter(number=number).first()
    if version is None:
        wanted = f"{slug} v{number}" if number is not None else f"{slug} (any published version)"
        raise InstrumentVersionNotFound(f"no instrument version {wanted}")
    return version


def instrument_definition(version: InstrumentVersion) -> InstrumentDefinition:
    """The engine's view of a stored version, parsed once per process per content hash."""
    return _definition_for_hash(version.content_hash, version.pk)


@lru_cache(maxsize=64)
def _definition_for_hash(content_hash: str, version_id: int) -> InstrumentDefinition:
    version = InstrumentVersion.objects.only("definition", "instrument__slug", "number").get(
        pk=version_id
    )
    definition = parse_instrument(version.definition, origin=f"stored version {version_id}")
    if definition.content_hash() != content_hash:
        # The stored JSON no longer hashes to what was published: refuse to score with it.
        raise RuntimeError(f"instrument version {version_id} failed its content-hash check")
    return definition
