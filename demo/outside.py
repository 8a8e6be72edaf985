"""Reading what left the service in the embedded demo: the mail the filebased backend wrote
(EMAIL_FILE_PATH) and the deliveries the built-in receiver recorded (DEMO_WEBHOOK_DIR).
Newest first, at most `limit` of each: the folders only grow while the demo runs."""

from __future__ import annotations

import email
import email.policy
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The filebased backend writes the messages of one connection into one file, each followed
# by a line of 79 dashes (django/core/mail/backends/filebased.py).
SEPARATOR = "\n" + "-" * 79 + "\n"


@dataclass(frozen=True)
class MailMessage:
    written_at: datetime
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class WebhookDelivery:
    received_at: datetime
    provider: str
    idempotency_key: str
    status: int
    signature_ok: bool
    note: str
    body: Any


def _newest_files(folder: Path, pattern: str, limit: int) -> list[Path]:
    if not folder.is_dir():
        return []
    files = [path for path in folder.glob(pattern) if not path.name.startswith(".")]
    return sorted(files, key=lambda path: (path.stat().st_mtime_ns, path.name), reverse=True)[
        :limit
    ]


def mail_messages(folder: Path, *, limit: int = 100) -> list[MailMessage]:
    messages: list[MailMessage] = []
    for path in _newest_files(folder, "*.log", limit):
        written_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        blocks = path.read_text(encoding="utf-8", errors="replace").split(SEPARATOR)
        for block in reversed([block for block in blocks if block.strip()]):
            message = email.message_from_string(block.lstrip("\n"), policy=email.policy.default)
            part = (
                message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
            )
            messages.append(
                MailMessage(
                    written_at=written_at,
                    to=str(message.get("To", "")),
                    subject=str(message.get("Subject", "")),
                    body=part.get_content() if part is not None else "",
                )
            )
    return messages[:limit]


def webhook_deliveries(folder: Path, *, limit: int = 100) -> list[WebhookDelivery]:
    deliveries = []
    for path in _newest_files(folder, "*.json", limit):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        deliveries.append(
            WebhookDelivery(
                received_at=datetime.fromtimestamp(entry["received_at"], tz=UTC),
                provider=entry.get("provider", ""),
                idempotency_key=entry.get("idempotency_key", ""),
                status=int(entry.get("status", 0)),
                signature_ok=bool(entry.get("signature_ok")),
                note=entry.get("note", ""),
                body=entry.get("body"),
            )
        )
    return deliveries
