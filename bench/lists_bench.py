"""Every list, page 1 and a page deep in it, at each generated data size (issue 12's targets):
p50/p95 per request, and the list's query with the visibility rule against the same query
without it (the baseline), interleaved in one run. Optionally the `EXPLAIN (ANALYZE, BUFFERS)`
of each list's queries and `jit = on` against `off`, at the largest size.

Requests go through Django's test `Client` in this process (the whole middleware stack,
sessions, the access log, the API's token authentication and throttle, templates; no sockets
and no HTTP server, whose cost is the same for every list), with the production settings
(`bench.settings`) on the load databases that `manage.py generate_load_data` leaves:

    .venv/bin/python bench/lists_bench.py --databases load10k,load100k,load1m \\
        --json docs/benchmarks/lists.json --plans docs/benchmarks/plans-1m.md --jit

Each database is measured by a child process of its own (Django binds one database per
process), all of them alive at once, and their timed rounds are interleaved in time so that
the 1M/10k ratio (issue 12's "flat") does not measure how the machine's load drifted between
one database's run and the next: the parent sets each child up and warms it up, then round k
is one round of every database, one child after the other (never two at once; the first
rotating each round), each told "round" on its stdin and answering "done" on its stdout; at
"finish" a child writes its numbers (and, the last database's only, the plans and the JIT
comparison) and exits. The parent prints Markdown tables (bench/report.py). Users are chosen
from the data by what they may see: a supervisor of the largest agency with workers, and the
social worker or frontline officer of that agency with the median number of visible cases;
hotline staff of the busiest and the quietest hotline for contacts; supervisors of the longest
queue and of a short one (the shortest holding at least SHORT_QUEUE referrals); provider staff
of the busiest and the quietest inbox. A run adds rows the requests write (access log,
sessions, one API token a user, revoked at the end), never anything else.
"""

from __future__ import annotations

import argparse
import gc
import html
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urljoin, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import (  # noqa: E402
    chart_p95_by_size,
    chart_visibility_ratio,
    jit_markdown,
    lists_markdown,
    p50,
    p95,
    plans_markdown,
)

DEFAULT_SERVER = "postgres://ci:ci-password-loopback-only@127.0.0.1:5432"
# The short queue: the shortest that holds at least this many waiting referrals (below).
SHORT_QUEUE = 20
NEXT_LINK = re.compile(r"<a\b[^>]*\brel=\"next\"[^>]*>")
HREF = re.compile(r"\bhref=\"([^\"]*)\"")


def child_env(*, database_url: str, redis_url: str) -> dict[str, str]:
    """The production profile (bench.settings) on a load database, served to the test
    client's host; the throttle's rate raised so it counts every request and refuses none.
    The field keys are the ones the data was sealed with: the environment's if set, else the
    local profile's key file (var/field-keys.json), which `manage.py` uses by default."""
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "testserver",
        "CELERY_BROKER_URL": redis_url,
        "CACHE_URL": redis_url,
        "SECURE_SSL_REDIRECT": "false",
        "API_THROTTLE_RATE": "1000000/s",
    }
    names = ("FIELD_ENCRYPTION_KEYS", "FIELD_ENCRYPTION_ACTIVE_KEY", "BLIND_INDEX_KEY")
    if all(os.environ.get(name) for name in names):
        env.update({name: os.environ[name] for name in names})
        return env
    key_file = ROOT / "var" / "field-keys.json"
    if not key_file.exists():
        raise SystemExit(
            f"No field keys: set {', '.join(names)} to the keys the load data was sealed with, "
            f"or keep {key_file.relative_to(ROOT)} (the local profile's keys)."
        )
    env.update({name: str(value) for name, value in json.loads(key_file.read_text()).items()})
    return env


# --- the child: one database ------------------------------------------------------------


@dataclass
class Scenario:
    """One list, as one user, at one page: the URL the test client gets and the two
    query-level reads (the list's own queryset and the unfiltered baseline) for that page."""

    list: str
    who: str
    who_kind: str  # "wide" or "narrow": the panel of the chart
    table: str
    url: str
    client: Any
    headers: dict[str, str]
    visible: Callable[[], Any]
    baseline: Callable[[], Any]
    sees: int
    # The same page with the list's per-row annotations and related rows on one indexed
    # condition and no visibility rule (case lists, runs before 2 Dec 2026 only).
    floor: Callable[[], Any] | None = None
    # The same model's rows in the same order and page, with their related rows and none of
    # the list's per-row annotations (case lists): the baseline of the runs before 2 Dec.
    rows_only: Callable[[], Any] | None = None
    page: int = 1
    status: int = 200
    queries: int = 0
    sqls: list[str] = field(default_factory=list)
    times: dict[str, list[float]] = field(
        default_factory=lambda: {
            "request": [],
            "cpu": [],
            "visible": [],
            "baseline": [],
            "floor": [],
            "rows_only": [],
            "visible_cpu": [],
            "baseline_cpu": [],
            "floor_cpu": [],
            "rows_only_cpu": [],
        }
    )

    @property
    def reads(self) -> tuple[str, ...]:
        extra = tuple(name for name in ("floor", "rows_only") if getattr(self, name))
        return ("visible", "baseline", *extra)

    @property
    def page_label(self) -> str:
        return f"page {self.page}"

    def summary(self) -> dict[str, Any]:
        def cut(values: list[float]) -> dict[str, float] | None:
            if not values:
                return None
            return {"p50": p50(values), "p95": p95(values), "n": len(values)}

        return {
            "list": self.list,
            "who": self.who,
            "who_kind": self.who_kind,
            "sees": self.sees,
            "page": self.page,
            "page_label": self.page_label,
            "queries": self.queries,
            **{name: cut(values) for name, values in self.times.items()},
        }


