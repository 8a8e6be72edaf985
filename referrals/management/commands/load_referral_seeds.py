"""Validate and load routing rule versions (seeds/routing/) and the provider directory
(seeds/providers/). All-or-nothing; every problem is reported with file, rule/provider, field.

A provider its agency changed in the product since the last load is left as it is and
reported as skipped; `--overwrite-product-edits` replaces such changes with the file's entry
(each replacement recorded in the provider's change history). docs/provider-directory.md."""

from collections import Counter
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from referrals.directory import load_directory_file
from referrals.routing import RoutingFileError, load_routing_file
from referrals.services.seeds import (
    SKIPPED_PRODUCT_EDIT,
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
        parser.add_argument(
            "--overwrite-product-edits",
            action="store_true",
            help="replace providers changed in the product since the last load with the file's "
            "entries (default: leave them and report them as skipped)",
        )

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
                provider_results = []
                for index, entry in enumerate(entries, start=1):
                    provider_results.append(
                        service_provider_ensure(
                            entry=entry,
                            overwrite_product_edits=options["overwrite_product_edits"],
                        )
                    )
                    if index % 10 == 0 or index == len(entries):
                        self.stdout.write(f"providers: {index}/{len(entries)}")
        except (PublishedRoutingChanged, ValueError, DjangoValidationError) as error:
            raise CommandError(f"{error}; nothing was loaded") from None
        for result in [*results, *provider_results]:
            self.stdout.write(f"{result.action:>15}  {result.name}")
        counts = Counter(result.action for result in provider_results)
        summary = ", ".join(f"{count} {action}" for action, count in sorted(counts.items()))
        self.stdout.write(f"providers: {summary or 'none'}")
        if counts[SKIPPED_PRODUCT_EDIT]:
            self.stdout.write(
                f"{counts[SKIPPED_PRODUCT_EDIT]} provider(s) changed in the product were left as "
                "they are; --overwrite-product-edits replaces them with the file's entries"
            )
