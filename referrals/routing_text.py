"""Routing rules as YAML text typed or uploaded in the product: reading it with every problem
named by line and field, and writing a version back as text (to edit, to compare, to
download). The format is the rule file's (referrals/routing.py, seeds/routing/*.yaml); the
same validation applies. No database here.

Text from a browser is read defensively: a size limit, no anchors or aliases (a few hundred
bytes of nested aliases expand to gigabytes), a bounded nesting depth (the parser and the
validator recurse), duplicate keys refused (YAML would keep the last one silently).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import yaml

from referrals.routing import RoutingDefinition, RoutingFileError, RoutingProblem, parse_routing

TEXT_MAX_BYTES = 64 * 1024
MAX_DEPTH = 32
# Set by the service for a version in the product, whatever a pasted or uploaded file says.
ASSIGNED_FIELDS = ("slug", "version", "status")


@dataclass(frozen=True)
class ParsedRules:
    definition: RoutingDefinition
    # "version: 1 (the file's) is now 3": assigned fields the text had with other values.
    replaced: tuple[str, ...]


def _problem(origin: str, message: str, *, line: int | None = None, field: str = ""):
    return RoutingFileError([RoutingProblem(origin, None, field, message, line=line)])


def _check_shape(text: str, origin: str) -> None:
    """Refuse aliases and deep nesting from the event stream, before anything is built."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 if event.start_mark else None
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise _problem(origin, "anchors and aliases (& and *) are not allowed", line=line)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _problem(origin, f"nested deeper than {MAX_DEPTH} levels", line=line)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(error, "problem", None) or "not valid YAML"
        raise _problem(origin, f"not valid YAML: {reason}", line=line) from None


def _duplicate_keys(node: yaml.Node, origin: str) -> list[RoutingProblem]:
    problems: list[RoutingProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                problems.append(
                    RoutingProblem(
                        origin,
                        None,
                        str(key.value),
                        "key given twice",
                        line=key.start_mark.line + 1,
                    )
                )
            seen.add(key.value)
            problems += _duplicate_keys(value, origin)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            problems += _duplicate_keys(item, origin)
    return problems


def _line_of(node: yaml.Node | None, field: str) -> int | None:
    """The line of the deepest part of `field` ("rules.2.when.any.0.flag") the text has."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in field.split(".") if field else ():
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if str(k.value) == part), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            break
    return line


def routing_text_parse(text: str, *, origin: str, slug: str, version: int) -> ParsedRules:
    """Validate rules typed or uploaded for version `version` of the line `slug`: the file
    format, with slug, version and status set here (a draft). Raises `RoutingFileError`
    whose problems carry the line."""
    if len(text.encode("utf-8")) > TEXT_MAX_BYTES:
        raise _problem(origin, f"larger than {TEXT_MAX_BYTES // 1024} KB")
    if not text.strip():
        raise _problem(origin, "empty: give a title and at least one rule")
    _check_shape(text, origin)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:  # checked above; a second opinion costs nothing
        raise _problem(origin, f"not valid YAML: {error}") from None
    duplicates = _duplicate_keys(node, origin) if node is not None else []
    if duplicates:
        raise RoutingFileError(duplicates)
    if not isinstance(data, dict):
        raise _problem(origin, "the rules must be a mapping with a title and rules", line=1)
    assigned = {"slug": slug, "version": version, "status": "draft"}
    replaced = tuple(
        f"{name}: {data[name]} (the text's) is {assigned[name]}"
        for name in ASSIGNED_FIELDS
        if name in data and data[name] != assigned[name]
    )
    data = {**data, **assigned}
    try:
        definition = parse_routing(data, origin=origin)
    except RoutingFileError as error:
        raise RoutingFileError(
            [
                RoutingProblem(
                    p.file, p.rule, p.field, p.message, line=_line_of(node, p.field) or p.line
                )
                for p in error.problems
            ]
        ) from None
    return ParsedRules(definition=definition, replaced=replaced)


def _plain(definition: RoutingDefinition | dict[str, Any]) -> dict[str, Any]:
    if isinstance(definition, dict):
        definition = RoutingDefinition.model_validate(definition)
    return definition.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def routing_text(definition: RoutingDefinition | dict[str, Any], *, header: str = "") -> str:
    """A version as YAML in the rule file's format, conditions kept on one line each where
    they are short; `header` lines become comments at the top."""
    body = yaml.safe_dump(
        _plain(definition),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None,
        width=100,
    )
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    return comments + body


def routing_text_diff(
    before: RoutingDefinition | dict[str, Any],
    after: RoutingDefinition | dict[str, Any],
    *,
    before_name: str,
    after_name: str,
) -> list[str]:
    """A unified diff of title and rules (slug, version and status always differ)."""

    def lines(definition) -> list[str]:
        plain = _plain(definition)
        kept = {"title": plain["title"], "rules": plain["rules"]}
        text = yaml.safe_dump(
            kept, sort_keys=False, allow_unicode=True, default_flow_style=None, width=100
        )
        return text.splitlines()

    return list(
        difflib.unified_diff(
            lines(before), lines(after), fromfile=before_name, tofile=after_name, lineterm=""
        )
    )