class ListSpec:
    """A list: where it is, what its own queryset is and what the same list without the
    visibility rule is (same model, related rows, order and page size)."""

    def __init__(
        self,
        name: str,
        *,
        path: str | Callable[[Any], str],
        api: bool,
        table: str,
        selector: Callable[[Any], Any],
        baseline: Callable[[Any], Any],
        per_page: int,
        paged: bool = True,
        floor: Callable[[Any], Any] | None = None,
        rows_only: Callable[[Any], Any] | None = None,
    ) -> None:
        self.name, self.path, self.api, self.table = name, path, api, table
        self.selector, self.baseline, self.per_page, self.paged = (
            selector,
            baseline,
            per_page,
            paged,
        )
        self.floor, self.rows_only = floor, rows_only


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


class Collections:
    """Python's cyclic garbage collections while the timed rounds run, by generation: how
    many, and the process's CPU each took (``gc.callbacks``). A full collection walks every
    tracked object, so with the application not frozen it costs 100-160 ms of CPU inside
    whichever request crosses the threshold (docs/benchmarks.md)."""

    def __init__(self) -> None:
        self.cpu_ms: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._started = 0.0
        self.recording = False
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if not self.recording:
            return
        if phase == "start":
            self._started = time.process_time()
        else:
            self.cpu_ms[info["generation"]].append((time.process_time() - self._started) * 1000)

    def summary(self) -> dict[str, Any]:
        return {
            str(generation): {
                "count": len(times),
                "cpu_ms_total": sum(times),
                "cpu_ms_max": max(times, default=0.0),
            }
            for generation, times in self.cpu_ms.items()
        } | {"frozen": gc.get_freeze_count(), "tracked_at_end": len(gc.get_objects())}


