"""Approval → delivered, with a real PostgreSQL, Redis, Celery worker and beat at default
settings, to a local webhook receiver (issue 12). Results as a Markdown table
(docs/benchmarks.md).

Two measurements, interleaved in rounds:

- **Latency**: a supervisor approves one referral at a time (`referral_approve`, the service
  the page and the API call) on an idle system; the clock runs from the call until the
  receiver has the signed webhook, and until the referral is recorded as sent. Its lower
  bound is a no-op Celery task's round trip (`system.ping`: publish, the worker picks it up,
  the result comes back through Redis) measured the same way.
- **Throughput**: the worker's consumer is paused, a batch of referrals is approved (each
  publishes its delivery right after its commit) and the consumer resumed; deliveries per
  second until the receiver has them all. The same for a batch of no-op tasks: the ratio
  says what a delivery costs beyond the round trip (two short transactions, the packet, the
  signed POST).

The worker runs as `make worker` does (prefork, 2 processes, prefetch 1, acks late), beat as
`make beat` (the relay every REFERRAL_RELAY_INTERVAL_SECONDS = 5 s, the safety net). The
script creates its own database and drops it at the end.

    .venv/bin/python bench/delivery_bench.py            # 3 rounds, 100 approvals, 300 a batch
    .venv/bin/python bench/delivery_bench.py --quick    # 1 round, 30 approvals, 100 a batch

`main(argv)` returns the results and prints the Markdown (tables, then a line per target);
`--json PATH` writes the results too.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from config.crypto import new_key_text  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SECRET = "bench-webhook-secret-0123456789abcdef"  # noqa: S105 - a throwaway for this run
SERVICE_TYPES = [
    "shelter",
    "medical",
    "mental_health",
    "legal_aid",
    "immigration_legal",
    "labour_rights",
    "law_enforcement_atu",
    "interpretation",
    "case_management",
    "child_welfare",
]
TARGET_P95_S = 1.0
TARGET_RATIO = 0.3


# --- the receiver --------------------------------------------------------------------------


@dataclass
class Receiver:
    """A provider's webhook endpoint: answers 200 at once, notes when each key arrived."""

    arrived: dict[str, float] = field(default_factory=dict)
    signed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(init=False)
    url: str = ""

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    def wait_for(self, keys: set[str], timeout: float) -> bool:
        deadline = time.perf_counter() + timeout
        with self.changed:
            while not keys <= self.arrived.keys():
                left = deadline - time.perf_counter()
                if left <= 0:
                    return False
                self.changed.wait(left)
        return True


def receiver_start() -> tuple[Receiver, ThreadingHTTPServer]:
    from referrals.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            at = time.perf_counter()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ok = verify(
                secret=SECRET,
                timestamp=self.headers.get(TIMESTAMP_HEADER),
                body=body,
                signature=self.headers.get(SIGNATURE_HEADER),
                now=time.time(),
                window_seconds=300,
            )
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")
            with receiver.changed:
                receiver.arrived.setdefault(self.headers.get(IDEMPOTENCY_HEADER, ""), at)
                receiver.signed += ok
                receiver.changed.notify_all()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/referrals"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server


# --- CPU accounting (Linux /proc; zeros elsewhere) ------------------------------------------


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except OSError:
        return []


def _postgres_pids() -> list[int]:
    """The PostgreSQL backends serving the bench's database (the server's shared processes,
    the WAL writer among them, and other databases' backends are left out)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [row[0] for row in cursor.fetchall()]


class CpuMeter:
    """CPU seconds spent by the worker (main process and pool), PostgreSQL and this process
    between `start()` and `stop()`."""

    def __init__(self, worker_pid: int) -> None:
        self.worker_pid = worker_pid

    def _now(self) -> dict[str, dict[int, float]]:
        worker = [self.worker_pid, *_children(self.worker_pid)]
        return {
            "worker": {pid: _cpu_seconds([pid]) for pid in worker},
            "postgres": {pid: _cpu_seconds([pid]) for pid in _postgres_pids()},
            "bench": {os.getpid(): _cpu_seconds([os.getpid()])},
        }

    def start(self) -> None:
        self.before = self._now()

    def stop(self) -> dict[str, float]:
        after = self._now()
        return {
            name: sum(used - self.before[name].get(pid, 0.0) for pid, used in after[name].items())
            for name in after
        }


# --- processes -----------------------------------------------------------------------------


def bench_env(*, admin_url: str, database: str, redis_url: str) -> dict[str, str]:
    """Production settings (bench.settings_delivery) on the bench's own database and Redis."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings_delivery",
        "DATABASE_URL": f"{admin_url.rsplit('/', 1)[0]}/{database}",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_BROKER_URL": redis_url,
        "CACHE_URL": redis_url,
        "FIELD_ENCRYPTION_KEYS": f"bench1:{new_key_text()}",
        "FIELD_ENCRYPTION_ACTIVE_KEY": "bench1",
        "BLIND_INDEX_KEY": new_key_text(),
    }


