"""Generate fictional load data for benchmarks (issue 12). See referrals/loadgen/."""

from __future__ import annotations

import secrets
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from tqdm import tqdm

from referrals.loadgen import LoadGenerator, LoadPlan
from referrals.loadgen.build import sample_accounts
from screening.models import Case, Contact


class Command(BaseCommand):
    help = (
        "Fill the database with fictional, reproducible load data: N cases with their staff, "
        "grants, shares, consents, screenings (real engine results), referrals, contacts and "
        "access-log entries. Defaults scale with N: at 100,000 cases 50 agencies and 2,000 "
        "staff; agencies grow with the square root of N, staff in proportion to N. Local and "
        "test profiles only; refuses a database that holds cases unless --append."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, required=True, help="how many cases")
        parser.add_argument(
            "--agencies", type=int, default=None, help="default: 50 x sqrt(cases / 100,000)"
        )
        parser.add_argument(
            "--staff", type=int, default=None, help="default: 2,000 x cases / 100,000"
        )
        parser.add_argument("--seed", type=int, default=12, help="same seed, same data")
        parser.add_argument(
            "--append",
            action="store_true",
            help="add a further batch (new agencies and staff) to a database that holds cases",
        )
        parser.add_argument(
            "--password",
            default=None,
            help="password of every generated account (default: a random one, printed once)",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes making rows (default 1); the same data either way. Two help only on "
            "an otherwise idle machine: they cost about three quarters more CPU in all",
        )
        parser.add_argument(
            "--chunk", type=int, default=20_000, help="cases made and written together"
        )
        parser.add_argument("--no-analyze", action="store_true", help="skip ANALYZE at the end")

    def handle(self, *args, **options):
        # Never beside real victims' data: the production profile turns demo data off.
        if not getattr(settings, "DEMO_SEEDS_ALLOWED", False):
            raise CommandError(
                "load data is for the local and test profiles only (DEMO_SEEDS_ALLOWED is off)"
            )
        try:
            plan = LoadPlan.sized(
                cases=options["cases"],
                agencies=options["agencies"],
                staff=options["staff"],
                seed=options["seed"],
                chunk=options["chunk"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        if not options["append"] and (Case.objects.exists() or Contact.objects.exists()):
            raise CommandError(
                "the database already holds cases or contacts: generated data would mix with "
                "them. Use an empty database, or --append to add a further batch on purpose."
            )
        password = options["password"] or secrets.token_urlsafe(12)
        started = time.monotonic()
        bars: list[tqdm] = []

        def progress(table: str, total: int | None) -> tqdm:
            bar = tqdm(
                total=total,
                desc=f"{table:<36}",
                unit=" rows",
                file=sys.stderr,
                position=len(bars),
                leave=True,
                dynamic_ncols=True,
                mininterval=0.5,
                disable=options["verbosity"] < 1,
            )
            bars.append(bar)
            return bar

        generator = LoadGenerator(
            plan, password=password, progress=progress, workers=options["workers"] or 1
        )
        with transaction.atomic():
            _session_settings()
            counts = generator.run()
        written = time.monotonic() - started
        if connection.vendor == "postgresql" and not options["no_analyze"]:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        elapsed = time.monotonic() - started

        self.stdout.write(
            f"Generated {plan.cases:,} cases across {plan.agencies:,} agencies and "
            f"{plan.staff:,} staff (seed {plan.seed}) in {written:.0f} s "
            f"({elapsed:.0f} s with ANALYZE); {counts.scorings:,} engine scorings."
        )
        for table, count in sorted(counts.tables.items()):
            line = f"  {table:<40} {count:>12,}"
            if options["verbosity"] > 1:
                line += f"  {counts.write_seconds.get(table, 0):8.1f} s writing"
            self.stdout.write(line)
        for line in sample_accounts():
            self.stdout.write(line)
        if options["password"]:
            self.stdout.write("Every generated account has the password given.")
        else:
            self.stdout.write(f"Password of every generated account (shown once): {password}")


def _session_settings() -> None:
    """PostgreSQL, this transaction only: lz4 for the large JSON results (much cheaper to
    compress than pglz, where the server has it), memory to build the indexes in, and no
    wait for the WAL flush."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        # Indexes are built once at the end (referrals/loadgen/writers.py DeferredIndexes).
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL default_toast_compression = 'lz4'")