class DatabaseRounds:
    """One database's scenarios in this process: chosen and captured when made, then warmed
    up, measured one round at a time (every scenario once, in rotating order) and summed up,
    each step when the parent asks for it."""

    def __init__(self, options: argparse.Namespace) -> None:
        import django

        django.setup()
        # As the web entry points do once the application is loaded (config/wsgi.py): the
        # loaded application is out of the collector's reach from here on.
        from config.startup import freeze_loaded_objects

        if options.freeze != "none":
            freeze_loaded_objects()
        self.collections = Collections()
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.options = options
        self.load_start = os.getloadavg()
        self.load_before: tuple[float, ...] | None = None
        self.load_after: tuple[float, ...] | None = None
        self.rounds_done = 0
        self.round_seconds: list[float] = []
        self.clients: dict[tuple[int, bool], tuple[Any, dict[str, str]]] = {}
        self.tokens: list[tuple[Any, str]] = []
        self.users, specs = _users_and_lists()
        self.scenarios: list[Scenario] = []
        for spec, who, who_kind, user in specs:
            client, headers = self.client_for(user, spec.api)
            path = spec.path(user) if callable(spec.path) else spec.path
            sees = spec.selector(user).count()
            pages = [(1, path)]
            if spec.paged:
                deep = _follow(client, headers, path, spec, options.depth)
                if deep is not None:
                    pages.append(deep)
            for page, url in pages:
                self.scenarios.append(
                    Scenario(
                        list=spec.name,
                        who=who,
                        who_kind=who_kind,
                        table=spec.table,
                        url=url,
                        client=client,
                        headers=headers,
                        visible=_page_read(spec.selector, user, spec, page),
                        baseline=_page_read(spec.baseline, user, spec, page),
                        floor=_page_read(spec.floor, user, spec, page) if spec.floor else None,
                        rows_only=(
                            _page_read(spec.rows_only, user, spec, page) if spec.rows_only else None
                        ),
                        sees=sees,
                        page=page,
                    )
                )
        # The floor: the same kind of signed-in request to a view that does nothing (no query
        # of its own), timed in the same loop: what every page costs before its list.
        _, floor_who, _, floor_user = specs[0]
        floor_client, _ = self.client_for(floor_user, False)
        self.floor = Scenario(
            list="floor: signed-in GET of an empty view",
            who=floor_who,
            who_kind="floor",
            table="",
            url="/bench/bare/",
            client=floor_client,
            headers={},
            visible=lambda: None,
            baseline=lambda: None,
            sees=0,
            status=201,
        )
        self.scenarios.append(self.floor)
        for scenario in self.scenarios:
            with CaptureQueriesContext(connection) as captured:
                _get(scenario)
            scenario.queries = len(captured.captured_queries)
            scenario.sqls = _list_queries(captured.captured_queries, scenario.table)
        print(f"{options.database}: {len(self.scenarios)} scenarios", file=sys.stderr, flush=True)

    def client_for(self, user, api: bool) -> tuple[Any, dict[str, str]]:
        from django.test import Client

        from config.tokens import api_token_create
        from tests.auth import sign_in

        if (user.pk, api) not in self.clients:
            client = Client()
            headers: dict[str, str] = {}
            if api:
                made = api_token_create(user=user, name="bench lists", days=1)
                self.tokens.append((user, made.token.prefix))
                headers = {"HTTP_AUTHORIZATION": f"Bearer {made.plaintext}"}
            else:
                sign_in(client, user)
            self.clients[(user.pk, api)] = (client, headers)
        return self.clients[(user.pk, api)]

    def warm_up(self) -> None:
        for scenario in self.scenarios:
            for _ in range(self.options.warmup):
                _get(scenario)
                for read in scenario.reads:
                    getattr(scenario, read)()
        if self.options.freeze == "all":
            # The bench's own long-lived objects (users, clients, scenarios, captured SQL),
            # which a web worker does not hold, out of the collector's reach too.
            gc.collect()
            gc.freeze()

    def round(self) -> None:
        """One timed round: every scenario's request, then its query-level reads."""
        if self.load_before is None:
            self.load_before = os.getloadavg()
            self.collections.recording = True
        round_number, scenarios = self.rounds_done, self.scenarios
        shift = round_number % len(scenarios)
        turn = scenarios[shift:] + scenarios[:shift]
        # The process sat idle while the other databases' children ran their rounds: one
        # untimed request first, so that coming first in a round is not what a scenario's
        # slowest samples measure. The same request is then timed in the round.
        _get(turn[0])
        round_started = time.perf_counter()
        for scenario in turn:
            cpu, started = time.process_time(), time.perf_counter()
            _get(scenario)
            scenario.times["request"].append(_ms_since(started))
            scenario.times["cpu"].append((time.process_time() - cpu) * 1000)
            # The query-level reads in rotating order, each timed by the clock and by this
            # process's CPU (Python's share, which a busy machine disturbs least).
            reads = scenario.reads
            turn_of_reads = round_number % len(reads)
            for read in reads[turn_of_reads:] + reads[:turn_of_reads]:
                cpu, started = time.process_time(), time.perf_counter()
                getattr(scenario, read)()
                scenario.times[read].append(_ms_since(started))
                scenario.times[f"{read}_cpu"].append((time.process_time() - cpu) * 1000)
        self.round_seconds.append(time.perf_counter() - round_started)
        self.rounds_done += 1
        self.load_after = os.getloadavg()

    def result(self) -> dict[str, Any]:
        """Every number of the rounds; then, if asked for, the plans and the JIT comparison
        (after every database's rounds, so they disturb none), and the tokens revoked."""
        options, floor = self.options, self.floor
        result: dict[str, Any] = {
            "database": options.database,
            "cases": _count("screening_case"),
            "contacts": _count("screening_contact"),
            "referrals": _count("referrals_referral"),
            "agencies": _count("screening_agency"),
            "staff": _count("screening_user"),
            # Before this database's first timed round and after its last (with other
            # databases interleaved, these bracket the whole interleaved span).
            "load_before": self.load_before or os.getloadavg(),
            "load_after": self.load_after or os.getloadavg(),
            "load_start": self.load_start,
            "iterations": self.rounds_done,
            "warmup": options.warmup,
            "depth": options.depth,
            "round_seconds": self.round_seconds,
            "freeze": options.freeze,
            "collections": self.collections.summary(),
            "postgres": _show("server_version").split()[0],
            "jit_setting": _show("jit"),
            "users": self.users,
            "scenarios": [s.summary() for s in self.scenarios if s is not floor],
            "floor": floor.summary(),
        }
        if options.explain:
            result["plans"] = [
                {**scenario.summary(), "sql": sql, "plan": _explain(sql)}
                for scenario in self.scenarios
                for sql in scenario.sqls
            ]
        if options.jit:
            result["jit"] = _jit_compare(
                [s for s in self.scenarios if s.table == "screening_case" and s.sqls],
                options.jit_iterations,
            )
        return result

    def close(self) -> None:
        from config.tokens import api_token_revoke

        for user, prefix in self.tokens:
            api_token_revoke(user=user, prefix=prefix)
        self.tokens = []


# --- the round protocol between the parent and its children -------------------------------

# One command a line on the child's stdin, one answer a line on its stdout: the child says
# READY once set up; WARMUP and ROUND are each answered DONE when done; FINISH makes the
# child write its numbers to --out, answer FINISHED and exit. Only one child works at a time.
READY, WARMUP, ROUND, DONE, FINISH, FINISHED = (
    "ready",
    "warmup",
    "round",
    "done",
    "finish",
    "finished",
)


def serve(handlers: dict[str, Callable[[], None]], commands: TextIO, answers: TextIO) -> bool:
    """The child's side: READY, then each command's handler run and answered in turn. True
    once FINISH has been handled, False if the parent went away (stdin closed) before."""

    def answer(word: str) -> None:
        answers.write(word + "\n")
        answers.flush()

    answer(READY)
    for line in commands:
        command = line.strip()
        if command not in handlers:
            raise SystemExit(f"lists bench child: unknown command {command!r}")
        handlers[command]()
        if command == FINISH:
            answer(FINISHED)
            return True
        answer(DONE)
    return False


