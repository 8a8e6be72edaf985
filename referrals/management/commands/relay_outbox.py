"""Publish outbox rows to Celery: once, or in a loop (an alternative to the beat task)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand

from referrals.services import outbox_relay


class Command(BaseCommand):
    help = "Publish due outbox rows to the broker; --loop keeps doing it every --interval s."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true")
        parser.add_argument("--interval", type=float, default=None)
        parser.add_argument("--max-runs", type=int, default=None, help="stop after N runs")

    def handle(self, *args, **options):
        interval = options["interval"] or float(settings.REFERRAL_RELAY_INTERVAL_SECONDS)
        runs = 0
        while True:
            report = outbox_relay()
            runs += 1
            if report.claimed or not options["loop"]:
                self.stdout.write(
                    f"claimed {report.claimed}, published {report.published}, "
                    f"left for later {report.failed}"
                )
            if not options["loop"] or (options["max_runs"] and runs >= options["max_runs"]):
                return
            # A full batch means more is waiting: go again at once.
            if report.claimed < settings.REFERRAL_RELAY_BATCH_SIZE or report.failed:
                time.sleep(interval)
