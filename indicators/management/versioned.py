from django.core.management.base import BaseCommand


class VersionedInstrumentCommand(BaseCommand):
    """Lets `--version N` mean the instrument version, as the documented interface says.

    Django gives every command a `--version` flag printing Django's own version; "resolve"
    lets this command's definition replace it.
    """

    def create_parser(self, prog_name, subcommand, **kwargs):
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)
