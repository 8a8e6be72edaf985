"""Validate and load routing rule versions (seeds/routing/) and the provider directory
(seeds/providers/). All-or-nothing; every problem is reported with file, rule/provider, field."""

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from referrals.directory import load_directory_file
from referrals.routing import RoutingFileError, load_routing_file
from referrals.services.seeds import (
    PublishedRoutingChanged,
    routing_rule_set_load,
    service_provider_ensure,
)


def _yaml_files(folder: Path) -> list[Path]:
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise CommandError(f"{folder}: no such file or directory")
    return sorted(folder.glob("*.yaml"))


class Command(BaseCommand):
    help = (
        "Load routing rules and the provider directory (default: seeds/routing, seeds/providers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--routing", default=None, help="file or folder of routing rules")
        parser.add_argument("--providers", default=None, help="file or folder of providers")

    def handle(self, *args, **options):
        base = Path(settings.BASE_DIR) / "seeds"
        routing_files = _yaml_files(Path(options["routing"] or base / "routing"))
        provider_files = _yaml_files(Path(options["providers"] or base / "providers"))
        problems: list[str] = []
        definitions, directories = [], []
        for path in routing_files:
            try:
                definitions.append((path, load_routing_file(path)))
            except RoutingFileError as error:
                problems.extend(str(problem) for problem in error.problems)
        for path in provider_files:
            try:
                directories.append(load_directory_file(path))
            except RoutingFileError as error:
                problems.extend(str(problem) for problem in error.problems)
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(f"{len(problems)} problem(s) found; nothing was loaded")
        entries = [entry for directory in directories for entry in directory.providers]
        try:
            with transaction.atomic():
                results = [
                    routing_rule_set_load(definition=definition, source_file=path.name)
                    for path, definition in definitions
                ]
                for index, entry in enumerate(entries, start=1):
                    results.append(service_provider_ensure(entry=entry))
                    if index % 10 == 0 or index == len(entries):
                        self.stdout.write(f"providers: {index}/{len(entries)}")
        except (PublishedRoutingChanged, ValueError, DjangoValidationError) as error:
            raise CommandError(f"{error}; nothing was loaded") from None
        for result in results:
            self.stdout.write(f"{result.action:>15}  {result.name}")
