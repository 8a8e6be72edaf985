"""What field encryption and the blind index cost per request (issue 11), measured side by
side in one run: `POST /api/v1/contacts/` and `GET /api/v1/cases/` (a page of 50 cases, each
decrypting its nationality and, for the creator, name, phone, documents and narrative)
against two gunicorn servers on the same machine and PostgreSQL:

- sealed: the production profile (bench.settings): AES-256-GCM per value, HMAC digests;
- plain: bench.settings_plaintext, the same code with sealing, opening and the HMAC made
  pass-throughs: the same statements, rows and Python, without the cryptography.

Each server has its own database, seeded alike (one hotline agency, one member with an API
token, `--cases` cases with every identifying field filled in). Rounds interleave the four
targets; CPU per request is read from /proc for each server's own workers, PostgreSQL and the
machine. Target (issue 11): sealed costs at most 10% more CPU per request than plain.

    .venv/bin/python bench/encryption_bench.py --rounds 5 --requests 1000 --clients 20
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import secrets
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.contacts_bench import (  # noqa: E402
    BODY,
    ROOT,
    VENV_BIN,
    _cpu_seconds,
    _machine_busy_seconds,
    _postgres_cpu,
    _postgres_cpu_since,
    _worker_pids,
    bench_env,
    fire,
    prepare,
    run,
    wait_until_up,
)

PROFILES = {"sealed": "bench.settings", "plain": "bench.settings_plaintext"}
# Identifying fields as a hotline would send them (fictional): digests are computed for these.
CONTACT_BODY = {
    **BODY,
    "caller_name": "Ondine Farrowdale",
    "caller_phone": "+44 7700 900321",
}
SEED_CASES = """
import sys
from screening import services
from screening.models import User
user = User.objects.get(pk={user})
for number in range({cases}):
    services.case_create(
        created_by=user,
        identifying_name=f"Fictional Person {{number}}",
        identifying_phone=f"+44 7700 9{{number:05d}}",
        identifying_documents=f"Passport QX{{number:07d}}",
        narrative="A fictional account of work without pay, kept for the benchmark. " * 4,
        nationality="Fictionalian",
        region="Northshire",
    )
