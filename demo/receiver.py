"""The built-in webhook receiver of the embedded demo: a provider's system, played by a small
HTTP server on 127.0.0.1 (DEMO_RECEIVER_PORT) that `run_demo` starts in its own process.

It checks every delivery as a provider should (referrals/signing.py: the HMAC over timestamp
and body with the provider's secret, inside the replay window), answers 200 to a good one and
401 to a bad one, and records each request as a JSON file in DEMO_WEBHOOK_DIR, read by the
/demo/webhooks/ page. The path names the provider: POST /<provider slug>.

Providers named in DEMO_RECEIVER_FAIL_FIRST answer 503 to the first request of each
idempotency key, so a demo (and the delivery test) can watch a retry wait for its delay.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections, connection

from referrals.models import ServiceProvider
from referrals.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

MAX_BODY_BYTES = 1024 * 1024
REPLAY_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class Answer:
    status: int
    signature_ok: bool
    note: str


class ReceiverState:
    """What the receiver remembers between requests: keys it has failed once already."""

    def __init__(
        self,
        *,
        folder: Path,
        fail_first: set[str],
        refuse: set[str] | None = None,
        quiet: bool = False,
        secrets: dict[str, str] | None = None,
    ) -> None:
        self.folder = folder
        self.quiet = quiet
        # Known up front when the receiver runs inside another process's test or seeding (no
        # database access from its thread); else read per request.
        self.secrets = secrets
        self.fail_first = fail_first
        # Idempotency keys answered 422 (seed_demo's example of a failed delivery).
        self.refuse = refuse if refuse is not None else set()
        self.failed_once: set[str] = set()
        self.lock = threading.Lock()

    def should_fail(self, slug: str, key: str) -> bool:
        if slug not in self.fail_first:
            return False
        with self.lock:
            if key in self.failed_once:
                return False
            self.failed_once.add(key)
            return True


def provider_secret(slug: str) -> str | None:
    """The webhook secret of the provider with this slug, None if there is no such webhook
    provider (the receiver stands in for every demo provider at once)."""
    close_old_connections()
    try:
        provider = (
            ServiceProvider.objects.filter(slug=slug, channel=ServiceProvider.Channel.WEBHOOK)
            .only("webhook_secret")
            .first()
        )
        return provider.webhook_secret if provider else None
    finally:
        connection.close()


def answer_for(state: ReceiverState, *, slug: str, headers: dict[str, str], body: bytes) -> Answer:
    secret = state.secrets.get(slug) if state.secrets is not None else provider_secret(slug)
    if secret is None:
        return Answer(404, False, "no webhook provider with this address")
    ok = verify(
        secret=secret,
        timestamp=headers.get(TIMESTAMP_HEADER),
        body=body,
        signature=headers.get(SIGNATURE_HEADER),
        now=time.time(),
        window_seconds=REPLAY_WINDOW_SECONDS,
    )
    if not ok:
        return Answer(401, False, "signature or timestamp did not verify")
    if headers.get(IDEMPOTENCY_HEADER, "") in state.refuse:
        return Answer(422, True, "refused on purpose (seed_demo's example of a failed delivery)")
    if state.should_fail(slug, headers.get(IDEMPOTENCY_HEADER, "")):
        return Answer(503, True, "failed on purpose (first attempt, DEMO_RECEIVER_FAIL_FIRST)")
    return Answer(200, True, "accepted")


def record(
    state: ReceiverState, *, slug: str, headers: dict[str, str], body: bytes, answer: Answer
):
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    entry = {
        "received_at": time.time(),
        "provider": slug,
        "idempotency_key": headers.get(IDEMPOTENCY_HEADER, ""),
        "status": answer.status,
        "signature_ok": answer.signature_ok,
        "note": answer.note,
        "body": payload,
    }
    state.folder.mkdir(parents=True, exist_ok=True)
    name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.json"
    temporary = state.folder / f".{name}"
    temporary.write_text(json.dumps(entry, sort_keys=True), encoding="utf-8")
    temporary.rename(state.folder / name)  # never a half-written file for the page


def _handler(state: ReceiverState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "demo-receiver/1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            slug = self.path.strip("/").split("?")[0]
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY_BYTES:
                self._reply(413)
                return
            body = self.rfile.read(length)
            headers = {
                name: self.headers.get(name, "")
                for name in (TIMESTAMP_HEADER, SIGNATURE_HEADER, IDEMPOTENCY_HEADER)
            }
            answer = answer_for(state, slug=slug, headers=headers, body=body)
            if answer.status != 404:
                record(state, slug=slug, headers=headers, body=body, answer=answer)
            self._reply(answer.status)

        def _reply(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's name
            if not state.quiet:  # one write per line: the handler threads share stdout
                sys.stdout.write(f"receiver: {format % args}\n")
                sys.stdout.flush()

    return Handler


def webhook_secrets() -> dict[str, str]:
    """Every webhook provider's secret by slug, for a receiver that must not query."""
    providers = ServiceProvider.objects.filter(channel=ServiceProvider.Channel.WEBHOOK)
    return {provider.slug: provider.webhook_secret for provider in providers}


def receiver_state(**options) -> ReceiverState:
    return ReceiverState(
        folder=Path(settings.DEMO_WEBHOOK_DIR),
        fail_first=set(settings.DEMO_RECEIVER_FAIL_FIRST),
        **options,
    )


def receiver_server(state: ReceiverState, *, port: int | None = None) -> ThreadingHTTPServer:
    """Bound to 127.0.0.1 (raises OSError when the port is taken); serve it with
    `serve_forever`."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", settings.DEMO_RECEIVER_PORT if port is None else port), _handler(state)
    )
    server.daemon_threads = True
    return server


def receiver_serve(*, port: int | None = None) -> None:
    """Serve until interrupted (run_demo runs this in a process of its own)."""
    server = receiver_server(receiver_state(), port=port)
    print(f"receiver: listening on http://127.0.0.1:{server.server_port}/", flush=True)
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
