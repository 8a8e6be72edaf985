"""Where a provider's webhook may point, and the connection that goes there.

A webhook URL comes from the provider directory, and a provider's endpoint may be
compromised (SECURITY.md): it must not be able to make this service post case data to
itself, its internal network or a cloud metadata address (server-side request forgery). With
`REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS` on (production) a webhook must be https, and every
address its host resolves to must be public: not loopback, private, shared, link-local,
multicast, reserved or unspecified, IPv4 or IPv6, an IPv4 address inside IPv6 included.

It is checked when a provider is saved (`ServiceProvider.clean`) and again each time a
referral is sent, since DNS can change in between. At send time the host is resolved once,
every address checked, and the connection made to a checked address, the URL's host name
still going in the Host header and TLS SNI (the certificate is verified against the name):
a DNS answer that changes between the check and the connection (rebinding) is never used.

A process keeps the connections of its last sends open (HTTP keep-alive, `webhook_connection_
take` / `webhook_connection_keep`) and its TLS settings built once: a provider receiving many
referrals is not asked for a new TCP and TLS handshake each time. A kept connection is used
again only for the same scheme, host and port, and only while the address it is connected to
is among those just resolved and checked for this send; one sender at a time uses it (it is
taken out of the pool while in use), so a slow provider holds no one else's connection.

Messages name what is wrong, never the URL (its path or query may hold a token).
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache, partial
from urllib.parse import urlsplit

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64's well-known prefix (RFC 6052): a DNS64 resolver on an IPv6-only network answers
# with it for IPv4-only hosts, the IPv4 address in the last 32 bits. (The local-use prefix
# 64:ff9b:1::/48 falls under the reserved ::/8 and is refused.)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class WebhookTargetRefused(Exception):
    """The webhook URL or an address its host resolves to is not allowed; the message says
    which rule, never the URL."""


@dataclass(frozen=True)
class WebhookTarget:
    """A webhook URL taken apart, with the addresses its host resolved to (all checked)."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, sent in the request line
    addresses: tuple[str, ...]


def webhook_public_https_required() -> bool:
    return bool(getattr(settings, "REFERRAL_WEBHOOK_REQUIRE_PUBLIC_HTTPS", False))


def address_refusal(address: Address) -> str | None:
    """Why this address may not receive a webhook, or None for a public address. An IPv4
    address inside IPv6 is judged as itself: IPv4-mapped and NAT64 addresses reach exactly
    it; a 6to4 or Teredo address must pass both as itself and as IPv6."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address_refusal(address.ipv4_mapped)
        if address in _NAT64:
            return address_refusal(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        embedded = address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and (refusal := address_refusal(embedded)):
            return refusal
    for kind, flagged in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("site-local", getattr(address, "is_site_local", False)),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    ):
        if flagged:
            return kind
    if not address.is_global:  # shared address space (100.64.0.0/10) and the like
        return "non-public"
    return None


def webhook_target_resolve(url: str) -> WebhookTarget:
    """Take the URL apart, resolve its host once and check it by the rules in force; raises
    `WebhookTargetRefused`, or `OSError` when the name does not resolve."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    required = webhook_public_https_required()
    if scheme not in ("https", "http"):
        raise WebhookTargetRefused("the webhook URL is not http(s)")
    if required and scheme != "https":
        raise WebhookTargetRefused("the webhook URL must use https")
    if parts.username is not None or parts.password is not None:
        raise WebhookTargetRefused("the webhook URL must not carry a user name or password")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise WebhookTargetRefused("the webhook URL has an invalid port") from None
    if not host:
        raise WebhookTargetRefused("the webhook URL names no host")
    port = port or (443 if scheme == "https" else 80)
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise WebhookTargetRefused("the webhook host resolves to no address")
    if required:
        for text in addresses:
            refusal = address_refusal(ipaddress.ip_address(text.split("%", 1)[0]))
            if refusal:
                raise WebhookTargetRefused(f"the webhook host resolves to a {refusal} address")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return WebhookTarget(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


def webhook_url_problem(url: str) -> str | None:
    """What is wrong with a webhook URL for the rules in force, or None (when a provider is
    saved)."""
    try:
        webhook_target_resolve(url)
    except WebhookTargetRefused as error:
        return f"{str(error)[0].upper()}{str(error)[1:]}."
    except (OSError, UnicodeError):
        return "The webhook host name does not resolve."
    return None


def _connect_to_checked_address(
    target: WebhookTarget,
    _address: tuple[str, int],
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
) -> socket.socket:
    """http.client's connection hook: ignores the host name it is given and connects to the
    addresses that were checked, in the order the resolver gave them."""
    last_error: OSError | None = None
    for address in target.addresses:
        try:
            return socket.create_connection((address, target.port), timeout, source_address)
        except OSError as error:
            last_error = error
    raise last_error or OSError("no address to connect to")


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: WebhookTarget, *, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._create_connection = partial(_connect_to_checked_address, target)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: WebhookTarget, *, timeout: float) -> None:
        # SNI and certificate verification use target.host, the URL's name.
        super().__init__(target.host, target.port, timeout=timeout, context=_tls_context())
        self._create_connection = partial(_connect_to_checked_address, target)


