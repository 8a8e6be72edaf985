"""Delete expired Idempotency-Key records: their stored responses may hold case data."""

from django.core.management.base import BaseCommand

from config.api.idempotency import idempotency_record_purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than IDEMPOTENCY_KEY_TTL_HOURS. Run daily."

    def handle(self, *args, **options):
        deleted = idempotency_record_purge()
        self.stdout.write(f"deleted {deleted} expired idempotency record(s)")
