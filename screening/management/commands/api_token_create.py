"""Create a personal API token for an integration and print it once."""

from django.core.management.base import BaseCommand, CommandError

from config.errors import ValidationError
from config.tokens import MAX_TOKEN_DAYS, api_token_create
from screening.models import User


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME. The token is printed once and cannot be shown "
        "again (only its hash is stored): copy it into the integration's secret store."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="Which system will use the token.")
        parser.add_argument(
            "--days", type=int, default=90, help=f"Days until it expires (1-{MAX_TOKEN_DAYS})."
        )

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"no user named {options['username']!r}")
        try:
            created = api_token_create(user=user, name=options["name"], days=options["days"])
        except ValidationError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(
            f"Token {created.token.prefix} ({created.token.name}) for {user.username}, "
            f"expires {created.token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown only now:"
        )
        self.stdout.write(created.plaintext)
