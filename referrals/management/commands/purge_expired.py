"""Delete every record past its retention period (docs/retention.md)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from referrals.services.retention import expired_records_purge


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise CommandError(f"--batch-size must be a whole number of at least 1, not {text!r}")
    return value


class Command(BaseCommand):
    help = (
        "Delete closed cases past RETENTION_CLOSED_CASE_DAYS (with everything that hangs off "
        "them), abandoned draft screenings, contacts without a case, old delivery rows, "
        "access-log entries and Idempotency-Key records past their periods. Cases on legal "
        "hold are kept. Celery beat runs it daily; --dry-run shows what would go."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would go, per table; change nothing"
        )
        parser.add_argument(
            "--batch-size",
            type=str,
            default=None,
            help="rows of one kind per transaction (default RETENTION_PURGE_BATCH_SIZE)",
        )

    def handle(self, *args, **options):
        batch_size = (
            _positive(options["batch_size"])
            if options["batch_size"] is not None
            else settings.RETENTION_PURGE_BATCH_SIZE
        )
        report = expired_records_purge(
            trigger="command",
            dry_run=options["dry_run"],
            batch_size=batch_size,
            # tqdm writes carriage returns: give it the stream itself, not Django's wrapper.
            progress=self.stderr._out,
        )
        verb = "would delete" if report.dry_run else "deleted"
        if not report.deleted:
            self.stdout.write(f"{verb} nothing: no record is past its retention period")
        for table, count in report.deleted.items():
            self.stdout.write(f"{verb} {count:>8}  {table}")
        if report.deleted:
            self.stdout.write(f"{verb} {sum(report.deleted.values()):>8}  rows in all")
        if report.dry_run:
            self.stdout.write("dry run: nothing was changed")
