from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from referrals import (
            checks,  # noqa: F401 - registers the system checks
            tasks,  # noqa: F401 - the subscribers below, known to every process
        )
        from referrals.events import subscribe

        # Screening's events (submitted, overridden, consent recorded and withdrawn) and our
        # own delivery work reach referrals' tasks through the outbox (config/outbox.py).
        subscribe()
