"""What changed between two instrument versions, field by field, for reviewers."""

from __future__ import annotations

import json
from typing import Any

from .models import InstrumentDefinition

_METADATA = (
    "slug",
    "version",
    "status",
    "title",
    "audience",
    "purpose",
    "languages",
    "provenance",
    "validation",
)
_KEYED_PARTS = ("sources", "local_policies", "sections", "items", "rules", "outcomes")
_TITLES = {
    "sources": ("Source", "Sources"),
    "local_policies": ("Local policy", "Local policies"),
    "sections": ("Section", "Sections"),
    "items": ("Item", "Items"),
    "rules": ("Rule", "Rules"),
    "outcomes": ("Outcome", "Outcomes"),
}


def diff_definitions(a: InstrumentDefinition, b: InstrumentDefinition) -> dict[str, Any]:
    """Differences from `a` (old) to `b` (new), as JSON-ready data.

    Items, rules, outcomes, sections, sources and local policies are matched by key: each part
    lists `added` and `removed` keys and, for keys in both, the `changed` fields as dotted paths
    with old and new values (`{"prompt.en": {"old": …, "new": …}}`). Order changes are reported
    where order means something (items, rules, outcome bands).
    """
    old, new = _parts(a), _parts(b)
    result: dict[str, Any] = {
        "from": {"slug": a.slug, "version": a.version, "content_hash": a.content_hash()},
        "to": {"slug": b.slug, "version": b.version, "content_hash": b.content_hash()},
        "identical": a.content_hash() == b.content_hash(),
        "metadata": _changes(
            {name: old["metadata"].get(name) for name in _METADATA},
            {name: new["metadata"].get(name) for name in _METADATA},
        ),
    }
    for part in _KEYED_PARTS:
        result[part] = _keyed(old[part], new[part])
    result["order"] = {
        part: {"old": keys_old, "new": keys_new}
        for part in ("items", "rules", "outcomes")
        if (keys_old := _common_order(old[part], new[part]))
        != (keys_new := _common_order(new[part], old[part]))
    }
    return result


def format_diff(diff: dict[str, Any]) -> str:
    """The diff as plain text, one change per line."""
    before, after = diff["from"], diff["to"]
    lines = [
        f"{before['slug']} v{before['version']} → {after['slug']} v{after['version']}",
        f"content hash {before['content_hash'][:12]} → {after['content_hash'][:12]}",
    ]
    if diff["identical"]:
        lines.append("No differences.")
        return "\n".join(lines)
    if diff["metadata"]:
        lines.append("Instrument changed:")
        lines.extend(_change_lines(diff["metadata"]))
    for part in _KEYED_PARTS:
        singular, plural = _TITLES[part]
        entry = diff[part]
        if entry["added"]:
            lines.append(f"{plural} added ({len(entry['added'])}): {', '.join(entry['added'])}")
        if entry["removed"]:
            lines.append(
                f"{plural} removed ({len(entry['removed'])}): {', '.join(entry['removed'])}"
            )
        for key, changes in entry["changed"].items():
            lines.append(f"{singular} changed: {key}")
            lines.extend(_change_lines(changes))
    for part, order in diff["order"].items():
        lines.append(f"Order of {part} changed:")
        lines.append(f"  old: {', '.join(order['old'])}")
        lines.append(f"  new: {', '.join(order['new'])}")
    return "\n".join(lines)


def _parts(definition: InstrumentDefinition) -> dict[str, Any]:
    data = definition.model_dump(mode="json")
    items = []
    sections = []
    for section in data["sections"]:
        for item in section["items"]:
            items.append({**item, "section": section["key"]})
        sections.append({name: value for name, value in section.items() if name != "items"})
    return {
        "metadata": data,
        "sources": data["sources"],
        "local_policies": data["local_policies"],
        "sections": sections,
        "items": items,
        "rules": data["rules"],
        "outcomes": data["outcomes"],
    }


def _keyed(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> dict[str, Any]:
    old_by_key = {entry["key"]: entry for entry in old}
    new_by_key = {entry["key"]: entry for entry in new}
    changed = {}
    for key in sorted(old_by_key.keys() & new_by_key.keys()):
        changes = _changes(old_by_key[key], new_by_key[key])
        if changes:
            changed[key] = changes
    return {
        "added": [key for key in new_by_key if key not in old_by_key],
        "removed": [key for key in old_by_key if key not in new_by_key],
        "changed": changed,
    }


def _common_order(entries: list[dict[str, Any]], other: list[dict[str, Any]]) -> list[str]:
    """Keys of `entries` that `other` also has, in the order of `entries`."""
    other_keys = {entry["key"] for entry in other}
    return [entry["key"] for entry in entries if entry["key"] in other_keys]


def _changes(old: Any, new: Any) -> dict[str, dict[str, Any]]:
    flat_old, flat_new = _flatten(old), _flatten(new)
    return {
        path: {"old": flat_old.get(path), "new": flat_new.get(path)}
        for path in sorted(flat_old.keys() | flat_new.keys())
        if flat_old.get(path) != flat_new.get(path)
    }


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted paths to leaves. Lists of keyed entries (options, bands) are indexed by key,
    lists of other mappings by position, lists of plain values are one leaf."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for name, entry in value.items():
            flat.update(_flatten(entry, f"{prefix}{name}."))
        return flat if flat else {prefix.rstrip("."): value}
    if isinstance(value, list) and value and all(isinstance(entry, dict) for entry in value):
        keyed = all(isinstance(entry.get("key"), str) for entry in value)
        flat = {}
        for position, entry in enumerate(value):
            label = entry["key"] if keyed else str(position)
            flat.update(_flatten(entry, f"{prefix}{label}."))
        return flat
    return {prefix.rstrip("."): value}


def _change_lines(changes: dict[str, dict[str, Any]]) -> list[str]:
    return [
        f"  {path}: {_show(change['old'])} → {_show(change['new'])}"
        for path, change in changes.items()
    ]


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    return json.dumps(value, ensure_ascii=False)
