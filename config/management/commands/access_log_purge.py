"""Delete access log entries older than the retention period."""

from django.conf import settings
from django.core.management.base import BaseCommand

from config.access_log import access_log_purge


class Command(BaseCommand):
    help = (
        "Delete access log entries older than ACCESS_LOG_RETENTION_DAYS. Celery beat runs it "
        "daily; run it by hand after lowering the retention."
    )

    def handle(self, *args, **options):
        deleted = access_log_purge()
        self.stdout.write(
            f"deleted {deleted} access log entr{'y' if deleted == 1 else 'ies'} older than "
            f"{settings.ACCESS_LOG_RETENTION_DAYS} days"
        )
