"""Serve the embedded demo's webhook receiver (demo/receiver.py); run_demo starts it."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from demo.receiver import receiver_serve


class Command(BaseCommand):
    help = "Serve the demo webhook receiver on 127.0.0.1 (local mode only)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None)

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_SEEDS_ALLOWED", False):
            raise CommandError("the demo receiver is for local mode only")
        try:
            receiver_serve(port=options["port"])
        except OSError as error:
            raise CommandError(
                f"cannot listen on port {options['port'] or settings.DEMO_RECEIVER_PORT} "
                f"({error.strerror}); set DEMO_RECEIVER_PORT and the demo providers' URLs"
            ) from None
        except KeyboardInterrupt:
            pass
