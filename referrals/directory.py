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
            raise ValueError("min_age must not be above max_age")
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
        directory = DirectoryFile.model_validate(data)
    except PydanticValidationError as error:
        problems = []
        for detail in error.errors():
            loc = detail["loc"]
            entry_key = None
            if len(loc) >= 2 and loc[0] == "providers" and isinstance(loc[1], int):
                entries = data.get("providers") if isinstance(data, dict) else None
                if isinstance(entries, list) and loc[1] < len(entries):
                    entry = entries[loc[1]]
                    entry_key = entry.get("slug") if isinstance(entry, dict) else None
                entry_key = entry_key or f"#{loc[1] + 1}"
            field = ".".join(str(part) for part in loc)
            problems.append(RoutingProblem(origin, entry_key, field, detail["msg"]))
        raise RoutingFileError(problems) from None
    slugs = [entry.slug for entry in directory.providers]
    repeated = sorted({slug for slug in slugs if slugs.count(slug) > 1})
    if repeated:
        raise RoutingFileError(
            [RoutingProblem(origin, slug, "slug", "provider slug used twice") for slug in repeated]
        )
    return directory
