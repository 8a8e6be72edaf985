"""PostgreSQL connections bind parameters on the server and prepare the statements they run
often (config/env.py `_postgres_binding`, docs/benchmarks.md "Prepared statements"): the
rows written on every API request are parsed once per connection, and each run is still
planned for its own values."""

import pytest
from django.db import connection

from config.db import insert_row
from config.models import AccessLogEntry
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
    ),
]


def _prepared(fragment: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s",
            [f"%{fragment}%"],
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_run_often_is_prepared_once_and_still_takes_its_values():
    person = UserFactory()
    table = AccessLogEntry._meta.db_table
    for number in range(7):
        insert_row(
            AccessLogEntry,
            user=person,
            method="POST",
            route=f"route-{number}",
            status_code=201,
            outcome="allowed",
        )
    prepared = _prepared(f'INSERT INTO "{table}"')
    # One statement, with placeholders: the values went separately.
    assert len(prepared) == 1 and "$1" in prepared[0] and "route-" not in prepared[0]
    routes = AccessLogEntry.objects.filter(user=person).values_list("route", flat=True)
    assert sorted(routes) == [f"route-{number}" for number in range(7)]


def test_an_orm_query_is_bound_on_the_server():
    person = UserFactory(username="binding-probe")
    for _ in range(6):
        assert list(type(person).objects.filter(username="binding-probe")) == [person]
    prepared = _prepared('"username" = $1')
    assert prepared, "the lookup was never prepared"
    assert all("binding-probe" not in statement for statement in prepared)


def test_a_prepared_statement_is_still_planned_for_its_own_values():
    """A generic plan, made once for any value, can suit a small agency and fail a large one:
    every run is planned for its values (plan_cache_mode)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"
