import json

from django.core.management.base import BaseCommand, CommandError

from indicators.engine import diff_definitions, format_diff
from indicators.selectors import (
    InstrumentVersionNotFound,
    instrument_definition,
    instrument_version_get,
)


class Command(BaseCommand):
    help = "Show what changed between two versions of an instrument: items, rules, outcomes."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("old", type=int)
        parser.add_argument("new", type=int)
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, **options):
        try:
            old, new = (
                instrument_version_get(slug=options["slug"], number=n, published_only=False)
                for n in (options["old"], options["new"])
            )
        except InstrumentVersionNotFound as error:
            raise CommandError(str(error)) from None
        diff = diff_definitions(instrument_definition(old), instrument_definition(new))
        if options["json"]:
            self.stdout.write(json.dumps(diff, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(format_diff(diff))