def run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:3])} failed:\n{result.stderr[-3000:]}")


class Celery:
    """`make worker` (2 prefork processes) and `make beat`, logging to files."""

    def __init__(self, env: dict[str, str], directory: Path, concurrency: int) -> None:
        self.hostname = f"bench-delivery-{os.getpid()}@localhost"
        self.directory = directory
        celery = [str(VENV_BIN / "celery"), "-A", "config.celery:app"]
        self.worker = subprocess.Popen(
            [
                *celery,
                "worker",
                "--loglevel=WARNING",
                f"--concurrency={concurrency}",
                "--without-gossip",
                "--without-mingle",
                "-n",
                self.hostname,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(directory / "worker.log").open("w"),
        )
        self.beat = subprocess.Popen(
            [*celery, "beat", "--loglevel=WARNING", f"--schedule={directory / 'beat-schedule'}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(directory / "beat.log").open("w"),
        )

    def wait_ready(self, app, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.worker.poll() is not None:
                log = (self.directory / "worker.log").read_text()[-2000:]
                raise SystemExit(f"the worker exited at start-up:\n{log}")
            if app.control.ping(destination=[self.hostname], timeout=1.0):
                return
        raise SystemExit("the worker did not answer a control ping within 60 s")

    def pause(self, app) -> None:
        app.control.cancel_consumer("default", destination=[self.hostname], reply=True)

    def resume(self, app) -> None:
        app.control.add_consumer("default", destination=[self.hostname], reply=True)

    def stop(self) -> None:
        for process in (self.beat, self.worker):
            process.terminate()
        for process in (self.beat, self.worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


# --- the world: one case, referrals waiting for approval -----------------------------------


def world_make(count: int, receiver_url: str) -> tuple[list[int], Any]:
    """A case with a submitted screening and `count` referrals waiting for approval, to
    providers whose webhook is the receiver, each covered by a written consent (fictional)."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from indicators.models import InstrumentVersion
    from referrals.models import Referral, ReferralStatus, ServiceProvider
    from screening import services
    from screening.models import Agency, Consent, Screening, User

    agency = Agency.objects.create(name="Bench Police Unit", kind="law_enforcement")
    officer = User.objects.create_user(username="bench.officer", agency=agency)
    officer.groups.add(Group.objects.get(name="frontline_officer"))
    supervisor = User.objects.create_user(username="bench.supervisor", agency=agency)
    supervisor.groups.add(Group.objects.get(name="supervisor"))
    case = services.case_create(created_by=officer, age=31, region="Riverside")
    services.consent_record(case=case, by=officer, scope="screening", method="verbal")
    consents = {
        service_type: services.consent_record(
            case=case,
            by=officer,
            scope=Consent.Scope.REFERRAL_SERVICE_TYPE,
            method=Consent.Method.WRITTEN,
            service_type=service_type,
            valid_until=timezone.now() + timedelta(days=30),
        )
        for service_type in SERVICE_TYPES
    }
    call_command(
        "load_instruments",
        str(ROOT / "seeds" / "instruments" / "hotline-triage.v1.yaml"),
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )
    screening = services.screening_start(
        case=case,
        by=officer,
        instrument_version=InstrumentVersion.objects.get(instrument__slug="hotline-triage"),
        setting=Screening.Setting.STATION,
        safe_to_talk="yes",
        alone="yes",
    )
    screening = services.screening_submit(screening=screening, by=officer)
    providers = ServiceProvider.objects.bulk_create(
        ServiceProvider(
            slug=f"bench-provider-{index}",
            name=f"Bench Provider {index}",
            service_types=SERVICE_TYPES,
            regions=["national"],
            channel=ServiceProvider.Channel.WEBHOOK,
            webhook_url=receiver_url,
            webhook_secret=SECRET,
        )
        for index in range((count + len(SERVICE_TYPES) - 1) // len(SERVICE_TYPES))
    )
    due = timezone.now() + timedelta(hours=24)
    referrals = Referral.objects.bulk_create(
        Referral(
            case=case,
            case_agency_id=case.agency_id,
            screening=screening,
            provider=providers[index // len(SERVICE_TYPES)],
            service_type=SERVICE_TYPES[index % len(SERVICE_TYPES)],
            status=ReferralStatus.PENDING_APPROVAL,
            consent_used=consents[SERVICE_TYPES[index % len(SERVICE_TYPES)]],
            due_at=due,
        )
        for index in range(count)
    )
    return [referral.pk for referral in referrals], supervisor


# --- measuring -----------------------------------------------------------------------------


def _quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def latency_round(
    ids: list[int], keys: dict[int, str], supervisor, receiver: Receiver, app
) -> dict[str, list[float]]:
    """One approval at a time; seconds to the receiver and to `sent` in the database, and a
    no-op task's round trip after each."""
    from config.celery import ping
    from referrals.models import Referral
    from referrals.services import referral_approve

    to_receiver, to_sent, round_trip, approve = [], [], [], []
    for referral_id in ids:
        started = time.perf_counter()
        referral_approve(referral_id=referral_id, by=supervisor)
        approve.append(time.perf_counter() - started)
        if not receiver.wait_for({keys[referral_id]}, timeout=30):
            raise SystemExit(f"referral {referral_id} did not reach the receiver in 30 s")
        to_receiver.append(receiver.arrived[keys[referral_id]] - started)
        while not Referral.objects.filter(pk=referral_id, status="sent").exists():
            time.sleep(0.002)
        to_sent.append(time.perf_counter() - started)
        time.sleep(0.05)  # idle between approvals
        started = time.perf_counter()
        ping.apply_async().get(timeout=30)
        round_trip.append(time.perf_counter() - started)
        time.sleep(0.05)
    return {"approve": approve, "receiver": to_receiver, "sent": to_sent, "ping": round_trip}


def throughput_round(
    ids: list[int], keys: dict[int, str], supervisor, receiver: Receiver, celery: Celery, app
) -> dict[str, float]:
    """Deliveries per second and no-op round trips per second, each a batch of `len(ids)`
    messages waiting in the queue when the worker's consumer resumes."""
    from config.celery import ping
    from referrals.models import Referral
    from referrals.services import referral_approve

    meter = CpuMeter(celery.worker.pid)
    celery.pause(app)
    results = [ping.apply_async() for _ in ids]
    celery.resume(app)
    meter.start()
    started = time.perf_counter()
    for result in results:
        result.get(timeout=120)
    pings = len(results) / (time.perf_counter() - started)
    ping_cpu = meter.stop()

    celery.pause(app)
    for referral_id in ids:
        referral_approve(referral_id=referral_id, by=supervisor)
    celery.resume(app)
    meter.start()
    started = time.perf_counter()
    if not receiver.wait_for({keys[referral_id] for referral_id in ids}, timeout=300):
        raise SystemExit("a batch of deliveries did not reach the receiver in 300 s")
    delivered = len(ids) / (time.perf_counter() - started)
    while Referral.objects.filter(pk__in=ids).exclude(status="sent").exists():
        time.sleep(0.01)
    recorded = len(ids) / (time.perf_counter() - started)
    delivery_cpu = meter.stop()
    return {
        "pings_per_s": pings,
        "deliveries_per_s": delivered,
        "recorded_per_s": recorded,
        # CPU milliseconds per message: the worker's, the bench database's PostgreSQL
        # backends', this process's (the receiver answering, the polling).
        "ping_cpu_ms": {name: used / len(ids) * 1000 for name, used in ping_cpu.items()},
        "delivery_cpu_ms": {name: used / len(ids) * 1000 for name, used in delivery_cpu.items()},
    }


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def report(results: dict[str, Any]) -> str:
    lat = results["latency"]
    ms = {name: [value * 1000 for value in values] for name, values in lat.items()}
    lines = [
        f"{results['rounds']} round(s): {results['approvals']} approvals one at a time and "
        f"a batch of {results['batch']} per round; worker `--concurrency="
        f"{results['concurrency']}`, beat relaying every {results['relay_interval']} s; load "
        f"average before {results['load_before']}, after {results['load_after']}.",
        "",
        "| approval → | p50 (ms) | p95 (ms) | max (ms) | n |",
        "|---|---:|---:|---:|---:|",
    ]
    labels = {
        "approve": "the approval is committed and its delivery published (the call returns)",
        "receiver": "the provider's receiver has the signed webhook",
        "sent": "the referral is recorded as sent",
        "ping": "floor: a no-op Celery task's round trip (`system.ping`)",
    }
    for name in ("approve", "receiver", "sent", "ping"):
        values = ms[name]
        lines.append(
            f"| {labels[name]} | {_quantile(values, 50):.1f} | {_quantile(values, 95):.1f} | "
            f"{max(values):.1f} | {len(values)} |"
        )
    tp = results["throughput"]

    def med(key: str) -> float:
        return statistics.median(round_[key] for round_ in tp)

    ratios = [round_["deliveries_per_s"] / round_["pings_per_s"] for round_ in tp]

    def cpu(kind: str, name: str) -> float:
        return statistics.median(round_[f"{kind}_cpu_ms"][name] for round_ in tp)

    lines += [
        "",
        "| batch drained by the worker | per second (median of rounds) | rounds "
        "| CPU per message: worker (ms) | its PostgreSQL backends (ms) |",
        "|---|---:|---|---:|---:|",
        f"| no-op tasks (`system.ping`, result back) | {med('pings_per_s'):.0f} | "
        + ", ".join(f"{round_['pings_per_s']:.0f}" for round_ in tp)
        + f" | {cpu('ping', 'worker'):.1f} | {cpu('ping', 'postgres'):.1f} |",
        f"| deliveries at the receiver | {med('deliveries_per_s'):.0f} | "
        + ", ".join(f"{round_['deliveries_per_s']:.0f}" for round_ in tp)
        + f" | {cpu('delivery', 'worker'):.1f} | {cpu('delivery', 'postgres'):.1f} |",
        f"| deliveries recorded as sent | {med('recorded_per_s'):.0f} | "
        + ", ".join(f"{round_['recorded_per_s']:.0f}" for round_ in tp)
        + " | | |",
        "",
        f"Approval → receiver p95 {_quantile(ms['receiver'], 95):.0f} ms "
        f"(target ≤ {TARGET_P95_S * 1000:.0f} ms): "
        f"{'met' if _quantile(ms['receiver'], 95) <= TARGET_P95_S * 1000 else 'NOT met'}. "
        f"Deliveries per second / no-op round trips per second: median "
        f"{statistics.median(ratios):.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"target ≥ {TARGET_RATIO}): "
        f"{'met' if statistics.median(ratios) >= TARGET_RATIO else 'NOT met'}.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 round, 30 approvals, 100 a batch")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--approvals", type=int, default=None, help="one at a time, per round")
    parser.add_argument("--batch", type=int, default=None, help="approvals per batch, per round")
    parser.add_argument("--concurrency", type=int, default=2, help="as `make worker`")
    parser.add_argument(
        "--admin-url",
        default=os.environ.get(
            "BENCH_ADMIN_URL", "postgres://ci:ci-password-loopback-only@127.0.0.1:5432/postgres"
        ),
        help="a PostgreSQL URL whose role may create and drop the bench database",
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    approvals = args.approvals or (30 if args.quick else 100)
    batch = args.batch or (100 if args.quick else 300)

    database = f"ht_bench_delivery_{os.getpid()}"
    env = bench_env(admin_url=args.admin_url, database=database, redis_url=args.redis_url)
    os.environ.update(env)
    import redis

    redis.Redis.from_url(args.redis_url).flushdb()  # the bench's own Redis database
    with psycopg.connect(args.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    celery = server = None
    try:
        run([sys.executable, "manage.py", "migrate", "--noinput"], {**os.environ, **env})
        import django

        django.setup()
        from django.conf import settings

        from config.celery import app
        from referrals.models import Referral

        receiver, server = receiver_start()
        ids, supervisor = world_make(rounds * (approvals + batch), receiver.url)
        keys = dict(Referral.objects.filter(pk__in=ids).values_list("pk", "idempotency_key"))
        with tempfile.TemporaryDirectory() as directory:
            celery = Celery({**os.environ, **env}, Path(directory), args.concurrency)
            celery.wait_ready(app)
            load_before = load_average()
            latency: dict[str, list[float]] = {
                "approve": [],
                "receiver": [],
                "sent": [],
                "ping": [],
            }
            throughput = []
            # Warm-up: the worker's processes open their database connections.
            warm = latency_round(ids[:4], keys, supervisor, receiver, app)
            del warm
            ids = ids[4:]
            for number in range(rounds):
                chunk = ids[number * (approvals + batch) : (number + 1) * (approvals + batch)]
                print(f"round {number + 1}: latency", file=sys.stderr, flush=True)
                for name, values in latency_round(
                    chunk[:approvals], keys, supervisor, receiver, app
                ).items():
                    latency[name].extend(values)
                print(f"round {number + 1}: throughput", file=sys.stderr, flush=True)
                throughput.append(
                    throughput_round(chunk[approvals:], keys, supervisor, receiver, celery, app)
                )
                print(
                    f"round {number + 1}: {throughput[-1]['deliveries_per_s']:.0f} deliveries/s, "
                    f"{throughput[-1]['pings_per_s']:.0f} pings/s",
                    file=sys.stderr,
                    flush=True,
                )
            results = {
                "rounds": rounds,
                "approvals": approvals,
                "batch": batch,
                "concurrency": args.concurrency,
                "relay_interval": settings.REFERRAL_RELAY_INTERVAL_SECONDS,
                "load_before": load_before,
                "load_after": load_average(),
                "latency": latency,
                "throughput": throughput,
                "signed_ok": receiver.signed,
            }
    finally:
        if celery is not None:
            celery.stop()
        if server is not None:
            server.shutdown()
        from django.db import connections

        connections.close_all()
        with psycopg.connect(args.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    markdown = report(results)
    results["markdown"] = markdown
    print(markdown)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
