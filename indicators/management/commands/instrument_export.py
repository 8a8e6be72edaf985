import json

from django.core.management.base import CommandError

from indicators.exporting import version_document
from indicators.management.versioned import VersionedInstrumentCommand
from indicators.selectors import (
    InstrumentVersionNotFound,
    instrument_definition,
    instrument_version_get,
)


class Command(VersionedInstrumentCommand):
    help = "Print an instrument version as JSON (default: its newest published version)."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--version", type=int, dest="number", default=None)

    def handle(self, *args, **options):
        try:
            version = instrument_version_get(
                slug=options["slug"], number=options["number"], published_only=False
            )
        except InstrumentVersionNotFound as error:
            raise CommandError(str(error)) from None
        document = version_document(version, instrument_definition(version))
        self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
