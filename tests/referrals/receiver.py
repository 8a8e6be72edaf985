"""A local webhook receiver for tests: an `http.server` on 127.0.0.1 in a thread that checks
signatures, records every delivery and can be told to fail the first N requests. Given a TLS
context it answers https."""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from referrals.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class Delivery:
    path: str
    idempotency_key: str
    body: dict
    signature_ok: bool
    host: str = ""  # the Host header


@dataclass
class Receiver:
    secret: str
    fail_first: int = 0
    fail_status: int = 500
    delay: float = 0.0  # seconds each answer takes
    redirect_to: str = ""  # a Location header on the failing answers (e.g. with a 302)
    deliveries: list[Delivery] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    @property
    def distinct_keys(self) -> set[str]:
        with self.lock:
            return {d.idempotency_key for d in self.deliveries}

    @property
    def attempts(self) -> int:
        with self.lock:
            return len(self.statuses)

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.distinct_keys) >= count:
                return True
            time.sleep(0.1)
        return len(self.distinct_keys) >= count


def start_receiver(
    secret: str, *, tls: ssl.SSLContext | None = None, **options
) -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver(secret=secret, **options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if receiver.delay:
                time.sleep(receiver.delay)
            with receiver.lock:
                failing = len(receiver.statuses) < receiver.fail_first
                status = receiver.fail_status if failing else 200
                receiver.statuses.append(status)
                if not failing:
                    receiver.deliveries.append(
                        Delivery(
                            path=self.path,
                            idempotency_key=self.headers.get(IDEMPOTENCY_HEADER, ""),
                            body=json.loads(body),
                            signature_ok=verify(
                                secret=receiver.secret,
                                timestamp=self.headers.get(TIMESTAMP_HEADER),
                                body=body,
                                signature=self.headers.get(SIGNATURE_HEADER),
                                now=time.time(),
                                window_seconds=300,
                            ),
                            host=self.headers.get("Host", ""),
                        )
                    )
            self.send_response(status)
            if failing and receiver.redirect_to:
                self.send_header("Location", receiver.redirect_to)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):  # keep test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    scheme = "https" if tls is not None else "http"
    receiver.url = f"{scheme}://127.0.0.1:{server.server_address[1]}/referrals"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver, server
