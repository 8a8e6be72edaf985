"""Revoke one of a user's API tokens at once."""

from django.core.management.base import BaseCommand, CommandError

from config.tokens import ApiTokenNotFound, api_token_revoke
from screening.models import User


class Command(BaseCommand):
    help = "Revoke USERNAME's API token PREFIX (the part before the dot). Takes effect at once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("prefix")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        try:
            token = api_token_revoke(user=user, prefix=options["prefix"])
        except ApiTokenNotFound:
            raise CommandError(f"{user.username} has no token {options['prefix']!r}") from None
        self.stdout.write(
            f"revoked {token.prefix} ({token.name}) at {token.revoked_at:%Y-%m-%d %H:%M} UTC"
        )
