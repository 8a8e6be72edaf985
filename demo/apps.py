from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The embedded demo (local and test profiles only, never production): fictional seed
    data, the one-command launcher and the stand-ins for the outside world (a mailbox and a
    signed webhook receiver). Sits on top of every other app."""

    name = "demo"
    verbose_name = "Demo"
