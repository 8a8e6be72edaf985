"""The embedded demo in one command (`make run`): the web server, a Celery worker and beat
on the filesystem broker, and the built-in webhook receiver, each a process of its own with
its output prefixed by its name (and kept in var/log/). Ctrl-C, or any one of them stopping,
stops them all.

Why processes and not eager Celery: see config/settings/local.py and docs/embedded-demo.md.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_GRACE_SECONDS = 10


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    reader: threading.Thread | None = field(default=None, repr=False)


class Command(BaseCommand):
    help = (
        "Run the embedded demo: web server, Celery worker and beat, webhook receiver "
        "(local mode only). Ctrl-C stops them all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="web server port (8000)")
        parser.add_argument(
            "--noreload", action="store_true", help="do not restart the web server on edits"
        )

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_SEEDS_ALLOWED", False):
            raise CommandError("run_demo is for local mode only (DEMO_SEEDS_ALLOWED is off)")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise CommandError(
                "CELERY_TASK_ALWAYS_EAGER is on: a worker would get nothing; unset it"
            )
        self.log_dir = Path(settings.LOCAL_VAR_DIR) / "log"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.output_lock = threading.Lock()
        port = options["port"]
        manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
        celery = [sys.executable, "-m", "celery", "-A", "config.celery:app"]
        web = [*manage, "runserver", f"127.0.0.1:{port}"]
        if options["noreload"]:
            web.append("--noreload")
        children = [
            Child("web", web),
            # Threads, not forked children: SQLite and a laptop; two at a time is plenty.
            Child(
                "worker",
                [
                    *celery,
                    "worker",
                    "--pool=threads",
                    "--concurrency=2",
                    "--loglevel=INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"demo-{os.getpid()}@localhost",
                ],
            ),
            Child("beat", [*celery, "beat", "--loglevel=INFO"]),
            Child("receiver", [*manage, "demo_receiver"]),
        ]
        self.stdout.write(
            f"Demo running: http://127.0.0.1:{port}/  (mail: /demo/mail/, webhooks received: "
            f"/demo/webhooks/; logs in {self.log_dir}). Ctrl-C stops everything."
        )
        stopping = threading.Event()

        def on_signal(signum, frame):  # noqa: ARG001 - signal handler signature
            stopping.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        try:
            for child in children:
                self._start(child, env)
            failed = None
            while not stopping.wait(0.5):
                failed = next((c for c in children if c.process.poll() is not None), None)
                if failed is not None:
                    self.stderr.write(
                        f"{failed.name} stopped (exit {failed.process.returncode}); "
                        "stopping the others"
                    )
                    break
        finally:
            self._stop_all(children)
        self.stdout.write("Demo stopped.")
        if failed is not None:
            raise CommandError(f"{failed.name} stopped unexpectedly")

    def _start(self, child: Child, env: dict[str, str]) -> None:
        # A session of its own: the terminal's Ctrl-C reaches this launcher only, which then
        # stops each child's whole group (runserver's reloader has a child of its own).
        child.process = subprocess.Popen(  # noqa: S603 - our own fixed commands
            child.command,
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
            bufsize=1,
        )
        child.reader = threading.Thread(target=self._relay, args=(child,), daemon=True)
        child.reader.start()

    def _relay(self, child: Child) -> None:
        prefix = f"{child.name:<8}| "
        with (self.log_dir / f"{child.name}.log").open("a", encoding="utf-8") as log:
            for line in child.process.stdout:
                log.write(line)
                log.flush()
                with self.output_lock:
                    sys.stdout.write(prefix + line)
                    sys.stdout.flush()

    def _stop_all(self, children: list[Child]) -> None:
        running = [c for c in children if c.process is not None and c.process.poll() is None]
        for child in running:
            self._signal(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in running:
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{child.name} did not stop in {STOP_GRACE_SECONDS}s: killed")
                self._signal(child, signal.SIGKILL)
                child.process.wait()
        for child in children:
            if child.reader is not None:
                child.reader.join(timeout=2)

    @staticmethod
    def _signal(child: Child, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.process.pid, signum)
