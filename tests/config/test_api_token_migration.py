"""Moving the API token model from screening to core (core 0006, screening 0010) keeps every
token: one made before the move signs in after it, and the access log still points at it."""

import hashlib
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from config.models import AccessLogEntry, ApiToken
from config.tokens import api_token_authenticate

BEFORE = [
    ("core", "0005_access_log_break_glass_outcome"),
    ("screening", "0009_merge_20261201_2319"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_a_token_made_before_the_move_still_signs_in_after_it():
    try:
        old = _migrate(BEFORE)
        OldUser = old.get_model("screening", "User")  # noqa: N806
        OldApiToken = old.get_model("screening", "ApiToken")  # noqa: N806
        OldAccessLogEntry = old.get_model("core", "AccessLogEntry")  # noqa: N806
        user = OldUser.objects.create(username="migration.officer", is_active=True)
        secret = "a-secret-made-before-the-move"
        old_token = OldApiToken.objects.create(
            user=user,
            name="contact centre",
            prefix="0123456789ab",
            secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
            expires_at=timezone.now() + timedelta(days=30),
        )
        entry = OldAccessLogEntry.objects.create(
            user=user,
            api_token=old_token,
            method="GET",
            route="api:case-list",
            status_code=200,
            outcome="allowed",
        )

        _migrate(_latest())

        token = api_token_authenticate(f"0123456789ab.{secret}")
        assert token is not None and token.pk == old_token.pk
        assert token.user.username == "migration.officer"
        assert api_token_authenticate("0123456789ab.a-wrong-secret") is None
        assert ApiToken.objects.get().name == "contact centre"
        assert AccessLogEntry.objects.get(pk=entry.pk).api_token == ApiToken.objects.get()
    finally:
        _migrate(_latest())
