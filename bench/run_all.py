"""`make bench`: every benchmark against PostgreSQL and Redis, the results written into
docs/benchmarks.md (between markers, bench/report.py) and the charts into docs/benchmarks/.

    .venv/bin/python bench/run_all.py            # everything, at 10k, 100k and 1M cases
    .venv/bin/python bench/run_all.py --quick    # the 10k database, fewer rounds (< 5 min)

PostgreSQL and Redis must be running (it says how to start them when they are not). The
list benchmark reads the load databases `manage.py generate_load_data` makes (load10k,
load100k, load1m); a missing one is generated first (about 15 minutes for 1M cases).
A benchmark that fails is reported in its section and makes the run exit 1; the others
still run.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import sections_write  # noqa: E402

PYTHON = sys.executable
DEFAULT_SERVER = "postgres://ci:ci-password-loopback-only@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
# Paths under the repository of the doc written are shown relative to it (see --committed).
DOC_ROOT = ROOT
LOAD_DATABASES = {"load10k": 10_000, "load100k": 100_000, "load1m": 1_000_000}


@dataclass
class Bench:
    section: str
    title: str
    command: list[str]
    needs: str = ""


def benches(
    *, quick: bool, server: str, redis: str, charts: Path, lists_iterations: int | None = None
) -> list[Bench]:
    admin = f"{server}/postgres"
    lists_databases = "load10k" if quick else "load10k,load100k,load1m"
    largest = lists_databases.split(",")[-1].removeprefix("load")
    return [
        Bench(
            "score",
            "Scoring engine, in process",
            [PYTHON, "bench/score_bench.py", "--runs", "500" if quick else "5000"],
        ),
        Bench(
            "contacts",
            "`POST /api/v1/contacts/` behind gunicorn",
            [PYTHON, "bench/contacts_bench.py", "--admin-url", admin, "--redis-url", redis]
            # The full run writes its contacts beside the 1M cases (a copy of load1m).
            + (
                ["--rounds", "1", "--requests", "400"]
                if quick
                else ["--rounds", "3", "--template", "load1m"]
            ),
        ),
        Bench(
            "encryption",
            "Field encryption, sealed against plain",
            [PYTHON, "bench/encryption_bench.py", "--admin-url", admin, "--redis-url", redis]
            + (
                ["--rounds", "1", "--requests", "200", "--cases", "50"]
                if quick
                else ["--rounds", "3"]
            ),
        ),
        Bench(
            "delivery",
            "Approval to delivery",
            [PYTHON, "bench/delivery_bench.py"] + (["--quick"] if quick else []),
            needs="bench/delivery_bench.py",
        ),
        Bench(
            "lists",
            "Lists against data size",
            [
                PYTHON,
                "bench/lists_bench.py",
                "--server",
                server,
                "--redis-url",
                redis,
                "--databases",
                lists_databases,
                "--json",
                str(charts / "lists.json"),
                "--plans",
                str(charts / f"plans-{largest}.md"),
                "--charts",
                str(charts),
                "--jit",
            ]
            + (
                ["--iterations", "12", "--warmup", "2", "--depth", "10", "--jit-iterations", "10"]
                if quick
                else []
            )
            + (["--iterations", str(lists_iterations)] if lists_iterations else []),
        ),
    ]


def services_check(server: str, redis_url: str) -> list[str]:
    """What is not answering, each with how to start it (empty when both answer)."""
    problems = []
    try:
        import psycopg

        with psycopg.connect(f"{server}/postgres", connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 (any failure means the same thing here)
        problems.append(
            f"PostgreSQL does not answer at {server.rsplit('@', 1)[-1]} ({type(error).__name__}: "
            f"{str(error).strip().splitlines()[0] if str(error).strip() else 'no detail'}).\n"
            "  Start it (Debian: `service postgresql start`) or point BENCH_SERVER_URL at one "
            "whose role may create databases."
        )
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as error:  # noqa: BLE001
        problems.append(
            f"Redis does not answer at {redis_url} ({type(error).__name__}).\n"
            "  Start it (`redis-server --daemonize yes`, or Debian: `service redis-server start`) "
            "or set BENCH_REDIS_URL."
        )
    return problems


def _holds_cases(server: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{server}/{name}", connect_timeout=5) as connection:
        table = connection.execute("SELECT to_regclass('screening_case')").fetchone()[0]
        return table is not None and bool(
            connection.execute("SELECT EXISTS (SELECT 1 FROM screening_case)").fetchone()[0]
        )


# Opens the newest case's sealed name with the keys `manage.py` uses; exit status 3 if the
# keyring cannot (the data was sealed with other keys: a new machine, a deleted var/).
OPENS_WITH_KEYS = (
    "import sys\n"
    "from config.crypto import DecryptionError\n"
    "from screening.models import Case\n"
    "try:\n"
    "    [case.identifying_name for case in Case.objects.order_by('-id')[:1]]\n"
    "except DecryptionError:\n"
    "    sys.exit(3)\n"
)


def _opens_with_keys(server: str, name: str) -> bool:
    env = {**os.environ, "DATABASE_URL": f"{server}/{name}"}
    command = [PYTHON, "manage.py", "shell", "-c", OPENS_WITH_KEYS]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 3):
        raise SystemExit(f"bench: checking the keys of {name} failed:\n{done.stderr[-2000:]}")
    return done.returncode == 0


def load_databases_ensure(server: str, names: list[str]) -> None:
    """Generate each load database that is missing, holds no cases or was sealed with other
    field keys than the ones `manage.py` uses (migrate, then `generate_load_data`)."""
    import psycopg

    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        present = {row[0] for row in connection.execute("SELECT datname FROM pg_database")}
        for name in names:
            if name not in present:
                connection.execute(f'CREATE DATABASE "{name}"')
    missing = [name for name in names if not _holds_cases(server, name)]
    for name in names:
        if name in missing or _opens_with_keys(server, name):
            continue
        print(
            f"bench: {name} was sealed with other field keys than this checkout's "
            "(var/field-keys.json or the environment's): generating it again",
            file=sys.stderr,
            flush=True,
        )
        with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        missing.append(name)
    for name in missing:
        cases = LOAD_DATABASES[name]
        print(f"bench: generating {name} ({cases:,} cases)", file=sys.stderr, flush=True)
        env = {**os.environ, "DATABASE_URL": f"{server}/{name}"}
        for command in (
            [PYTHON, "manage.py", "migrate", "--noinput"],
            [PYTHON, "manage.py", "generate_load_data", "--cases", str(cases)],
        ):
            done = subprocess.run(command, cwd=ROOT, env=env)
            if done.returncode != 0:
                with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
                    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                raise SystemExit(f"bench: {' '.join(command[1:3])} failed for {name}")


def machine_line() -> str:
    cores = os.cpu_count()
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        memory_text = f", {memory:.0f} GiB"
    except (ValueError, OSError):
        memory_text = ""
    return f"{cores} cores{memory_text}, Python {platform.python_version()}"


def server_versions(server: str, redis_url: str) -> str:
    import psycopg
    import redis

    with psycopg.connect(f"{server}/postgres") as connection:
        version = connection.execute("SHOW server_version").fetchone()[0].split()[0]
        jit = connection.execute("SHOW jit").fetchone()[0]
    info = redis.Redis.from_url(redis_url).info("server")
    return f"PostgreSQL {version} (jit={jit} by default), Redis {info['redis_version']}"


def run_one(bench: Bench, *, quick: bool, versions: str) -> tuple[str, bool]:
    """Run one benchmark; its section's Markdown and whether it succeeded."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    shown = " ".join(
        shlex.quote(
            # The database role's password stays out of the docs.
            re.sub(r"(://[^:/@]+):[^@]*@", r"\1:…@", part)
            .replace(PYTHON, ".venv/bin/python")
            .replace(str(ROOT) + "/", "")
            .replace(str(DOC_ROOT) + "/", "")
        )
        for part in bench.command
    )
    if bench.needs and not (ROOT / bench.needs).exists():
        body = f"Not run on {today}: {bench.needs} is not in the tree."
        return _section(bench, body), False
    print(f"bench: {bench.section}: {shown}", file=sys.stderr, flush=True)
    before = os.getloadavg()
    started = time.monotonic()
    returncode, stdout, stderr_tail = _run_streaming(bench.command)
    seconds = time.monotonic() - started
    after = os.getloadavg()
    head = (
        f"Run of {today}{' (quick)' if quick else ''} by `make bench"
        f"{' QUICK=1' if quick else ''}`, {code_version()}: {machine_line()}, {versions}; "
        f"load average {before[0]:.2f} before, {after[0]:.2f} after; {seconds:.0f} s.\n\n"
        f"```sh\n{shown}\n```\n"
    )
    if returncode != 0:
        tail = "\n".join(stderr_tail[-15:])
        body = head + f"\n**Failed** (exit {returncode}):\n\n```\n{tail}\n```\n"
        return _section(bench, body), False
    body = head + "\n" + stdout.strip() + "\n"
    if bench.section == "lists":
        body += (
            "\n![p95 per request against the number of cases](benchmarks/lists-p95.png)\n\n"
            "![p95 with the visibility rule over p95 without it]"
            "(benchmarks/lists-visibility-ratio.png)\n"
        )
    return _section(bench, body), True


