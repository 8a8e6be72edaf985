"""The provider directory file format (seeds/providers/*.yaml) and its validation.

    providers:
      - slug: harbour-safe-house
        name: Harbour Safe House
        agency: Safe Harbour Shelter        # optional; needed for the inbox channel
        service_types: [shelter, case_management]
        regions: [Harbour City]             # "national" covers every region
        population: {min_age: 18, max_age: null, genders: [female], exploitation_types: [],
                     languages: [en, es]}
        capacity: available
        channel: {kind: webhook, url: "https://…", secret_env: HARBOUR_WEBHOOK_SECRET}
        response_due_hours: 24

Secrets never live in the file: `secret_env` names an environment variable; without it a
random secret is generated on first load (demo mode).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from referrals.models import ServiceProvider, ServiceType
from referrals.routing import RoutingFileError, RoutingProblem


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Population(_Strict):
    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)
    genders: list[Literal["female", "male", "another", "not_stated"]] = []
    exploitation_types: list[Literal["labour", "sexual", "both", "criminality"]] = []
    languages: list[str] = []

    @model_validator(mode="after")
    def _ordered(self) -> Population:
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise ValueError(
                "the youngest age served (min_age) must not be above the oldest (max_age)"
            )
        return self


class Channel(_Strict):
    kind: Literal["webhook", "email", "inbox"]
    url: str | None = None
    secret_env: str | None = None
    email: str | None = None

    @model_validator(mode="after")
    def _complete(self) -> Channel:
        if self.kind == "webhook" and not (self.url or "").startswith(("https://", "http://")):
            raise ValueError("a webhook channel needs an http(s) url")
        if self.kind == "email" and "@" not in (self.email or ""):
            raise ValueError("an email channel needs an email address")
        return self


class ProviderEntry(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str = Field(min_length=1)
    agency: str | None = None
    service_types: list[Literal[tuple(ServiceType.values)]] = Field(min_length=1)  # type: ignore[valid-type]
    regions: list[str] = Field(min_length=1)
    population: Population = Population()
    capacity: Literal[tuple(ServiceProvider.Capacity.values)] = "available"  # type: ignore[valid-type]
    channel: Channel
    response_due_hours: int = Field(default=72, ge=1, le=24 * 30)

    @model_validator(mode="after")
    def _inbox_has_agency(self) -> ProviderEntry:
        if self.channel.kind == "inbox" and not self.agency:
            raise ValueError("an inbox channel needs the provider's agency")
        return self


class DirectoryFile(_Strict):
    providers: list[ProviderEntry] = Field(min_length=1)


class _DirectoryShape(_Strict):
    """A directory file before its entries are read: a non-empty list under `providers`."""

    providers: list[Any] = Field(min_length=1)


class ProviderEntryInvalid(Exception):
    """A directory entry that does not validate; `problems` are (field path, message) pairs,
    the path as dotted names ("population.min_age", "channel")."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in problems))
        self.problems = problems


def provider_entry_parse(data: Any) -> ProviderEntry:
    """The one validation of a provider's directory entry: each entry of a directory file,
    and every change an agency makes to its providers in the product, pass through here
    (then `ServiceProvider.full_clean`, which also checks the webhook target)."""
    try:
        return ProviderEntry.model_validate(data)
    except PydanticValidationError as error:
        raise ProviderEntryInvalid(
            [
                (".".join(str(part) for part in detail["loc"]), detail["msg"])
                for detail in error.errors()
            ]
        ) from None


def load_directory_file(path: str | Path) -> DirectoryFile:
    path = Path(path)
    origin = str(path)
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise RoutingFileError(
            [RoutingProblem(origin, None, "", f"cannot read: {error}")]
        ) from None
    try:
        shape = _DirectoryShape.model_validate(data)
    except PydanticValidationError as error:
        raise RoutingFileError(
            [
                RoutingProblem(
                    origin, None, ".".join(str(part) for part in detail["loc"]), detail["msg"]
                )
                for detail in error.errors()
            ]
        ) from None
    problems, entries = [], []
    for index, raw in enumerate(shape.providers):
        try:
            entries.append(provider_entry_parse(raw))
        except ProviderEntryInvalid as invalid:
            entry_key = (raw.get("slug") if isinstance(raw, dict) else None) or f"#{index + 1}"
            for field, message in invalid.problems:
                location = f"providers.{index}.{field}" if field else f"providers.{index}"
                problems.append(RoutingProblem(origin, str(entry_key), location, message))
    if problems:
        raise RoutingFileError(problems)
    slugs = [entry.slug for entry in entries]
    repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if repeated:
        raise RoutingFileError(
            [RoutingProblem(origin, slug, "slug", "provider slug used twice") for slug in repeated]
        )
    return DirectoryFile(providers=entries)
