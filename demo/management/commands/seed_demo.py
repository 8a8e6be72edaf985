"""Load the fictional demo (local mode only): the demo agencies and one demo user per role,
the routing rules and provider directory (load_referral_seeds), then about 30 demo cases
(demo/seeding.py). Idempotent: a second run changes nothing and says so."""

import secrets
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo.seeding import demo_cases_seed
from indicators.models import InstrumentVersion
from screening import services

DEFAULT_PATH = Path(settings.BASE_DIR) / "seeds" / "demo" / "directory.yaml"


class Command(BaseCommand):
    help = (
        "Create the demo agencies, users, provider directory and cases (idempotent; local "
        "mode only). Prints the generated password once. Run load_instruments first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DEFAULT_PATH)
        parser.add_argument(
            "--no-cases", action="store_true", help="agencies and users only (no directory, cases)"
        )

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_SEEDS_ALLOWED", False):
            raise CommandError("demo seeds are for local mode only (DEMO_SEEDS_ALLOWED is off)")
        path: Path = options["file"]
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise CommandError(f"{path}: {error}") from None
        if not isinstance(data, dict):
            raise CommandError(f"{path}: expected a mapping with 'agencies' and 'users'")

        password = secrets.token_urlsafe(12)
        created_users: list[str] = []
        with transaction.atomic():
            for index, agency in enumerate(data.get("agencies", [])):
                try:
                    services.agency_ensure(
                        name=agency["name"], kind=agency["kind"], region=agency.get("region", "")
                    )
                except (KeyError, ValueError) as error:
                    raise CommandError(f"{path}: agencies[{index}]: {error}") from None
            for index, user in enumerate(data.get("users", [])):
                try:
                    result = services.staff_ensure(
                        username=user["username"],
                        agency_name=user["agency"],
                        role=user["role"],
                        password=password,
                        first_name=user.get("first_name", ""),
                        last_name=user.get("last_name", ""),
                    )
                except (KeyError, ValueError) as error:
                    raise CommandError(f"{path}: users[{index}]: {error}") from None
                if result.created:
                    created_users.append(result.name)

        if created_users:
            self.stdout.write("Demo users created (fictional people, local mode only):")
            for username in created_users:
                self.stdout.write(f"  {username}")
            self.stdout.write(f"Password for all of them (shown once): {password}")
        else:
            self.stdout.write(
                "Demo users already exist; their password was printed when they were created "
                "(reset one with: manage.py changepassword USERNAME)."
            )
        if options["no_cases"]:
            return
        if not InstrumentVersion.objects.exists():
            raise CommandError("no instruments loaded: run manage.py load_instruments first")
        self.stdout.write("Routing rules and provider directory (load_referral_seeds):")
        call_command("load_referral_seeds", stdout=self.stdout, stderr=self.stderr)
        report = demo_cases_seed(
            agency_names=[agency["name"] for agency in data.get("agencies", [])],
            progress=self.stdout.write,
        )
        if report.already_seeded:
            self.stdout.write("Demo cases already exist; nothing changed.")
            return
        for line in report.skipped:
            self.stdout.write(f"Note: {line}")
        statuses = ", ".join(f"{status} {n}" for status, n in sorted(report.referrals.items()))
        self.stdout.write(
            f"Demo cases created: {report.cases} cases, {report.screenings} screenings, "
            f"{report.contacts} hotline contacts, {report.notes} notes, {report.tasks} tasks; "
            f"referrals: {statuses}"
        )
