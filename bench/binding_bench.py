"""Parameters quoted into the SQL on the client (Django's default) against parameters bound by
the server with often-run statements prepared (config/env.py `_postgres_binding`), for
`POST /api/v1/contacts/` and its floor (bench/views.py), in one process on PostgreSQL.

Each round logs the same crisis contact through Django's test client (no sockets, no
server) N times per target under each way of binding, the order turned round every round; a
new database connection is opened for each binding (the setting is read when a connection
opens) and warmed, so its statements are prepared before the count starts. Two figures per
request, the median of the rounds: this process's CPU (Python, psycopg, libpq) and the CPU of
the PostgreSQL backend serving its connection (/proc), which parses, plans and runs every
statement.

    .venv/bin/python bench/binding_bench.py --rounds 6 --requests 300

Needs a PostgreSQL role that may create databases (--admin-url) and Redis (--redis-url);
the database is created and dropped here. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.contacts_bench import BODY, in_process_database  # noqa: E402

BINDINGS = {
    "client-side, nothing prepared (Django's default)": {
        "server_side_binding": False,
        "prepare_threshold": None,
        "options": "-c jit=off",
    },
    "server-side, prepared from the 6th run, generic plans allowed": {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c jit=off -c plan_cache_mode=auto",
    },
    "server-side, prepared from the 6th run, planned each time (this project's)": {
        "server_side_binding": True,
        "prepare_threshold": 5,
        "options": "-c jit=off -c plan_cache_mode=force_custom_plan",
    },
}
TARGETS = {"API": "/api/v1/contacts/", "floor": "/bench/floor/contacts/"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=300, help="per target per round")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "BENCH_ADMIN_URL", "postgres://ci:ci-password-loopback-only@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    with in_process_database(
        admin_url=args.admin_url, redis_url=args.redis_url, prefix="ht_binding"
    ) as token:
        report(args, measure(args, token))


def _backend_cpu(pid: int) -> float:
    """User + system CPU seconds of one PostgreSQL backend process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(args, token: str) -> dict[tuple[str, str], list[tuple[float, float]]]:
    import json

    import django

    django.setup()
    from django.db import connection, connections
    from django.test import Client

    client = Client()
    body = json.dumps(BODY)
    numbers = iter(range(10**9))
    options = dict(connection.settings_dict.get("OPTIONS", {}))

    def post(path: str, requests: int) -> None:
        for _ in range(requests):
            response = client.post(
                path,
                body,
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {token}",
                HTTP_IDEMPOTENCY_KEY=f"binding-{next(numbers)}",
            )
            if response.status_code != 201:
                raise SystemExit(f"{path}: {response.status_code} {response.content[:300]!r}")

    def connect(binding: str) -> int:
        connections.close_all()
        connection.settings_dict["OPTIONS"] = {**options, **BINDINGS[binding]}
        for path in TARGETS.values():  # warm: connect, then prepare what runs often
            post(path, 30)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    results: dict[tuple[str, str], list[tuple[float, float]]] = {
        (binding, target): [] for binding in BINDINGS for target in TARGETS
    }
    for round_number in range(args.rounds):
        bindings = list(BINDINGS) if round_number % 2 == 0 else list(BINDINGS)[::-1]
        for binding in bindings:
            backend = connect(binding)
            targets = list(TARGETS) if round_number % 2 == 0 else list(TARGETS)[::-1]
            for target in targets:
                started, backend_started = time.process_time(), _backend_cpu(backend)
                post(TARGETS[target], args.requests)
                results[(binding, target)].append(
                    (
                        (time.process_time() - started) / args.requests,
                        (_backend_cpu(backend) - backend_started) / args.requests,
                    )
                )
        print(f"round {round_number + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    return results


def report(args, results: dict[tuple[str, str], list[tuple[float, float]]]) -> None:
    print(
        f"\n{args.rounds} rounds x {args.requests} requests per target and binding, "
        f"interleaved; CPU per request in ms, median of the rounds; load average "
        f"{os.getloadavg()[0]:.2f} at the end.\n"
    )
    print("| target | binding | this process (ms) | PostgreSQL backend (ms) | both (ms) |")
    print("|---|---|---:|---:|---:|")
    both: dict[tuple[str, str], float] = {}
    for target in TARGETS:
        for binding in BINDINGS:
            rounds = results[(binding, target)]
            python = statistics.median(cpu for cpu, _ in rounds) * 1000
            backend = statistics.median(cpu for _, cpu in rounds) * 1000
            both[(binding, target)] = statistics.median(a + b for a, b in rounds) * 1000
            print(
                f"| {target} | {binding} | {python:.2f} | {backend:.2f} "
                f"| {both[(binding, target)]:.2f} |"
            )
    client, *servers = BINDINGS
    for target in TARGETS:
        for server in servers:
            ratio = both[(server, target)] / both[(client, target)]
            print(f"\n{target}, {server} / client-side, CPU per request: {ratio:.2f}")


if __name__ == "__main__":
    main()
