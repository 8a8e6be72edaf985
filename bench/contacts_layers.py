"""Where `POST /api/v1/contacts/` spends its CPU, layer by layer, in one process on PostgreSQL
(issue 6; docs/benchmarks.md). A companion to contacts_bench.py, which measures throughput
behind gunicorn: this one explains the ratio it finds.

Each variant logs the same crisis contact through Django's test client (no sockets, no
server), N times per round, rounds interleaved; the figure is the process CPU time per request
(median of the rounds), so PostgreSQL's own work and waiting are left out. Variants peel one
layer at a time off the full API, down to the minimal plain-Django view:

    full         token, role, validation, service, Idempotency-Key, throttle, access log
    no key       the same without an Idempotency-Key header
    no audit     ... and without the access-log middleware
    no throttle  ... and without the per-token throttle
    minimal      bench/views.py: parse the JSON, insert the same row

    .venv/bin/python bench/contacts_layers.py --rounds 5 --requests 400

Needs a PostgreSQL role that may create databases (--admin-url) and Redis (--redis-url);
the database is created and dropped here.
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

VARIANTS = ("full", "no key", "no audit", "no throttle", "minimal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400, help="per variant per round")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "BENCH_ADMIN_URL", "postgres://ci:ci-password-loopback-only@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    with in_process_database(
        admin_url=args.admin_url, redis_url=args.redis_url, prefix="ht_layers"
    ) as token:
        report(args, measure(args, token))


def measure(args, token: str) -> dict[str, list[float]]:
    import json

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings

    from screening.api.views import ContactsApi

    body = json.dumps(BODY)
    throttles = ContactsApi.throttle_classes
    without_audit = [
        name for name in settings.MIDDLEWARE if not name.endswith("AccessLogMiddleware")
    ]
    numbers = iter(range(10**9))

    def run(variant: str, requests: int) -> float:
        ContactsApi.throttle_classes = [] if variant == "no throttle" else throttles
        audit_off = variant in ("no audit", "no throttle")
        with override_settings(MIDDLEWARE=without_audit if audit_off else settings.MIDDLEWARE):
            client = Client()
            headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
            path = "/bench/minimal/contacts/" if variant == "minimal" else "/api/v1/contacts/"
            started = time.process_time()
            for _ in range(requests):
                extra = dict(headers)
                if variant == "full":
                    extra["HTTP_IDEMPOTENCY_KEY"] = f"layers-{next(numbers)}"
                response = client.post(path, body, content_type="application/json", **extra)
                if response.status_code != 201:
                    raise SystemExit(
                        f"{variant}: {response.status_code} {response.content[:300]!r}"
                    )
            return (time.process_time() - started) / requests

    for variant in VARIANTS:  # warm-up
        run(variant, 50)
    results: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    for round_number in range(args.rounds):
        order = VARIANTS[round_number % len(VARIANTS) :] + VARIANTS[: round_number % len(VARIANTS)]
        for variant in order:
            results[variant].append(run(variant, args.requests))
        print(f"round {round_number + 1} done", file=sys.stderr, flush=True)
    ContactsApi.throttle_classes = throttles
    return results


def report(args, results: dict[str, list[float]]) -> None:
    medians = {variant: statistics.median(values) * 1000 for variant, values in results.items()}
    print(
        f"\n{args.rounds} rounds x {args.requests} requests per variant; process CPU per request, "
        "median of the rounds.\n"
    )
    print("| variant | CPU per request (ms) | × minimal | step (ms) |")
    print("|---|---:|---:|---:|")
    previous = None
    for variant in VARIANTS:
        step = "" if previous is None else f"{previous - medians[variant]:.2f}"
        print(
            f"| {variant} | {medians[variant]:.2f} | {medians[variant] / medians['minimal']:.1f} "
            f"| {step} |"
        )
        previous = medians[variant]


if __name__ == "__main__":
    main()
