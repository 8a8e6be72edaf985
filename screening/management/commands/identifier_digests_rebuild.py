"""Recompute the identifier digests behind duplicate detection (docs/duplicates.md)."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from screening.models import Case, Contact
from screening.services.identifiers import identifier_digests_rebuild


class Command(BaseCommand):
    help = (
        "Recompute every case's and contact's identifier digests (phone, document number, "
        "name) from their encrypted values. Run it after changing BLIND_INDEX_KEY: digests "
        "made with the old key match nothing. Safe to rerun after an interruption."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="rows per transaction (default 500)"
        )

    def handle(self, *args, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        total = Case.objects.count() + Contact.objects.count()
        # tqdm writes carriage returns: give it the stream itself, not Django's wrapper.
        with tqdm(total=total, desc="records", unit="row", file=self.stderr._out) as bar:
            reports = identifier_digests_rebuild(batch_size=batch_size, on_batch=bar.update)
        for report in reports:
            for failure in report.failures:
                self.stderr.write(str(failure))
            kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(report.digests.items()))
            self.stdout.write(
                f"{report.table}: {report.records} record(s), digests {kinds or '-'}, "
                f"{len(report.failures)} failed"
            )
        failed = sum(len(report.failures) for report in reports)
        if failed:
            raise CommandError(
                f"{failed} record(s) did not decrypt and kept their old digests (listed above "
                "by table, column and row)."
            )