def _run_streaming(command: list[str]) -> tuple[int, str, list[str]]:
    """Run `command`: its progress (stderr) shown as it comes, its stdout (the Markdown)
    kept; the exit code, the stdout and the last lines of stderr."""
    tail: collections.deque[str] = collections.deque(maxlen=40)
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def echo() -> None:
        for line in process.stderr:
            tail.append(line.rstrip("\n"))
            sys.stderr.write(line)

    reader = threading.Thread(target=echo, daemon=True)
    reader.start()
    stdout = process.stdout.read()
    process.wait()
    reader.join(timeout=10)
    return process.returncode, stdout, list(tail)


def _section(bench: Bench, body: str) -> str:
    return f"### {bench.title} (`make bench`)\n\n{body}"


def code_version() -> str:
    """The commit measured, and whether the tree had edits on top of it."""
    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    if not head:
        return "code outside git"
    edited = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"commit {head}" + (" with uncommitted edits" if edited else "")


def committed_run(options: argparse.Namespace) -> int:
    """Run this script from an export of HEAD (`git archive`), so that edits in progress in
    a shared working tree do not enter the numbers; results still go to `options.doc`. The
    local profile's field keys (which the load data was sealed with) are passed in the
    environment, never copied."""
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    if not head:
        raise SystemExit("bench: --committed needs a git checkout")
    env = {**os.environ, "BENCH_COMMIT": f"commit {head} (an export of it: no working-tree edits)"}
    key_file = ROOT / "var" / "field-keys.json"
    if key_file.exists() and not env.get("FIELD_ENCRYPTION_KEYS"):
        env.update({name: str(value) for name, value in json.loads(key_file.read_text()).items()})
    arguments = ["--doc", str(options.doc.resolve()), "--server", options.server]
    arguments += ["--redis-url", options.redis_url]
    arguments += ["--quick"] if options.quick else []
    arguments += ["--only", options.only] if options.only else []
    if options.lists_iterations:
        arguments += ["--lists-iterations", str(options.lists_iterations)]
    with tempfile.TemporaryDirectory(prefix="bench-head-") as export:
        archive = subprocess.run(
            ["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", export], input=archive.stdout, check=True)
        command = [PYTHON, str(Path(export) / "bench" / "run_all.py"), *arguments]
        return subprocess.run(command, cwd=export, env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k cases only, fewer rounds")
    parser.add_argument("--only", help="comma-separated sections (score,contacts,...)")
    parser.add_argument(
        "--lists-iterations",
        type=int,
        help="timed rounds per database of the list benchmark (its default: 60)",
    )
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--server", default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS))
    parser.add_argument(
        "--committed",
        action="store_true",
        help="measure the last commit (an export of HEAD), not the working tree's edits",
    )
    options = parser.parse_args()
    if options.committed:
        return committed_run(options)

    problems = services_check(options.server, options.redis_url)
    if problems:
        print("bench: cannot run:\n" + "\n".join(problems), file=sys.stderr)
        return 2
    global DOC_ROOT
    DOC_ROOT = options.doc.resolve().parent.parent
    charts = options.doc.parent / "benchmarks"
    selected = benches(
        quick=options.quick,
        server=options.server,
        redis=options.redis_url,
        charts=charts,
        lists_iterations=options.lists_iterations,
    )
    if options.only:
        wanted = set(options.only.split(","))
        selected = [bench for bench in selected if bench.section in wanted]
    if any(bench.section == "lists" for bench in selected):
        load_databases_ensure(options.server, ["load10k"] if options.quick else [*LOAD_DATABASES])
    versions = server_versions(options.server, options.redis_url)
    failed = []
    for bench in selected:
        body, ok = run_one(bench, quick=options.quick, versions=versions)
        sections_write(options.doc, {bench.section: body})  # each as soon as it is known
        if not ok:
            failed.append(bench.section)
    outcome = f"; failed: {', '.join(failed)}" if failed else ""
    print(f"bench: wrote {options.doc}{outcome}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
