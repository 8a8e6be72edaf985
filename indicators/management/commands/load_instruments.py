"""Validate and load instrument files; idempotent, all-or-nothing, every problem reported."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from indicators.engine import InstrumentFileError, load_instrument_file
from indicators.services import PublishedVersionChanged, instrument_version_load


def _expand(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(path.glob("*.yaml")))
        elif path.is_file():
            files.append(path)
        else:
            raise CommandError(f"{path}: no such file or directory")
    return files


class Command(BaseCommand):
    help = "Load instrument versions from YAML files (default: seeds/instruments/)."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="*", help="files or folders of *.yaml")

    def handle(self, *args, **options):
        default = Path(settings.BASE_DIR) / "seeds" / "instruments"
        files = _expand(options["paths"] or [str(default)])
        if not files:
            raise CommandError("no instrument files found")

        definitions = []
        problems: list[str] = []
        for index, path in enumerate(files, start=1):
            self.stdout.write(f"[{index}/{len(files)}] validating {path.name}")
            try:
                definitions.append((path, load_instrument_file(path)))
            except InstrumentFileError as error:
                problems.extend(str(problem) for problem in error.problems)
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(f"{len(problems)} problem(s) found; nothing was loaded")

        try:
            with transaction.atomic():
                results = [
                    instrument_version_load(definition=definition, source_file=_relative(path))
                    for path, definition in definitions
                ]
        except PublishedVersionChanged as error:
            raise CommandError(f"{error}; nothing was loaded") from None
        for result in results:
            self.stdout.write(
                f"{result.action:>15}  {result.slug} v{result.number} ({result.items} items)"
            )


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return path.name