print("seeded", file=sys.stderr)
"""


def load(
    *, port: int, method: str, path: str, body: bytes, token: str, requests: int, clients: int
) -> tuple[list[float], collections.Counter]:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nConnection: close\r\n"
    )
    if not body:
        request = (head + "\r\n").encode()
        return fire(port=port, raw=lambda _number: request, requests=requests, clients=clients)
    head += "Content-Type: application/json\r\n"
    prefix = secrets.token_hex(6)

    def raw(number: int) -> bytes:
        # A fresh Idempotency-Key per request, as an integration sends (the stored response
        # is sealed too), and callers from a pool of 1,000 fictional numbers, so that some
        # contacts match earlier ones, as repeat callers do.
        payload = body.replace(b"900321", f"900{number % 1000:03d}".encode())
        return (
            head + f"Content-Length: {len(payload)}\r\nIdempotency-Key: {prefix}-{number}\r\n\r\n"
        ).encode() + payload

    return fire(port=port, raw=raw, requests=requests, clients=clients)


def measure_one(server: dict, target: str, args) -> dict:
    method, path, body, ok = {
        "contacts": ("POST", "/api/v1/contacts/", json.dumps(CONTACT_BODY).encode(), 201),
        "cases": ("GET", "/api/v1/cases/?page_size=50", b"", 200),
    }[target]
    worker_cpu, machine_cpu = _cpu_seconds(server["workers"]), _machine_busy_seconds()
    postgres_cpu = _postgres_cpu()
    started = time.perf_counter()
    latencies, statuses = load(
        port=server["port"],
        method=method,
        path=path,
        body=body,
        token=server["token"],
        requests=args.requests,
        clients=args.clients,
    )
    elapsed = time.perf_counter() - started
    count = len(latencies)
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": count / elapsed,
        "p50_ms": cuts[49] * 1000,
        "p95_ms": cuts[94] * 1000,
        "worker_cpu_ms": (_cpu_seconds(server["workers"]) - worker_cpu) / count * 1000,
        "postgres_cpu_ms": _postgres_cpu_since(postgres_cpu) / count * 1000,
        "machine_cpu_ms": (_machine_busy_seconds() - machine_cpu) / count * 1000,
        "bad": sum(n for status, n in statuses.items() if status != ok),
    }


def start_server(profile: str, port: int, args, admin_url: str) -> dict:
    database = f"ht_bench_enc_{profile}_{os.getpid()}"
    env = {
        **os.environ,
        **bench_env(
            admin_url=admin_url, database=database, redis_url=args.redis_url, host="127.0.0.1"
        ),
        "DJANGO_SETTINGS_MODULE": PROFILES[profile],
    }
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    made = prepare(env)
    env.update({key: value for key, value in made.items() if key.startswith("BENCH_")})
    code = SEED_CASES.format(user=made["BENCH_USER_ID"], cases=args.cases)
    run([str(VENV_BIN / "python"), "manage.py", "shell", "-c", code], env)
    process = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "config.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env=env,
    )
    server = {
        "profile": profile,
        "port": port,
        "database": database,
        "process": process,
        "token": made["token"],
        "env": env,
    }
    wait_until_up(f"http://127.0.0.1:{port}", process)
    workers = _worker_pids(process.pid)
    for _ in range(50):
        if len(workers) >= args.workers:
            break
        time.sleep(0.2)
        workers = _worker_pids(process.pid)
    server["workers"] = workers
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=1000, help="per target per round")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--port", type=int, default=18775)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "BENCH_ADMIN_URL", "postgres://ci:ci-password-loopback-only@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    servers: dict[str, dict] = {}
    try:
        for offset, profile in enumerate(PROFILES):
            servers[profile] = start_server(profile, args.port + offset, args, args.admin_url)
        pairs = [(target, profile) for target in ("contacts", "cases") for profile in PROFILES]
        warm_up = argparse.Namespace(**{**vars(args), "requests": 200})
        for target, profile in pairs:  # imports, connections, caches
            measure_one(servers[profile], target, warm_up)
        results: dict[tuple[str, str], list[dict]] = {pair: [] for pair in pairs}
        for round_number in range(args.rounds):
            shift = round_number % len(pairs)
            for target, profile in pairs[shift:] + pairs[:shift]:
                result = measure_one(servers[profile], target, args)
                results[(target, profile)].append(result)
                print(
                    f"round {round_number + 1} {target:8} {profile:6} {result['rps']:7.1f} req/s "
                    f"p50 {result['p50_ms']:6.1f} ms p95 {result['p95_ms']:6.1f} ms  CPU/req "
                    f"worker {result['worker_cpu_ms']:.2f} PostgreSQL "
                    f"{result['postgres_cpu_ms']:.2f} machine {result['machine_cpu_ms']:.2f} "
                    f"bad {result['bad']}",
                    file=sys.stderr,
                    flush=True,
                )
        report(args, results)
    finally:
        for server in servers.values():
            server["process"].terminate()
            server["process"].wait(timeout=30)
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            for server in servers.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{server["database"]}" WITH (FORCE)')


def report(args, results: dict[tuple[str, str], list[dict]]) -> None:
    def median(pair, key):
        return statistics.median(result[key] for result in results[pair])

    load_average = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"\n{args.rounds} rounds x {args.requests} requests per target, {args.clients} clients, "
        f"gunicorn {args.workers} sync workers per server, {args.cases} cases per database; "
        f"load average at the end {load_average}.\n"
    )
    print(
        "| request | profile | req/s | p50 (ms) | p95 (ms) | CPU/req workers (ms) "
        "| PostgreSQL (ms) | machine (ms) | bad |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for pair in results:
        target, profile = pair
        print(
            f"| {target} | {profile} | {median(pair, 'rps'):.0f} | {median(pair, 'p50_ms'):.1f} "
            f"| {median(pair, 'p95_ms'):.1f} | {median(pair, 'worker_cpu_ms'):.2f} "
            f"| {median(pair, 'postgres_cpu_ms'):.2f} | {median(pair, 'machine_cpu_ms'):.2f} "
            f"| {sum(result['bad'] for result in results[pair])} |"
        )
    print()
    for target in ("contacts", "cases"):
        for key, label in (("worker_cpu_ms", "worker CPU"), ("machine_cpu_ms", "machine CPU")):
            ratios = [
                sealed[key] / plain[key]
                for sealed, plain in zip(
                    results[(target, "sealed")], results[(target, "plain")], strict=True
                )
            ]
            print(
                f"{target}: sealed / plain {label} per request: median "
                f"{statistics.median(ratios):.3f} (rounds: "
                f"{', '.join(f'{ratio:.3f}' for ratio in ratios)})"
            )


if __name__ == "__main__":
    main()
