"""The web case page in process, for finding where its time goes: the case and the users
`bench/lists_bench.py` picks (the largest agency's case with most screenings visible to its
median worker; a supervisor and that worker), each request timed by the clock and by this
process's CPU, its queries counted, and optionally a cProfile of the requests.

    .venv/bin/python bench/case_page_profile.py --database h_copy_of_load10k \\
        --requests 100 [--profile 50] [--queries]

Requests write what any request writes (access log rows, sessions): run it on a copy of a
load database, never on one others measure.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lists_bench import DEFAULT_SERVER, child_env  # noqa: E402
from bench.report import p50, p95  # noqa: E402


def _users_and_case() -> tuple[str, list[tuple[str, object]]]:
    """The case page and the two people the list benchmark measures it with (its own choice,
    `bench.lists_bench._users_and_lists`): the page's path and (who, user) pairs."""
    from bench.lists_bench import _users_and_lists

    counts, plan = _users_and_lists()
    chosen = [(spec, who, user) for spec, who, _, user in plan if spec.name.startswith("web case")]
    if not chosen:
        raise SystemExit("This database has no case page the list benchmark would measure.")
    print(f"case with {counts['case page screenings']} screenings", flush=True)
    path = chosen[0][0].path(chosen[0][2])
    return path, [(who.split(",")[0], user) for _, who, user in chosen]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--server", default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--profile", type=int, default=0, help="cProfile this many requests")
    parser.add_argument("--queries", action="store_true", help="print each request's queries")
    parser.add_argument("--label", default="")
    parser.add_argument("--reference", help="another case of the same agency (e.g. an open one)")
    parser.add_argument("--dump", help="write the profile's stats to this file")
    parser.add_argument("--html", help="write each user's page to <this>.<user>.html")
    options = parser.parse_args()
    os.environ.update(
        child_env(database_url=f"{options.server}/{options.database}", redis_url=options.redis_url)
    )
    os.chdir(ROOT)

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tests.auth import sign_in

    path, users = _users_and_case()
    url = f"/cases/{options.reference}/" if options.reference else path
    clients = []
    for who, user in users:
        client = Client()
        sign_in(client, user)
        clients.append((who, client))

    def get(client):
        response = client.get(url, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        return response

    for who, client in clients:
        for _ in range(options.warmup):
            get(client)
        with CaptureQueriesContext(connection) as captured:
            response = get(client)
        if options.html:
            Path(f"{options.html}.{who}.html").write_bytes(response.content)
        print(f"{options.label} {who}: {len(captured.captured_queries)} queries", flush=True)
        if options.queries:
            for query in captured.captured_queries:
                print(f"  [{query['time']}] {query['sql'][:400]}")

    times = {who: {"wall": [], "cpu": []} for who, _ in clients}
    for _ in range(options.requests):
        for who, client in clients:
            cpu, started = time.process_time(), time.perf_counter()
            get(client)
            times[who]["wall"].append((time.perf_counter() - started) * 1000)
            times[who]["cpu"].append((time.process_time() - cpu) * 1000)
    for who, values in times.items() if options.requests else ():
        print(
            f"{options.label} {who}: wall p50 {p50(values['wall']):.1f} ms "
            f"p95 {p95(values['wall']):.1f} ms, cpu p50 {p50(values['cpu']):.1f} ms "
            f"(n={len(values['wall'])}, load {os.getloadavg()[0]:.2f})",
            flush=True,
        )

    if options.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(options.profile):
            for _, client in clients:
                get(client)
        profiler.disable()
        if options.dump:
            profiler.dump_stats(options.dump)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("cumulative").print_stats(70)
        stats.sort_stats("tottime").print_stats(40)
        print(out.getvalue())


if __name__ == "__main__":
    main()