class Child:
    """The parent's side of one child: a process measuring one database, told what to do one
    command at a time over its stdin and answering on its stdout (its stderr is the
    terminal's, for its progress)."""

    def __init__(self, name: str, command: list[str], *, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.expect(READY)

    def ask(self, command: str) -> float:
        """Send `command`, wait for its answer: the seconds it took."""
        started = time.perf_counter()
        try:
            self.process.stdin.write(command + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # the child is gone: expect() says how it ended
        self.expect(FINISHED if command == FINISH else DONE)
        return time.perf_counter() - started

    def expect(self, word: str) -> None:
        line = self.process.stdout.readline()
        if line.strip() != word:
            if line:  # something else on the protocol's line: a child gone wrong
                self.stop()
            else:  # its stdout closed: the child is ending, say how
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.stop()
            code = self.process.returncode
            raise SystemExit(
                f"the list benchmark on {self.name} answered {line.strip()!r} instead of "
                f"{word!r} (exit {code})"
            )

    def finish(self) -> None:
        self.ask(FINISH)
        code = self.process.wait()
        if code != 0:
            raise SystemExit(f"the list benchmark on {self.name} failed (exit {code})")
        self.seconds = time.perf_counter() - self.started

    def stop(self) -> None:
        """End this child if it is still running (after another one failed)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def interleave(
    children: list[Any], rounds: int, *, progress: Callable[[int], None] | None = None
) -> list[list[dict[str, Any]]]:
    """Round k is one round of every child, one child after the other, never two at once;
    the child that goes first moves on by one each round, so that no database is always
    measured first (or always right after the same one). Per round, per child in the order
    run: its name, position, seconds and the load average as it began."""
    schedule = []
    for round_number in range(rounds):
        shift = round_number % len(children)
        turn = []
        for position, child in enumerate(children[shift:] + children[:shift]):
            load = os.getloadavg()[0]
            turn.append(
                {
                    "database": child.name,
                    "position": position,
                    "load": load,
                    "seconds": child.ask(ROUND),
                }
            )
        schedule.append(turn)
        if progress:
            progress(round_number + 1)
    return schedule


def child_main(options: argparse.Namespace) -> int:
    """A child: set up on its database, then do what the parent says on stdin. Its stdout is
    the protocol's alone: anything else printed goes to stderr."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    options.database = options.child
    rounds = DatabaseRounds(options)
    try:

        def finish() -> None:
            options.out.write_text(json.dumps(rounds.result(), indent=1, default=str))

        finished = serve(
            {WARMUP: rounds.warm_up, ROUND: rounds.round, FINISH: finish}, sys.stdin, answers
        )
    finally:
        rounds.close()
    return 0 if finished else 1


def _get(scenario: Scenario):
    response = scenario.client.get(scenario.url, secure=True, **scenario.headers)
    if response.status_code != scenario.status:
        raise SystemExit(
            f"{scenario.list} as {scenario.who} ({scenario.page_label}) answered "
            f"{response.status_code}"
        )
    return response


def _follow(client, headers, path: str, spec: ListSpec, depth: int):
    """Follow the list's `next` links from page 1 up to page `depth + 1`: (page number,
    URL), or None for a list of two pages or fewer. A list that ends sooner gives its last
    full page (one with a `next` link: a keyset page is full when there is more), not its
    last page, which may hold one row: a deep page at 10k cases is then compared with one at
    1M for the same number of rows (before 2 Dec 2026 the last page was taken, and the
    quietest inbox compared one row at 10k with a full page at 1M)."""
    url, page = path, 1
    previous = None
    while page <= depth:
        response = client.get(url, secure=True, **headers)
        if response.status_code != 200:
            raise SystemExit(f"{spec.name} at {url.split('?')[0]} answered {response.status_code}")
        following = _next_url(response, url, api=spec.api)
        if following is None:  # the last page: the one before it was full
            url, page = previous if previous is not None else (None, 1)
            break
        previous = (url, page)
        url, page = following, page + 1
    return None if page == 1 else (page, url)


def _next_url(response, current: str, *, api: bool) -> str | None:
    if api:
        link = response.json().get("next")
    else:
        tag = NEXT_LINK.search(response.content.decode())
        link = None
        if tag and (href := HREF.search(tag.group(0))):
            link = html.unescape(href.group(1))
    if not link:
        return None
    parts = urlsplit(urljoin(current, link))
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _page_read(make: Callable[[Any], Any], user, spec: ListSpec, page: int) -> Callable[[], Any]:
    """A read of page `page` of `make(user)` through `config.keyset.keyset_rows` (how the
    lists are evaluated): after the key of the last row of the list's page `page - 1`, for
    the list and its baseline alike. An unpaged list is read whole."""
    if not spec.paged:
        return lambda: list(make(user))
    from config.keyset import keyset_ordering, keyset_rows, row_key

    ordering = keyset_ordering(spec.selector(user))
    key = None
    for _ in range(page - 1):
        read = keyset_rows(spec.selector(user), ordering, after=key, limit=spec.per_page)
        key = row_key(read.rows[-1], ordering)
    return lambda: keyset_rows(make(user), ordering, after=key, limit=spec.per_page)


def _list_queries(captured: list[dict[str, str]], table: str) -> list[str]:
    """The request's queries that read the list itself: those selecting from its table
    (one, or one per part of a merged list)."""
    found = []
    for query in captured:
        sql = query["sql"]
        # A merged list is one UNION ALL of parenthesised SELECTs.
        if sql.lstrip("( \n").upper().startswith(("SELECT", "WITH")) and re.search(
            rf'\bFROM "{re.escape(table)}"', sql
        ):
            if " COUNT(" in sql.upper() and " LIMIT " not in sql.upper():
                continue
            found.append(sql)
    return found


def _count(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 (fixed table names)
        return cursor.fetchone()[0]


def _show(setting: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {setting}")
        return cursor.fetchone()[0]


def _explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def _jit_compare(scenarios: list[Scenario], iterations: int) -> list[dict[str, Any]]:
    """The case lists' queries as Django sent them, with `jit` on and off alternating on one
    connection (the order of the two swapped every round)."""
    from django.db import connection

    rows = []
    with connection.cursor() as cursor:
        for scenario in scenarios:
            cost, used = 0.0, False
            for sql in scenario.sqls:
                cursor.execute("SET jit = on")
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
                plan = cursor.fetchone()[0]
                plan = json.loads(plan) if isinstance(plan, str) else plan
                cost = max(cost, plan[0]["Plan"]["Total Cost"])
                used = used or "JIT" in plan[0]
            times: dict[str, list[float]] = {"on": [], "off": []}
            for _ in range(3):  # warm-up
                for sql in scenario.sqls:
                    cursor.execute(sql)
                    cursor.fetchall()
            for round_number in range(iterations):
                for setting in ("on", "off") if round_number % 2 == 0 else ("off", "on"):
                    cursor.execute(f"SET jit = {setting}")
                    started = time.perf_counter()
                    for sql in scenario.sqls:
                        cursor.execute(sql)
                        cursor.fetchall()
                    times[setting].append(_ms_since(started))
            cursor.execute("RESET jit")
            rows.append(
                {
                    "list": scenario.list,
                    "who": scenario.who,
                    "page_label": scenario.page_label,
                    "cost": cost,
                    "jit_used": used,
                    **{
                        setting: {"p50": p50(values), "p95": p95(values)}
                        for setting, values in times.items()
                    },
                }
            )
    return rows


def _users_and_lists() -> tuple[dict[str, Any], list[tuple[ListSpec, str, str, Any]]]:
    """The users, chosen from the data by what they may see, and every list as each of them."""
    from django.db.models import Count

    from referrals.models import INBOX_STATUSES, Referral
    from referrals.selectors import (
        INBOX_ORDER,
        QUEUE_ORDER,
        inbox_columns,
        referral_inbox,
        referral_queue,
    )
    from screening.contacts import contact_list, contact_list_columns
    from screening.models import Case, Contact, User
    from screening.roles import Role
    from screening.selectors import agency_case_list, case_list, my_case_list, screening_list

    def member(agency_id: int, *roles: Role, exclude: tuple[Role, ...] = ()):
        staff = (
            User.objects.filter(agency_id=agency_id, is_active=True, groups__name__in=roles)
            .exclude(groups__name__in=exclude)
            .distinct()
            .order_by("pk")
        )
        return staff

    def by_size(queryset, field: str) -> list[tuple[int, int]]:
        return [
            (row[field], row["n"])
            for row in queryset.values(field).annotate(n=Count("pk")).order_by("-n", field)
            if row[field] is not None
        ]

    agencies = by_size(Case.objects.all(), "agency_id")
    if not agencies:
        raise SystemExit("This database holds no cases: fill it with manage.py generate_load_data.")
    # A hotline can own the most cases (those its contacts became) but has no social workers
    # or frontline officers: the largest agency that has both kinds of user.
    workers = (Role.SOCIAL_WORKER, Role.FRONTLINE_OFFICER)
    big_agency, big_cases = next(
        (
            (agency, n)
            for agency, n in agencies
            if member(agency, Role.SUPERVISOR).exists()
            and member(agency, *workers, exclude=(Role.SUPERVISOR,)).exists()
        ),
        agencies[0],
    )
    supervisor = member(big_agency, Role.SUPERVISOR).first()
    if supervisor is None:
        raise SystemExit("The agency owning most cases has no active supervisor.")
    candidates = list(member(big_agency, *workers, exclude=(Role.SUPERVISOR,))[:40])
    seen = sorted(
        ((Case.objects.visible_to(worker).count(), worker.pk, worker) for worker in candidates),
        key=lambda item: item[:2],
    )
    seen = [item for item in seen if item[0] > 0]
    if not seen:
        raise SystemExit("No worker of the agency owning most cases sees any case.")
    worker = seen[len(seen) // 2][2]
    small_agency = next(
        (agency for agency, _ in reversed(agencies) if member(agency, Role.SUPERVISOR).exists()),
        None,
    )
    small_supervisor = member(small_agency, Role.SUPERVISOR).first() if small_agency else None

    hotlines = [
        (agency, n)
        for agency, n in by_size(Contact.objects.all(), "agency_id")
        if member(agency, Role.HOTLINE_STAFF).exists()
    ]
    queues = [
        (agency, n)
        for agency, n in by_size(
            Referral.objects.filter(queue_rank__isnull=False), "case_agency_id"
        )
        if member(agency, Role.SUPERVISOR).exists()
    ]
    inboxes = [
        (agency, n)
        for agency, n in by_size(
            Referral.objects.filter(status__in=INBOX_STATUSES), "provider_agency_id"
        )
        if member(agency, Role.PROVIDER_STAFF).exists()
    ]
    case = (
        Case.objects.visible_to(worker)
        .filter(agency_id=big_agency)
        .annotate(n=Count("screenings"))
        .order_by("-n", "pk")
        .first()
    )

    # The baseline of a case list is its own query without the visibility filter: every
    # case, with the same per-row annotations (what the user may do with each row: columns,
    # not a filter), related rows, order and page. `rows_only` drops the annotations too
    # (the baseline of the runs before 2 Dec 2026), shown beside it.
    all_cases = lambda user: Case.objects.with_access(user).with_related()  # noqa: E731
    rows_only = lambda user: Case.objects.with_related()  # noqa: E731
    specs = [
        ListSpec(
            "API cases",
            path="/api/v1/cases/",
            api=True,
            table="screening_case",
            selector=lambda user: case_list(user=user),
            baseline=all_cases,
            rows_only=rows_only,
            per_page=50,
        ),
        ListSpec(
            "web my cases",
            path="/",
            api=False,
            table="screening_case",
            selector=lambda user: my_case_list(user=user),
            baseline=all_cases,
            rows_only=rows_only,
            per_page=25,
        ),
        ListSpec(
            "web agency cases",
            path="/cases/agency/",
            api=False,
            table="screening_case",
            selector=lambda user: agency_case_list(user=user),
            baseline=all_cases,
            rows_only=rows_only,
            per_page=25,
        ),
        ListSpec(
            "API contacts",
            path="/api/v1/contacts/",
            api=True,
            table="screening_contact",
            selector=lambda user: contact_list(user=user),
            baseline=lambda user: contact_list_columns(Contact.objects.all()),
            per_page=50,
        ),
        ListSpec(
            "web case page (its screenings)",
            path=lambda user: f"/cases/{case.reference}/",
            api=False,
            table="screening_screening",
            selector=lambda user: screening_list(user=user, case_reference_or_id=case.reference),
            # Without the visibility filter, but still finding the case by its reference
            # with what the access check reads beside it (what the user may do with the
            # case, columns of its row: `case_access`'s query less `visible_to`).
            baseline=lambda user: (
                Case.objects.with_access(user)
                .with_break_glass(user)
                .select_related("agency")
                .filter(reference=case.reference)
                .first()
                .screenings.select_related("instrument_version__instrument", "screener")
                .order_by("-started_at", "-pk")
            ),
            rows_only=lambda user: (
                Case.objects.get(reference=case.reference)
                .screenings.select_related("instrument_version__instrument", "screener")
                .order_by("-started_at", "-pk")
            ),
            per_page=0,
            paged=False,
        ),
        ListSpec(
            "API referral queue",
            path="/api/v1/referrals/queue/",
            api=True,
            table="referrals_referral",
            selector=lambda user: referral_queue(user=user),
            baseline=lambda user: (
                Referral.objects.filter(queue_rank__isnull=False)
                .select_related("case", "provider")
                .order_by(*QUEUE_ORDER)
            ),
            per_page=50,
        ),
        ListSpec(
            "web referral queue",
            path="/referrals/queue/",
            api=False,
            table="referrals_referral",
            selector=lambda user: referral_queue(user=user),
            baseline=lambda user: (
                Referral.objects.filter(queue_rank__isnull=False)
                .select_related("case", "provider")
                .order_by(*QUEUE_ORDER)
            ),
            per_page=25,
        ),
        ListSpec(
            "web provider inbox",
            path="/referrals/inbox/",
            api=False,
            table="referrals_referral",
            selector=lambda user: referral_inbox(user=user),
            baseline=lambda user: inbox_columns(
                Referral.objects.filter(status__in=INBOX_STATUSES)
            ).order_by(*INBOX_ORDER),
            per_page=25,
        ),
    ]

    def staff_of(sizes: list[tuple[int, int]], index: int, role: Role):
        return member(sizes[index][0], role).first() if sizes else None

    hotline_busy = staff_of(hotlines, 0, Role.HOTLINE_STAFF)
    hotline_quiet = staff_of(hotlines, -1, Role.HOTLINE_STAFF)
    queue_long = staff_of(queues, 0, Role.SUPERVISOR)
    # The short queue is the shortest holding at least SHORT_QUEUE so that its page is
    # filled alike at every size: the shortest of all held 2 referrals at 10k and 21 at 1M,
    # and the ratio between them measured the page's length more than the database's size.
    short = next(
        (index for index in range(len(queues) - 1, -1, -1) if queues[index][1] >= SHORT_QUEUE),
        0,
    )
    queue_short = staff_of(queues, short, Role.SUPERVISOR)
    inbox_busy = staff_of(inboxes, 0, Role.PROVIDER_STAFF)
    inbox_quiet = staff_of(inboxes, -1, Role.PROVIDER_STAFF)
    case_page = "web case page (its screenings)"
    wide, narrow = "wide", "narrow"
    chosen = [
        ("API cases", "supervisor, largest agency", wide, supervisor),
        ("API cases", "worker, largest agency", narrow, worker),
        ("web my cases", "supervisor, largest agency", wide, supervisor),
        ("web my cases", "worker, largest agency", narrow, worker),
        ("web agency cases", "supervisor, largest agency", wide, supervisor),
        ("web agency cases", "supervisor, smallest agency", narrow, small_supervisor),
        ("API contacts", "hotline staff, busiest hotline", wide, hotline_busy),
        ("API contacts", "hotline staff, quietest hotline", narrow, hotline_quiet),
        (case_page, "supervisor, largest agency", wide, case and supervisor),
        (case_page, "worker, largest agency", narrow, case and worker),
        ("API referral queue", "supervisor, longest queue", wide, queue_long),
        ("API referral queue", "supervisor, short queue", narrow, queue_short),
        ("web referral queue", "supervisor, longest queue", wide, queue_long),
        ("web referral queue", "supervisor, short queue", narrow, queue_short),
        ("web provider inbox", "provider staff, busiest inbox", wide, inbox_busy),
        ("web provider inbox", "provider staff, quietest inbox", narrow, inbox_quiet),
    ]
    named = {spec.name: spec for spec in specs}
    plan = [(named[name], who, kind, user) for name, who, kind, user in chosen if user]
    users = {
        "largest agency cases": big_cases,
        "worker candidates (visible cases)": [count for count, _, _ in seen],
        "worker sees": seen[len(seen) // 2][0],
        "case page screenings": getattr(case, "n", 0),
        "hotline contacts (busiest, quietest)": [hotlines[0][1], hotlines[-1][1]]
        if hotlines
        else [],
        "queue lengths (longest, short)": [queues[0][1], queues[short][1]] if queues else [],
        "inbox sizes (busiest, quietest)": [inboxes[0][1], inboxes[-1][1]] if inboxes else [],
    }
    return users, plan


# --- the parent: every database, then the report ----------------------------------------


def start_child(name: str, options: argparse.Namespace, *, out: Path, last: bool) -> Child:
    """A child on database `name`, set up and waiting for the parent's first command; the
    plans and the JIT comparison only in the last database's child (the largest)."""
    env = {
        **os.environ,
        **child_env(database_url=f"{options.server}/{name}", redis_url=options.redis_url),
    }
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        name,
        "--out",
        str(out),
        "--warmup",
        str(options.warmup),
        "--depth",
        str(options.depth),
        "--jit-iterations",
        str(options.jit_iterations),
        "--freeze",
        options.freeze,
    ]
    if last and options.plans:
        command.append("--explain")
    if last and options.jit:
        command.append("--jit")
    return Child(name, command, env=env, cwd=ROOT)


def run_databases(
    names: list[str], options: argparse.Namespace
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every database's timed rounds interleaved in time (see `interleave`), each database in
    a child of its own (Django binds one database per process), all of them alive at once but
    only one working at a time: set up one after the other, warmed up one after the other,
    then round by round, then finished (plans and JIT last) one after the other. The runs,
    and what the interleaved span was (its rounds, seconds and load averages)."""
    children: list[Child] = []
    with tempfile.TemporaryDirectory(prefix="lists-bench-") as folder:
        try:
            for index, name in enumerate(names):
                print(f"lists: setting up {name}", file=sys.stderr, flush=True)
                children.append(
                    start_child(
                        name,
                        options,
                        out=Path(folder) / f"{name}.json",
                        last=index == len(names) - 1,
                    )
                )
            for child in children:
                print(f"lists: warming up {child.name}", file=sys.stderr, flush=True)
                child.ask(WARMUP)

            def progress(done: int) -> None:
                if done % 5 == 0 or done == options.iterations:
                    print(
                        f"lists: round {done}/{options.iterations} of {', '.join(names)}",
                        file=sys.stderr,
                        flush=True,
                    )

            load_before, started = os.getloadavg(), time.perf_counter()
            schedule = interleave(children, options.iterations, progress=progress)
            span = {
                "databases": names,
                "rounds": options.iterations,
                "seconds": time.perf_counter() - started,
                "load_before": load_before,
                "load_after": os.getloadavg(),
            }
            runs = []
            for child in children:
                print(f"lists: finishing {child.name}", file=sys.stderr, flush=True)
                child.finish()
                run = json.loads((Path(folder) / f"{child.name}.json").read_text())
                run["seconds"] = child.seconds
                run["rounds"] = [
                    {"round": number, **{k: v for k, v in turn.items() if k != "database"}}
                    for number, turns in enumerate(schedule)
                    for turn in turns
                    if turn["database"] == child.name
                ]
                run["interleaved"] = span
                runs.append(run)
        finally:
            for child in children:
                child.stop()
    return runs, span


def database_missing(server: str, names: list[str]) -> list[str]:
    import psycopg

    with psycopg.connect(f"{server}/postgres", connect_timeout=5) as connection:
        present = {
            row[0] for row in connection.execute("SELECT datname FROM pg_database").fetchall()
        }
    return [name for name in names if name not in present]


def _run_line(run: dict[str, Any]) -> str:
    """What a database held, who was chosen and what they see, and how busy the machine was."""
    users = run["users"]
    seen = users["worker candidates (visible cases)"]

    def pair(name: str, what: str) -> str:
        values = users.get(name) or []
        return f"{what} {values[0]:,} and {values[-1]:,}" if values else f"{what}: none"

    return (
        f"`{run['database']}`: {run['cases']:,} cases, {run['contacts']:,} contacts, "
        f"{run['referrals']:,} referrals, {run['agencies']} agencies, {run['staff']:,} staff. "
        f"The largest agency owns {users['largest agency cases']:,} cases; its worker sees "
        f"{users['worker sees']:,} (the median of {len(seen)} workers, {seen[0]:,} to "
        f"{seen[-1]:,}); the case page's case has {users['case page screenings']} screenings; "
        f"{pair('hotline contacts (busiest, quietest)', 'contacts of the hotlines')}; "
        f"{pair('queue lengths (longest, short)', 'queue lengths')}; "
        f"{pair('inbox sizes (busiest, quietest)', 'inbox sizes')}. "
        f"{run['iterations']} rounds after {run['warmup']} warm-up requests a scenario, deep "
        f"pages after {run['depth']} next links; load average {run['load_before'][0]:.2f} "
        f"before, {run['load_after'][0]:.2f} after{_rounds_note(run)}.{_collections_note(run)}"
    )


def _collections_note(run: dict[str, Any]) -> str:
    """The garbage collector during the timed rounds (runs saved before it was recorded
    have nothing to say)."""
    collections = run.get("collections")
    if not collections:
        return ""
    frozen = {
        "all": "the application and the bench's own objects frozen",
        "app": "the application frozen as config/wsgi.py does",
        "none": "nothing frozen",
    }[run.get("freeze", "none")]
    full, young = collections["2"], collections["1"]
    return (
        f" Garbage collections in the timed rounds ({frozen}, {collections['frozen']:,} "
        f"objects): {full['count']} full, the longest {full['cpu_ms_max']:.1f} ms of CPU; "
        f"{young['count']} of generation 1, the longest {young['cpu_ms_max']:.1f} ms."
    )


def _rounds_note(run: dict[str, Any]) -> str:
    """How long the database's rounds took and how busy the machine was as they began
    (runs saved before the rounds were interleaved have only the child's seconds)."""
    rounds = run.get("rounds")
    if not rounds:
        return f" ({run['seconds']:.0f} s)"
    loads = [turn["load"] for turn in rounds]
    return (
        f" its rounds ({sum(turn['seconds'] for turn in rounds):.0f} s of its own, load "
        f"{min(loads):.2f}-{max(loads):.2f} as they began)"
    )


def _span_line(span: dict[str, Any]) -> str:
    names = ", ".join(f"`{name}`" for name in span["databases"])
    what = (
        f"The databases' rounds interleaved ({names}, one child working at a time, the first "
        "of each round rotating)"
        if len(span["databases"]) > 1
        else f"The rounds of {names} alone"
    )
    return (
        f"{what}: {span['rounds']} rounds in {span['seconds']:.0f} s, load average "
        f"{span['load_before'][0]:.2f} before, {span['load_after'][0]:.2f} after."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="load10k,load100k,load1m")
    parser.add_argument("--server", default=os.environ.get("BENCH_SERVER_URL", DEFAULT_SERVER))
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--iterations", type=int, default=60, help="timed rounds per database")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per scenario")
    parser.add_argument("--depth", type=int, default=20, help="next links followed (deep page)")
    parser.add_argument("--jit", action="store_true", help="jit on/off at the largest size")
    parser.add_argument(
        "--freeze",
        choices=("all", "app", "none"),
        default="all",
        help="gc.freeze: the application as config/wsgi.py does and the bench's own objects "
        "after warm-up (all, the default), the application only (app), or nothing (none)",
    )
    parser.add_argument("--jit-iterations", type=int, default=30)
    parser.add_argument("--json", type=Path, help="write every number here")
    parser.add_argument("--plans", type=Path, help="write EXPLAIN plans (largest size) here")
    parser.add_argument("--charts", type=Path, help="write PNG charts into this folder")
    parser.add_argument("--report-only", action="store_true", help="redraw from --json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--explain", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.report_only:
        # Tables and charts again from a run's saved numbers (--json), measuring nothing.
        saved = json.loads(options.json.read_text())
        runs = saved["runs"]
        if options.charts:
            chart_p95_by_size(runs, options.charts / "lists-p95.png")
            chart_visibility_ratio(runs, options.charts / "lists-visibility-ratio.png")
        print(_markdown(runs, saved.get("interleaved")))
        return 0
    if options.child:
        return child_main(options)

    names = [name.strip() for name in options.databases.split(",") if name.strip()]
    missing = database_missing(options.server, names)
    if missing:
        print(
            f"missing load database(s): {', '.join(missing)}; make them with\n"
            + "\n".join(
                f"  DATABASE_URL={options.server}/{name} .venv/bin/python manage.py migrate && "
                f"DATABASE_URL={options.server}/{name} .venv/bin/python manage.py "
                f"generate_load_data --cases N"
                for name in missing
            ),
            file=sys.stderr,
        )
        return 2
    runs, span = run_databases(names, options)
    report = {"runs": runs, "interleaved": span}
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(json.dumps(report, indent=1, default=str))
    largest = max(runs, key=lambda run: run["cases"])
    if options.plans and largest.get("plans"):
        options.plans.parent.mkdir(parents=True, exist_ok=True)
        options.plans.write_text(
            plans_markdown(
                largest["plans"],
                database=largest["database"],
                settings=f"PostgreSQL {largest['postgres']}, jit={largest['jit_setting']}",
            )
        )
    if options.charts:
        chart_p95_by_size(runs, options.charts / "lists-p95.png")
        chart_visibility_ratio(runs, options.charts / "lists-visibility-ratio.png")
    print(_markdown(runs, span))
    return 0


def _markdown(runs: list[dict[str, Any]], span: dict[str, Any] | None = None) -> str:
    largest = max(runs, key=lambda run: run["cases"])
    parts = [lists_markdown(runs)]
    if largest.get("jit"):
        parts.append(jit_markdown(largest["jit"], largest["cases"]))
    lines = [f"- {_run_line(run)}" for run in runs]
    if span:
        lines.append(f"- {_span_line(span)}")
    parts.append("\n".join(lines))
    return "\n\n".join(parts)


if __name__ == "__main__":
    sys.exit(main())
