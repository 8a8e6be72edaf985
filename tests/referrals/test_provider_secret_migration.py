"""referrals 0006 seals the webhook secrets already stored, fingerprints them first, and gives
them back as plain text when migrated backwards: a delivery signs with the same secret
before and after."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from referrals.models import ServiceProvider
from referrals.signing import secret_fingerprint

BEFORE = [("referrals", "0005_referral_outcome_escalation")]
SEALING = [("referrals", "0006_provider_directory_in_product")]
SECRET = "plain-secret-stored-before-0006"


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _stored(slug: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT webhook_secret FROM referrals_serviceprovider WHERE slug = %s", [slug]
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_existing_secrets_are_sealed_and_come_back_plain_backwards():
    try:
        old = _migrate(BEFORE).get_model("referrals", "ServiceProvider")
        old.objects.create(
            slug="old-hook",
            name="Old Hook",
            service_types=["shelter"],
            regions=["national"],
            channel="webhook",
            webhook_url="http://127.0.0.1:9/old",
            webhook_secret=SECRET,
        )
        _migrate(SEALING)
        stored = _stored("old-hook")
        assert stored.startswith("$e1$") and SECRET not in stored
        _migrate(_latest())
        provider = ServiceProvider.objects.get(slug="old-hook")
        assert provider.webhook_secret == SECRET
        assert provider.webhook_secret_fingerprint == secret_fingerprint(SECRET)
        _migrate(BEFORE)
        assert _stored("old-hook") == SECRET
    finally:
        _migrate(_latest())
