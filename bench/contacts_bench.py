"""`POST /api/v1/contacts/` behind gunicorn on PostgreSQL, side by side with a minimal
plain-Django view that parses the same JSON and inserts the same row, and a bare JSON view
with no database (issue 6). Loopback only; results as a Markdown table (docs/benchmarks.md).

The API requests carry a real personal API token, go through the role check, validation,
the service and an `Idempotency-Key` (a fresh key per request, as an integration sends).
The "floor" target sends the same requests to bench/views.py's `floor_contact_create`: the
API's own statements and round trips (token, throttle counter, key lookup, contact and record
in one transaction, access-log row) with the least Python around them, a lower bound for
any implementation of the endpoint that does the same work.

Besides latency, each run reports CPU per request (Linux /proc): the gunicorn workers',
PostgreSQL's (all its processes) and the whole machine's (everything, this load generator
included).
Throttling runs but its rate is raised so it never refuses (the limit is a policy, not a
cost). Rounds interleave the three targets; each row of the summary is the median of the
rounds. The script creates its own database and drops it at the end.

    .venv/bin/python bench/contacts_bench.py --rounds 3 --requests 2000 --clients 20

The load generator is this process: `--clients` threads over raw sockets (cheap per
request, so it steals little CPU from the server on the same machine). Needs a PostgreSQL
role that may create databases (--admin-url) and a Redis URL (production settings insist on
a broker; logging a contact never uses it).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import itertools
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from config.crypto import new_key_text  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

BODY = {
    "channel": "phone",
    "contact_type": "crisis",
    "caller_type": "community_member",
    "language": "en",
    "caller_region": "Northshire",
    "immediate_danger": True,
    "minor_involved": False,
    "exploitation_type": "labour",
    "situation_location": "A fictional farm near a fictional town",
    "summary": "Workers locked in at night (fictional benchmark data).",
}
TARGETS = {
    "api": "/api/v1/contacts/",
    "floor": "/bench/floor/contacts/",
    "minimal": "/bench/minimal/contacts/",
    "bare": "/bench/bare/",
}
LABELS = {
    "api": "`POST /api/v1/contacts/` (token, role, validation, service, idempotency)",
    "floor": "floor: the API's statements and round trips, least Python (bench/views.py)",
    "minimal": "minimal Django view: parse JSON, insert the same row",
    "bare": "bare JSON view, no database",
}


def run(command: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def bench_env(*, admin_url: str, database: str, redis_url: str, host: str) -> dict[str, str]:
    """Production settings (bench.settings) on the bench's own database and Redis, served to
    `host`; the throttle's rate raised so it counts every request but never refuses one."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"{admin_url.rsplit('/', 1)[0]}/{database}",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": host,
        "CELERY_BROKER_URL": redis_url,
        "CACHE_URL": redis_url,
        "SECURE_SSL_REDIRECT": "false",
        "API_THROTTLE_RATE": "1000000/s",
        # Throwaway keys for the bench's own database (production settings insist on them).
        "FIELD_ENCRYPTION_KEYS": f"bench1:{new_key_text()}",
        "FIELD_ENCRYPTION_ACTIVE_KEY": "bench1",
        "BLIND_INDEX_KEY": new_key_text(),
    }


