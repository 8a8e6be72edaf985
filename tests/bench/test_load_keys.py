"""`make bench` tells a load database sealed with other field keys from one it can read
(bench/run_all.py `_opens_with_keys`), so that a new machine or a deleted var/ regenerates the
data instead of failing halfway through the lists. It asks a real `manage.py` process, on the
test database, with the keys in its environment."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from bench.run_all import _opens_with_keys
from config.crypto import new_key_text
from tests.factories import CaseFactory


def _server() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT'] or 5432}"


@pytest.mark.django_db(transaction=True)
def test_a_load_database_sealed_with_other_keys_is_told_apart(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: the load databases live on a PostgreSQL server")
    CaseFactory(identifying_name="Fictional Person Orla Venn")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "config.settings.local")
    monkeypatch.setenv("FIELD_ENCRYPTION_ACTIVE_KEY", settings.FIELD_ENCRYPTION_ACTIVE_KEY)
    monkeypatch.setenv("BLIND_INDEX_KEY", settings.BLIND_INDEX_KEY)
    name = connection.settings_dict["NAME"]

    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", settings.FIELD_ENCRYPTION_KEYS)
    assert _opens_with_keys(_server(), name)

    other = f"{settings.FIELD_ENCRYPTION_ACTIVE_KEY}:{new_key_text()}"
    monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", other)
    assert not _opens_with_keys(_server(), name)
