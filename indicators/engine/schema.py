"""Reading and validating instrument files (docs/instrument-format.md).

`load_instrument_file` reads one YAML file; `parse_instrument` validates an already-loaded
mapping. Both either return an `InstrumentDefinition` or raise `InstrumentFileError` listing
every problem found, each with the file, the item (or rule / section / outcome) key, the field
path and, for files, the line.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from .checks import Loc, Parts, check_parts
from .models import (
    LANGUAGE_PATTERN,
    UNION_TAGS,
    InstrumentDefinition,
    InstrumentHeader,
    Item,
    LocalPolicy,
    Outcome,
    Rule,
    SectionHeader,
    Source,
    Validation,
    VersionProvenance,
)

__all__ = [
    "InstrumentDefinition",
    "InstrumentFileError",
    "InstrumentProblem",
    "load_instrument_file",
    "parse_instrument",
]

FILE_NAME_PATTERN = re.compile(r"^(?P<slug>.+)\.v(?P<version>[0-9]+)\.yaml$")


@dataclass(frozen=True)
class InstrumentProblem:
    """One thing wrong with an instrument file."""

    file: str
    item: str | None  # the item, rule, section, outcome or source key the problem is in
    field: str  # dotted path in the file, e.g. `sections.2.items.5.strength`
    message: str
    line: int | None = None

    def __str__(self) -> str:
        text = f"{self.file}: item={self.item or '-'} field={self.field or '-'}: {self.message}"
        if self.line and f"line {self.line}" not in self.message:
            return f"{text} (line {self.line})"
        return text


class InstrumentFileError(ValueError):
    """An instrument file that cannot be used; `problems` lists everything wrong with it."""

    def __init__(self, problems: list[InstrumentProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def parse_instrument(data: Mapping[str, Any], *, origin: str) -> InstrumentDefinition:
    """Validate one instrument version given as a mapping; `origin` names it in problems."""
    return _parse(data, origin=origin)


def load_instrument_file(path: str | Path, *, check_file_name: bool = True) -> InstrumentDefinition:
    """Read and validate `seeds/instruments/<slug>.v<N>.yaml`.

    With `check_file_name`, the name must match the slug and version inside the file.
    """
    path = Path(path)
    origin = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InstrumentFileError(
            [InstrumentProblem(origin, None, "", f"cannot read the file: {error}")]
        ) from error
    try:
        data, lines = _load_yaml(text)
    except yaml.YAMLError as error:
        raise InstrumentFileError([_yaml_problem(origin, error)]) from error
    extra: list[InstrumentProblem] = []
    if check_file_name and isinstance(data, dict):
        extra = _file_name_problems(path, data, origin, lines)
    return _parse(data, origin=origin, lines=lines, extra=extra)


# --- YAML ------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (YAML would keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        self.flatten_mapping(node)
        first_line: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                seen = key in first_line
            except TypeError:  # an unhashable key; SafeLoader reports it below
                continue
            if seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found key {key!r} twice (first on line {first_line[key]})",
                    key_node.start_mark,
                )
            first_line[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _load_yaml(text: str) -> tuple[Any, dict[Loc, int]]:
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    lines: dict[Loc, int] = {}
    if node is not None:
        _record_lines(node, (), lines)
    return data, lines


def _record_lines(node: yaml.Node, path: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                child = (*path, key_node.value)
                lines.setdefault(child, key_node.start_mark.line + 1)
                _record_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, value_node in enumerate(node.value):
            _record_lines(value_node, (*path, index), lines)


def _yaml_problem(origin: str, error: yaml.YAMLError) -> InstrumentProblem:
    mark = getattr(error, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    where = f"line {line}, column {mark.column + 1}: " if mark is not None else ""
    detail = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    message = f"YAML syntax error at {where}{detail}" + (f" ({context})" if context else "")
    return InstrumentProblem(origin, None, "", message, line)


def _file_name_problems(
    path: Path, data: dict[str, Any], origin: str, lines: dict[Loc, int]
) -> list[InstrumentProblem]:
    slug, version = data.get("slug"), data.get("version")
    if not isinstance(slug, str) or not isinstance(version, int) or isinstance(version, bool):
        return []  # reported by validation
    expected = f"{slug}.v{version}.yaml"
    if path.name == expected:
        return []
    return [
        InstrumentProblem(
            origin,
            None,
            "slug",
            f"the file name must be `{expected}` (slug and version of the file)",
            lines.get(("slug",)),
        )
    ]


# --- validation ------------------------------------------------------------------------------

_RULE: TypeAdapter[Rule] = TypeAdapter(Rule)


def _parse(
    data: Any,
    *,
    origin: str,
    lines: dict[Loc, int] | None = None,
    extra: list[InstrumentProblem] | None = None,
) -> InstrumentDefinition:
    problems: list[InstrumentProblem] = list(extra or ())
    lines = lines or {}

    def add(loc: Loc, message: str) -> None:
        problems.append(
            InstrumentProblem(
                file=origin,
                item=_owner_key(data, loc),
                field=".".join(str(part) for part in loc),
                message=message,
                line=_line_for(lines, loc),
            )
        )

    if not isinstance(data, dict):
        add((), "an instrument file is a mapping (slug, version, sections, …) at the top level")
        raise InstrumentFileError(problems)

    context = {"languages": _declared_languages(data)}
    validate = _validator(context, add)
    parts = Parts(languages=list(context["languages"]))
    header = validate(InstrumentHeader.model_validate, data, ())
    if header is not None:
        parts.subject, parts.audience = header.subject, header.audience
    _collect_parts(data, parts, validate, add)
    for loc, message in check_parts(parts):
        add(loc, message)
    if problems:
        raise InstrumentFileError(problems)
    try:
        return InstrumentDefinition.model_validate(data, context=context)
    except ValidationError as error:  # every part passed on its own: this should not happen
        for detail in error.errors():
            add(_clean_loc(detail["loc"]), _message(detail))
        raise InstrumentFileError(problems) from error


def _validator(
    context: dict[str, Any], add: Callable[[Loc, str], None]
) -> Callable[[Callable[..., Any], Any, Loc], Any]:
    """validate(model_validate, value, loc) -> the model, or None after reporting problems."""

    def validate(validate_python: Callable[..., Any], value: Any, loc: Loc) -> Any:
        try:
            return validate_python(value, context=context)
        except ValidationError as error:
            for detail in error.errors():
                error_loc = (*loc, *_clean_loc(detail["loc"]))
                if detail["type"] == "rule_kind" and isinstance(value, dict):
                    error_loc = (*error_loc, "kind")
                add(error_loc, _message(detail))
            return None

    return validate


def _collect_parts(
    data: dict[str, Any],
    parts: Parts,
    validate: Callable[[Callable[..., Any], Any, Loc], Any],
    add: Callable[[Loc, str], None],
) -> None:
    """Validate each source, section, item, rule and outcome on its own."""
    for name, target, model in (
        ("sources", parts.sources, Source),
        ("local_policies", parts.local_policies, LocalPolicy),
    ):
        for index, value in enumerate(_list(data, name)):
            loc = (name, index)
            entry = validate(model.model_validate, value, loc)
            if entry is None:
                parts.incomplete = True
                if (key := _raw_key(value)) is not None:
                    parts.broken_citations.add(key)
            else:
                target.append((loc, entry))

    if data.get("provenance") is not None:
        entry = validate(VersionProvenance.model_validate, data["provenance"], ("provenance",))
        if entry is None:
            parts.incomplete = True
        else:
            parts.version_provenance = (("provenance",), entry)
    for index, value in enumerate(_list(data, "validation")):
        entry = validate(Validation.model_validate, value, ("validation", index))
        if entry is None:
            parts.incomplete = True
        else:
            parts.validations.append((("validation", index), entry))

    position = 0
    for section_index, section in enumerate(_list(data, "sections")):
        loc: Loc = ("sections", section_index)
        header_value = (
            {name: value for name, value in section.items() if name != "items"}
            if isinstance(section, dict)
            else section
        )
        header = validate(SectionHeader.model_validate, header_value, loc)
        if header is None:
            parts.incomplete = True
        else:
            parts.sections.append((loc, header))
        if not isinstance(section, dict):
            continue
        raw_items = section.get("items")
        if raw_items is None:
            add((*loc, "items"), "required field is missing")
            continue
        if not isinstance(raw_items, list):
            add((*loc, "items"), "Input should be a valid list")
            continue
        if not raw_items:
            add((*loc, "items"), "a section needs at least one item")
        for item_index, value in enumerate(raw_items):
            item_loc = (*loc, "items", item_index)
            key = _raw_key(value)
            if key is not None and key not in parts.item_order:
                parts.item_order[key] = position
            position += 1
            item = validate(Item.model_validate, value, item_loc)
            if item is None:
                parts.incomplete = True
                if key is not None:
                    parts.broken_items.add(key)
            else:
                parts.items.append((item_loc, item))

    for index, value in enumerate(_list(data, "rules")):
        key = _raw_key(value)
        if key is not None and key not in parts.rule_order:
            parts.rule_order[key] = index
        rule = validate(_RULE.validate_python, value, ("rules", index))
        if rule is None:
            parts.incomplete = True
        else:
            parts.rules.append((("rules", index), rule))

    for index, value in enumerate(_list(data, "outcomes")):
        outcome = validate(Outcome.model_validate, value, ("outcomes", index))
        if outcome is None:
            parts.incomplete = True
        else:
            parts.outcomes.append((("outcomes", index), outcome))


def _list(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name)
    return value if isinstance(value, list) else []


def _raw_key(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("key"), str):
        return value["key"]
    return None


def _declared_languages(data: dict[str, Any]) -> tuple[str, ...]:
    """The languages every text must carry; English always, whatever the file says."""
    declared = data.get("languages")
    if not isinstance(declared, list):
        return ("en",)
    valid = [
        language
        for language in declared
        if isinstance(language, str) and re.fullmatch(LANGUAGE_PATTERN, language)
    ]
    return tuple(dict.fromkeys(["en", *valid]))


def _clean_loc(loc: tuple[int | str, ...]) -> Loc:
    """Drop the union-member tags pydantic puts in error locations."""
    return tuple(part for part in loc if part not in UNION_TAGS)


def _message(detail: Any) -> str:
    kind = detail["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return f"unknown field `{detail['loc'][-1]}` (not part of the instrument format)"
    message = str(detail["msg"]).removeprefix("Value error, ")
    value = detail.get("input")
    if isinstance(value, bool):
        message += " (YAML reads unquoted yes/no/true/false/on/off as booleans: quote it)"
    elif isinstance(value, dt.date):
        message += " (YAML reads an unquoted date as a date: quote it)"
    return message


def _owner_key(data: Any, loc: Loc) -> str | None:
    """The key of the item, rule, section, outcome or source a location is inside."""
    try:
        if len(loc) >= 4 and loc[0] == "sections" and loc[2] == "items":
            node = data["sections"][loc[1]]["items"][loc[3]]
        elif len(loc) >= 2 and loc[0] in (
            "sections",
            "rules",
            "outcomes",
            "sources",
            "local_policies",
        ):
            node = data[loc[0]][loc[1]]
        else:
            return None
    except (KeyError, IndexError, TypeError):
        return None
    return _raw_key(node)


def _line_for(lines: dict[Loc, int], loc: Loc) -> int | None:
    for end in range(len(loc), -1, -1):
        line = lines.get(loc[:end])
        if line is not None:
            return line
    return None