def _template_keys() -> dict[str, str]:
    """The field keys a load database was sealed with: the environment's if set, else the
    local profile's key file (as bench/lists_bench.py reads them)."""
    names = ("FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_ACTIVE_KEY", "BLIND_INDEX_KEY")
    if all(os.environ.get(name) for name in names):
        return {name: os.environ[name] for name in names}
    key_file = ROOT / "var" / "field-keys.json"
    if not key_file.exists():
        raise SystemExit(f"--template needs the load data's field keys ({key_file}).")
    return {name: str(value) for name, value in json.loads(key_file.read_text()).items()}


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Migrate, then one hotline agency, one hotline staff member and their API token."""
    run([str(VENV_BIN / "python"), "manage.py", "migrate", "--noinput"], env)
    code = (
        "import json\n"
        "from django.contrib.auth.models import Group\n"
        "from screening import services\n"
        "from screening.models import Agency, User\n"
        "agency = Agency.objects.create(name='Bench Hotline', kind='hotline')\n"
        "user = User.objects.create_user(username='bench.advocate', agency=agency)\n"
        "user.groups.add(Group.objects.get(name='hotline_staff'))\n"
        "token = services.api_token_create(user=user, name='bench', days=1)\n"
        "print(json.dumps({'agency': agency.pk, 'user': user.pk, 'token': token.plaintext}))\n"
    )
    out = run([str(VENV_BIN / "python"), "manage.py", "shell", "-c", code], env)
    made = json.loads(out.strip().splitlines()[-1])
    return {
        "BENCH_AGENCY_ID": str(made["agency"]),
        "BENCH_USER_ID": str(made["user"]),
        "token": made["token"],
    }


@contextlib.contextmanager
def in_process_database(*, admin_url: str, redis_url: str, prefix: str) -> Iterator[str]:
    """A database of its own for a benchmark run in this process (Django's test client):
    created, migrated and given the hotline user (`prepare`), this process's environment set
    to use it; dropped at the end. Yields the user's API token."""
    database = f"{prefix}_{os.getpid()}"
    env = bench_env(admin_url=admin_url, database=database, redis_url=redis_url, host="testserver")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    try:
        made = prepare({**os.environ, **env})
        os.environ.update(env)
        os.environ.update({key: value for key, value in made.items() if key.startswith("BENCH_")})
        yield made["token"]
    finally:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def wait_until_up(base: str, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("gunicorn exited early (see its output above)")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer /healthz in time")


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (Linux /proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def _machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle so far, over all cores (Linux /proc)."""
    try:
        ticks = [int(value) for value in Path("/proc/stat").read_text().split()[1:9]]
    except OSError:
        return 0.0
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL process (backends, WAL writer...), by pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found[int(entry.name)] = _cpu_seconds([int(entry.name)])
            except OSError:
                continue
    return found


def _postgres_cpu_since(before: dict[int, float]) -> float:
    return sum(used - before.get(pid, 0.0) for pid, used in _postgres_cpu().items())


def _worker_pids(master: int) -> list[int]:
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def fire(
    *, port: int, raw: Callable[[int], bytes], requests: int, clients: int
) -> tuple[list[float], collections.Counter[int]]:
    """Send `requests` raw HTTP requests (`raw(number)`) from `clients` threads, each over a
    fresh connection (gunicorn's sync workers close it after every response, as in
    production). Latency runs from connect to the server's close; returns the latencies and
    the count of each status."""
    numbers = itertools.count()
    latencies: list[float] = []
    statuses: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def client() -> None:
        mine: list[float] = []
        seen: collections.Counter[int] = collections.Counter()
        while (number := next(numbers)) < requests:
            request = raw(number)
            started = time.perf_counter()
            with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
                connection.sendall(request)
                first = connection.recv(65536)
                while connection.recv(65536):
                    pass
            mine.append(time.perf_counter() - started)
            seen[int(first[9:12] or 0)] += 1
        with lock:
            latencies.extend(mine)
            statuses.update(seen)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def load(
    *,
    port: int,
    target: str,
    requests: int,
    clients: int,
    token: str,
    key_prefix: str,
    workers: list[int],
) -> dict:
    """`requests` POSTs from `clients` threads, each a fresh connection (gunicorn's sync
    workers close the connection after every response, as in production). Latency runs from
    connect to the server's close."""
    body = json.dumps(BODY).encode()
    head = (
        f"POST {TARGETS[target]} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n"
    )
    if target in ("api", "floor"):
        head += f"Authorization: Bearer {token}\r\n"
    keyed = target in ("api", "floor")

    def raw(number: int) -> bytes:
        key = f"Idempotency-Key: {key_prefix}-{number}\r\n" if keyed else ""
        return (head + key + "\r\n").encode() + body

    worker_cpu, machine_cpu = _cpu_seconds(workers), _machine_busy_seconds()
    postgres_cpu = _postgres_cpu()
    started = time.perf_counter()
    latencies, statuses = fire(port=port, raw=raw, requests=requests, clients=clients)
    elapsed = time.perf_counter() - started
    worker_cpu = _cpu_seconds(workers) - worker_cpu
    machine_cpu = _machine_busy_seconds() - machine_cpu
    postgres_cpu = _postgres_cpu_since(postgres_cpu)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_us": cuts[49] * 1e6,
        "p95_us": cuts[94] * 1e6,
        "p99_us": cuts[98] * 1e6,
        # CPU per request, in ms: the gunicorn workers' own, and the whole machine's (workers,
        # PostgreSQL, Redis, this load generator). Lower than wall time per worker = waiting.
        "worker_cpu_ms": worker_cpu / len(latencies) * 1000,
        "machine_cpu_ms": machine_cpu / len(latencies) * 1000,
        "postgres_cpu_ms": postgres_cpu / len(latencies) * 1000,
        "bad": sum(count for status, count in statuses.items() if status != 201),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="per target per round")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "BENCH_ADMIN_URL", "postgres://ci:ci-password-loopback-only@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL URL whose role may create and drop the bench database",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument(
        "--template",
        help="copy this database (a load database: load1m) for the bench instead of starting "
        "empty, so that contacts are written beside its cases; its field keys are the local "
        "profile's (var/field-keys.json), as generate_load_data sealed it",
    )
    args = parser.parse_args()

    database = f"ht_bench_{os.getpid()}"
    base = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        **bench_env(
            admin_url=args.admin_url, database=database, redis_url=args.redis_url, host="127.0.0.1"
        ),
    }
    if args.template:
        env.update(_template_keys())
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        if args.template:
            print(f"copying {args.template} for the bench", file=sys.stderr, flush=True)
            admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{args.template}"')
        else:
            admin.execute(f'CREATE DATABASE "{database}"')
    gunicorn = None
    try:
        made = prepare(env)
        env.update({key: value for key, value in made.items() if key.startswith("BENCH_")})
        gunicorn = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "config.wsgi",
                "--workers",
                str(args.workers),
                "--bind",
                f"127.0.0.1:{args.port}",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_until_up(base, gunicorn)
        workers = _worker_pids(gunicorn.pid)
        for _ in range(50):  # every worker booted, so each one's CPU is counted
            if len(workers) >= args.workers:
                break
            time.sleep(0.2)
            workers = _worker_pids(gunicorn.pid)
        results = measure(args, made["token"], workers)
        with psycopg.connect(env["DATABASE_URL"]) as connection:
            rows = connection.execute(
                "SELECT count(*) FROM screening_contact WHERE agency_id = %s",
                [made["BENCH_AGENCY_ID"]],
            ).fetchone()[0]
            cases = connection.execute("SELECT count(*) FROM screening_case").fetchone()[0]
            contacts = connection.execute("SELECT count(*) FROM screening_contact").fetchone()[0]
        report(args, results, rows, held=(cases, contacts))
    finally:
        if gunicorn is not None:
            gunicorn.terminate()
            gunicorn.wait(timeout=30)
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def measure(args, token: str, workers: list[int]) -> dict[str, list[dict]]:
    common = {"port": args.port, "clients": args.clients, "token": token, "workers": workers}
    for target in TARGETS:  # warm-up: imports, connections, caches
        load(target=target, requests=200, key_prefix=f"warmup-{target}", **common)
    results: dict[str, list[dict]] = {target: [] for target in TARGETS}
    order = list(TARGETS)
    for round_number in range(args.rounds):
        for target in order[round_number % len(order) :] + order[: round_number % len(order)]:
            result = load(
                target=target,
                requests=args.requests,
                key_prefix=f"r{round_number}-{target}",
                **common,
            )
            results[target].append(result)
            print(
                f"round {round_number + 1} {target:8} {result['rps']:8.1f} req/s  "
                f"p50 {result['p50_us'] / 1000:6.1f} ms  p95 {result['p95_us'] / 1000:6.1f} ms  "
                f"p99 {result['p99_us'] / 1000:6.1f} ms  "
                f"CPU/req worker {result['worker_cpu_ms']:.2f} ms, PostgreSQL "
                f"{result['postgres_cpu_ms']:.2f}, machine {result['machine_cpu_ms']:.2f}  "
                f"non-201 {result['bad']}",
                file=sys.stderr,
                flush=True,
            )
    return results


def report(args, results: dict[str, list[dict]], rows: int, held: tuple[int, int]) -> None:
    def median(target: str, key: str) -> float:
        return statistics.median(result[key] for result in results[target])

    where = (
        f" in a copy of `{args.template}` ({held[0]:,} cases, {held[1]:,} contacts at the end)"
        if args.template
        else ""
    )
    print(
        f"\n{args.rounds} rounds x {args.requests} requests per target, {args.clients} clients, "
        f"gunicorn {args.workers} sync workers; {rows} contact rows written{where}.\n"
    )
    print(
        "| target | req/s | p50 (ms) | p95 (ms) | p99 (ms) | CPU/req: workers (ms) "
        "| PostgreSQL (ms) | machine (ms) | non-201 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for target in TARGETS:
        print(
            f"| {LABELS[target]} | {median(target, 'rps'):.0f} | "
            f"{median(target, 'p50_us') / 1000:.1f} | {median(target, 'p95_us') / 1000:.1f} | "
            f"{median(target, 'p99_us') / 1000:.1f} | {median(target, 'worker_cpu_ms'):.2f} | "
            f"{median(target, 'postgres_cpu_ms'):.2f} | {median(target, 'machine_cpu_ms'):.2f} | "
            f"{sum(result['bad'] for result in results[target])} |"
        )
    print()
    for over, under in (("api", "minimal"), ("floor", "minimal"), ("api", "floor")):
        ratios = [
            high["rps"] / low["rps"]
            for high, low in zip(results[over], results[under], strict=True)
        ]
        print(
            f"{over} / {under} throughput: median {statistics.median(ratios):.2f} "
            f"(rounds: {', '.join(f'{ratio:.2f}' for ratio in ratios)})"
        )
    print(f"API p95 {median('api', 'p95_us') / 1000:.1f} ms.")


if __name__ == "__main__":
    main()
