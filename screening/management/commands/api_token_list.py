"""List a user's API tokens: prefix, name, created, expires, last used, revoked."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from config.tokens import api_token_list
from screening.models import User


def _when(moment) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "-"


class Command(BaseCommand):
    help = "List USERNAME's API tokens (never the secrets: they are not stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        now = timezone.now()
        columns = ("prefix", "name", "created", "expires", "last used", "state")
        self.stdout.write("{:<13} {:<20} {:<17} {:<17} {:<17} {}".format(*columns))
        for token in api_token_list(user=user):
            state = (
                "revoked"
                if token.revoked_at
                else "expired"
                if token.expires_at <= now
                else "active"
            )
            self.stdout.write(
                f"{token.prefix:<13} {token.name[:20]:<20} {_when(token.created_at):<17} "
                f"{_when(token.expires_at):<17} {_when(token.last_used_at):<17} {state}"
            )
