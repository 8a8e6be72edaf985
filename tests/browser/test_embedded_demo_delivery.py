"""The embedded demo delivers (issue 15): `make run`'s own commands on a fresh SQLite file and
var/ folder (migrate, load_instruments, seed_demo, run_demo: web, Celery worker and beat on
the filesystem broker, the signed demo receiver), and a supervisor approving, in a real
browser, a seeded referral to an email provider, to a webhook provider and to an in-system
inbox. Each is `sent` within seconds; the webhook provider answers 503 to the first attempt
(DEMO_RECEIVER_FAIL_FIRST) and the retry waits for its delay. The mail is on /demo/mail/, the
deliveries on /demo/webhooks/. Ctrl-C's signal stops every process.

Nothing here uses the test database: the demo runs in its own processes on the local profile,
as a newcomer's machine would run it. Screenshots in test-output/screenshots/demo/."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from django_otp.oath import totp

from tests.browser import test_screening_flow as flow

pytestmark = pytest.mark.browser

chromium = flow.chromium
ROOT = Path(__file__).resolve().parents[2]
SHOTS = flow.SCREENSHOTS / "demo"
RECEIVER_PORT = 8765  # the demo directory's webhook URLs name it
FLAKY = "northline-emergency-beds"
RETRY_BASE_SECONDS = 4  # the first retry waits 2-4 s (equal jitter)
TOTP_KEY = "3132333435363738393031323334353637383930"  # fixed: this test's own device


def _free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_taken(port: int) -> bool:
    """Someone listens there (as the receiver binds: closed connections waiting out their
    TIME_WAIT do not count)."""
    with closing(socket.socket()) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@pytest.fixture
def demo(tmp_path):
    """The demo's commands in a fresh folder; yields (base URL, password, database path, run
    process). The processes are stopped at the end whatever happens."""
    if _port_taken(RECEIVER_PORT):
        pytest.skip(f"port {RECEIVER_PORT} is taken (a demo running?): the receiver needs it")
    database = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{database}",
        "LOCAL_VAR_DIR": str(tmp_path / "var"),
        "DEMO_RECEIVER_FAIL_FIRST": FLAKY,
        "REFERRAL_RETRY_BASE_SECONDS": str(RETRY_BASE_SECONDS),
        "REFERRAL_ESCALATION_INTERVAL_SECONDS": "10",  # beat's shortest
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_BROKER_URL", None)  # the embedded default: no broker server
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    manage = [sys.executable, "manage.py"]

    def run(*args: str) -> str:
        result = subprocess.run(  # noqa: S603 - our own commands
            [*manage, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    run("migrate", "--noinput")
    run("load_instruments")
    seeded = run("seed_demo")
    password = re.search(r"Password for all of them \(shown once\): (\S+)", seeded).group(1)
    # The supervisor's second sign-in step: an authenticator app with a key this test knows.
    run(
        "shell",
        "-c",
        "from django_otp.plugins.otp_totp.models import TOTPDevice;"
        "from screening.models import User;"
        "TOTPDevice.objects.create(user=User.objects.get(username='demo.supervisor'),"
        f"name='demo test', key='{TOTP_KEY}', confirmed=True)",
    )
    port = _free_port()
    log = (tmp_path / "run_demo.out").open("w")
    process = subprocess.Popen(  # noqa: S603 - our own command
        [*manage, "run_demo", "--port", str(port), "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "run_demo.out").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("the demo's web server did not answer /readyz within 60 s")
        yield base, password, database, process, run
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _rows(database: Path, sql: str, *args) -> list[tuple]:
    with closing(sqlite3.connect(database, timeout=30)) as db:
        return db.execute(sql, args).fetchall()


def _pending_by_channel(database: Path) -> dict[str, tuple[int, str, str]]:
    """One referral waiting for approval in the supervisor's agency per channel: id, the
    provider's slug, the idempotency key. The webhook one goes to the provider that fails
    its first attempt."""
    rows = _rows(
        database,
        "SELECT r.id, p.channel, p.slug, r.idempotency_key FROM referrals_referral r "
        "JOIN referrals_serviceprovider p ON p.id = r.provider_id "
        "JOIN screening_agency a ON a.id = r.case_agency_id "
        "WHERE r.status = 'pending_approval' AND a.name = 'Riverside Police Anti-Trafficking Unit' "
        "ORDER BY r.id",
    )
    picked: dict[str, tuple[int, str, str]] = {}
    for pk, channel, slug, key in rows:
        if channel == "webhook" and slug != FLAKY:
            continue
        picked.setdefault(channel, (pk, slug, key))
    return picked


def _events(run, referral_id: int) -> list[tuple[str, str, datetime]]:
    """The referral's history as the demo's own process reads it (notes are sealed)."""
    output = run(
        "shell",
        "-c",
        "import json;from referrals.models import ReferralEvent;"
        f"print(json.dumps([(e.to_status, e.note, e.at.isoformat()) for e in "
        f"ReferralEvent.objects.filter(referral_id={int(referral_id)}).order_by('at', 'pk')]))",
    )
    rows = json.loads(output.strip().splitlines()[-1])
    return [(to, note, datetime.fromisoformat(at)) for to, note, at in rows]


def _shoot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((390, 844), (1280, 900)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_approving_a_demo_referral_to_each_channel_ends_sent_within_seconds(chromium, demo):
    base, password, database, process, run = demo
    picked = _pending_by_channel(database)
    assert set(picked) == {"email", "webhook", "inbox"}, picked

    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/")
    page.fill("#id_username", "demo.supervisor")
    page.fill("#id_password", password)
    page.click("button:has-text('Sign in')")
    page.wait_for_selector("h1:has-text('Enter the code from your authenticator app')")
    page.fill("#id_code", f"{totp(bytes.fromhex(TOTP_KEY)):06d}")
    page.click("button:has-text('Continue')")
    page.wait_for_selector("h1:has-text('My cases')")

    approved_at: dict[str, float] = {}
    for channel, (pk, _slug, _key) in picked.items():
        page.goto(f"{base}/referrals/{pk}/")
        page.click("button:has-text('Approve and send')")
        page.wait_for_load_state()
        approved_at[channel] = time.monotonic()

    sent_after: dict[str, float] = {}
    deadline = time.monotonic() + 30
    while len(sent_after) < len(picked) and time.monotonic() < deadline:
        for channel, (pk, _slug, _key) in picked.items():
            if channel in sent_after:
                continue
            (status,) = _rows(database, "SELECT status FROM referrals_referral WHERE id = ?", pk)[0]
            if status == "sent":
                sent_after[channel] = time.monotonic() - approved_at[channel]
        time.sleep(0.2)
    assert set(sent_after) == set(picked), (sent_after, picked)
    assert sent_after["email"] < 10 and sent_after["inbox"] < 10, sent_after
    assert sent_after["webhook"] < 10 + RETRY_BASE_SECONDS, sent_after

    # The webhook's first attempt failed (503) and the second waited for its delay.
    events = _events(run, picked["webhook"][0])
    failed = [(note, at) for _to, note, at in events if note.startswith("attempt 1 failed")]
    sent = [at for to, _note, at in events if to == "sent"]
    assert len(failed) == 1 and "HTTP 503" in failed[0][0], events
    delay = float(re.search(r"retry in ([\d.]+)s", failed[0][0]).group(1))
    waited = (sent[0] - failed[0][1]).total_seconds()
    assert RETRY_BASE_SECONDS / 2 <= delay <= RETRY_BASE_SECONDS
    assert waited >= delay - 0.5, (waited, delay)  # not at once: after its delay
    assert any("on attempt 2" in note for _to, note, _at in events)
    for channel in ("email", "inbox"):
        notes = [note for _to, note, _at in _events(run, picked[channel][0])]
        assert any(note.endswith("on attempt 1") for note in notes), notes

    page.goto(f"{base}/referrals/{picked['webhook'][0]}/")
    assert page.locator("dl.facts strong").first.inner_text() == "Sent"
    _shoot(page, "referral-sent-after-a-retry")

    page.goto(f"{base}/demo/mail/")
    assert page.locator(f"text=Referral {picked['email'][2][:8]}").count() == 1
    _shoot(page, "mailbox")
    page.goto(f"{base}/demo/webhooks/")
    assert page.locator("text=Northline Emergency Beds: answered 503").count() >= 1
    assert page.locator("text=Northline Emergency Beds: answered 200").count() >= 1
    _shoot(page, "webhooks")

    # Escalation runs on beat's schedule, in the worker: a referral long past its due time
    # (moved back by hand here) expires without anyone asking.
    email_id = picked["email"][0]
    run(
        "shell",
        "-c",
        "from datetime import timedelta;from django.utils import timezone;"
        "from referrals.models import Referral;"
        f"Referral.objects.filter(pk={email_id}).update("
        "due_at=timezone.now() - timedelta(days=30))",
    )
    deadline = time.monotonic() + 40
    status = "sent"
    while status == "sent" and time.monotonic() < deadline:
        time.sleep(0.5)
        (status,) = _rows(database, "SELECT status FROM referrals_referral WHERE id = ?", email_id)[
            0
        ]
    assert status == "expired", "beat's escalation run did not come within 40 s"

    # Ctrl-C (the launcher's signal) stops every process it started.
    os.killpg(process.pid, signal.SIGINT)
    process.wait(timeout=30)
    deadline = time.monotonic() + 10
    while _port_taken(RECEIVER_PORT) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _port_taken(RECEIVER_PORT)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310
