"""The JSON shape of an instrument version, shared by `instrument_export` and the REST API."""

from typing import Any

from indicators.engine import InstrumentDefinition
from indicators.models import InstrumentVersion


def version_document(
    version: InstrumentVersion, definition: InstrumentDefinition
) -> dict[str, Any]:
    """Everything a client needs to render and score the version, with a flat item list."""
    document = definition.model_dump(mode="json")
    items = []
    for section in definition.sections:
        for item in section.items:
            entry = item.model_dump(mode="json")
            entry["section"] = section.key
            entry.setdefault("dimension", None)
            entry.setdefault("strength", None)
            entry["options"] = [option.key for option in item.options or []]
            entry["option_labels"] = {
                option.key: option.label.model_dump(mode="json") for option in item.options or []
            }
            items.append(entry)
    return {
        "slug": definition.slug,
        "version": definition.version,
        "status": definition.status,
        "content_hash": version.content_hash,
        "title": document["title"],
        "audience": definition.audience,
        "purpose": document["purpose"],
        "languages": document["languages"],
        "sources": document["sources"],
        "local_policies": document["local_policies"],
        # What the version was checked against and its published accuracy (issue 17); a
        # version published before these existed has none.
        "provenance": document.get("provenance"),
        "validation": document.get("validation", []),
        "sections": document["sections"],
        "items": items,
        "rules": document["rules"],
        "outcomes": document["outcomes"],
    }