def _tls_context() -> ssl.SSLContext:
    """The default TLS settings (certificates verified against the system's authorities),
    built once per process: loading the authorities costs more than a handshake. Built anew
    when SSL_CERT_FILE or SSL_CERT_DIR name other authorities."""
    return _tls_context_for(os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))


@lru_cache(maxsize=4)
def _tls_context_for(cert_file: str | None, cert_dir: str | None) -> ssl.SSLContext:
    return ssl.create_default_context()


def webhook_connection(target: WebhookTarget, *, timeout: float) -> http.client.HTTPConnection:
    """A new connection to `target` that only ever reaches its checked addresses. No proxy is
    used (a proxy would resolve the name again, out of the check's sight)."""
    if target.scheme == "https":
        return _CheckedHTTPSConnection(target, timeout=timeout)
    return _CheckedHTTPConnection(target, timeout=timeout)


# --- kept connections ------------------------------------------------------------------------
# A kept connection idle longer than this is closed rather than used (servers commonly close
# theirs after 60-75 s; one closed under us costs a failed write and a new connection).
KEEP_IDLE_SECONDS = 30.0
# Connections kept per process, the least recently used closed first.
KEEP_MAX = 32

_kept: OrderedDict[tuple[str, str, int], list[tuple[http.client.HTTPConnection, float]]] = (
    OrderedDict()
)
_kept_lock = threading.Lock()


def _peer_address(connection: http.client.HTTPConnection) -> str | None:
    try:
        return connection.sock.getpeername()[0] if connection.sock is not None else None
    except OSError:
        return None


def webhook_connection_take(
    target: WebhookTarget, *, timeout: float
) -> tuple[http.client.HTTPConnection, bool]:
    """A connection to `target` for one request, and whether it was kept from an earlier one
    (a kept connection the server closed meanwhile fails on first use: try once more on a
    new one). A kept one is used only while its address is one `target` checked just now."""
    key = (target.scheme, target.host, target.port)
    now = time.monotonic()
    stale: list[http.client.HTTPConnection] = []
    found = None
    with _kept_lock:
        entries = _kept.get(key, [])
        while entries and found is None:
            connection, idle_since = entries.pop()
            if now - idle_since <= KEEP_IDLE_SECONDS and _peer_address(connection) in (
                target.addresses
            ):
                found = connection
            else:
                stale.append(connection)
        if not entries:
            _kept.pop(key, None)
    for connection in stale:
        connection.close()
    if found is None:
        return webhook_connection(target, timeout=timeout), False
    found.timeout = timeout
    found.sock.settimeout(timeout)
    return found, True


def webhook_connection_keep(target: WebhookTarget, connection: http.client.HTTPConnection) -> None:
    """Give back a connection whose answer was read to the end, for the next send to the
    same target; one the server closes (or that is no longer connected) is closed."""
    if connection.sock is None:
        connection.close()
        return
    key = (target.scheme, target.host, target.port)
    dropped: list[http.client.HTTPConnection] = []
    with _kept_lock:
        _kept.setdefault(key, []).append((connection, time.monotonic()))
        _kept.move_to_end(key)
        while sum(len(entries) for entries in _kept.values()) > KEEP_MAX:
            _, entries = next(iter(_kept.items()))
            dropped.append(entries.pop(0)[0])
            if not entries:
                _kept.popitem(last=False)
    for old in dropped:
        old.close()


def webhook_connections_close() -> None:
    """Close every kept connection (tests; a process about to fork)."""
    with _kept_lock:
        connections = [connection for entries in _kept.values() for connection, _ in entries]
        _kept.clear()
    for connection in connections:
        connection.close()
