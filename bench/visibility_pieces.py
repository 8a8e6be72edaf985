"""What the visibility rule's id sets cost to build and compile, in process: the rule's three
pieces (the user's grants, the shares to their agency, their break-glass grants) given to
`IdsIn` as querysets (`granted_case_ids`, `_shared_ids`, `_break_glass_ids`) against the
same pieces as SQL (`SqlPiece`, what `screening.querysets` uses), each against a bare filter
on the agency (what any case query costs to compile), interleaved in rounds. Nothing is run
against the database but the choice of the user: the median worker that the list benchmark
measures (`bench.lists_bench._users_and_lists`).

    .venv/bin/python bench/visibility_pieces.py --database load10k [--rounds 15 --calls 300]

`SqlPiece` is a shortcut around the ORM, and stays only while this shows it is needed;
tests/screening/test_visible_lists.py pins each piece to its queryset's rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lists_bench import DEFAULT_SERVER, child_env  # noqa: E402
from bench.report import p50  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="load10k")
    parser.add_argument("--server", default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER))
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=300, help="compiles per way per round")
    options = parser.parse_args()
    os.environ.update(
        child_env(
            database_url=f"{options.server}/{options.database}",
            redis_url=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        )
    )
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Q

    from bench.lists_bench import _users_and_lists
    from config.keyset import IdsIn
    from screening import querysets
    from screening.models import Case

    _, plan = _users_and_lists()
    user = next(
        user for spec, _, kind, user in plan if spec.name == "API cases" and kind == "narrow"
    )

    def compiled(condition: Q):
        return Case.objects.filter(condition).query.get_compiler(connection=connection).as_sql()

    def with_pieces(*pieces):
        return compiled(Q(IdsIn(list(pieces), union_all=False)))

    def as_querysets():
        return with_pieces(
            querysets.granted_case_ids(user, "view_case"),
            querysets._shared_ids(user),
            querysets._break_glass_ids(user),
        )

    def as_sql():
        return with_pieces(
            querysets._granted_ids_sql(user, "view_case"),
            querysets._shared_ids_sql(user),
            querysets._break_glass_ids_sql(user),
        )

    def bare():
        return compiled(Q(agency_id=user.agency_id))

    # The same statement both ways (aliases aside), or the comparison means nothing.
    strip = lambda sql: sql.replace(' AS "content_object_id"', "").replace(' AS "case_id"', "")  # noqa: E731
    assert strip(as_querysets()[0]) == as_sql()[0], "the two ways render different SQL"
    ways = {"querysets": as_querysets, "SqlPiece": as_sql, "bare filter": bare}
    times: dict[str, list[float]] = {name: [] for name in ways}
    load_before = os.getloadavg()
    for round_ in range(options.rounds):
        names = list(ways)
        names = names[round_ % 3 :] + names[: round_ % 3]  # rotate who goes first
        for name in names:
            started = time.perf_counter()
            for _ in range(options.calls):
                ways[name]()
            times[name].append((time.perf_counter() - started) / options.calls * 1000)
        print(f"round {round_ + 1}/{options.rounds}", file=sys.stderr, flush=True)
    bare_ms = p50(times["bare filter"])
    print(f"database {options.database}, user {user.pk}; {options.rounds} rounds × {options.calls}")
    print("| way | build + compile, median (ms) | over the bare filter (ms) |")
    print("|---|---:|---:|")
    for name, values in times.items():
        print(f"| {name} | {p50(values):.3f} | {p50(values) - bare_ms:.3f} |")
    print(f"load average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
