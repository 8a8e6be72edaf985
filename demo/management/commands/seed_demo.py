"""Load fictional demo agencies and one demo user per role (local mode only)."""

import secrets
from pathlib import Path

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from screening import services

DEFAULT_PATH = Path(settings.BASE_DIR) / "seeds" / "demo" / "directory.yaml"


class Command(BaseCommand):
    help = "Create demo agencies and users (idempotent). Prints the generated password once."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=DEFAULT_PATH)

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
