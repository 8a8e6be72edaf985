"""seed_demo: the demo agencies and users, the directory, and about 30 fictional cases built
through the services; idempotent; refused outside local mode (and absent in production)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from demo.seeding import STORIES
from referrals.models import Referral, ReferralEvent
from referrals.models import ReferralStatus as S
from screening.models import Agency, Case, CaseNote, CaseTask, Contact, Screening, User
from screening.roles import Role
from tests.auth import signed_in_client

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD_LINE = "Password for all of them (shown once): "
# Statuses a referral rests in (proposed and approved last a moment: routing and delivery
# move them on at once).
RESTING = {
    S.BLOCKED_NEEDS_CONSENT,
    S.PENDING_APPROVAL,
    S.SENT,
    S.ACKNOWLEDGED,
    S.ACCEPTED,
    S.SERVICES_STARTED,
    S.CLOSED,
    S.DECLINED,
    S.CANCELLED,
    S.EXPIRED,
    S.FAILED,
}


@pytest.fixture(autouse=True)
def _demo_folders(settings, tmp_path):
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    settings.DEMO_WEBHOOK_DIR = tmp_path / "webhooks"


@pytest.fixture
def instruments():
    call_command("load_instruments", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115


def run_seed(capsys, *args: str) -> str:
    call_command("seed_demo", *args)
    return capsys.readouterr().out


def password_from(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith(PASSWORD_LINE))[
        len(PASSWORD_LINE) :
    ]


def counts() -> dict[str, int]:
    return {
        "agencies": Agency.objects.count(),
        "users": User.objects.count(),
        "cases": Case.objects.count(),
        "screenings": Screening.objects.count(),
        "referrals": Referral.objects.count(),
        "referral events": ReferralEvent.objects.count(),
        "contacts": Contact.objects.count(),
        "notes": CaseNote.objects.count(),
        "tasks": CaseTask.objects.count(),
    }


def test_seed_creates_one_fictional_user_per_role_and_prints_the_password_once(capsys):
    first = run_seed(capsys, "--no-cases")
    password = password_from(first)
    roles = {user.groups.get().name for user in User.objects.all()}
    assert roles == {role.value for role in Role}
    assert all(user.agency_id for user in User.objects.all())
    officer = User.objects.get(username="demo.officer")
    assert officer.check_password(password)

    second = run_seed(capsys, "--no-cases")
    assert "Password" not in second
    # One per role, and the shelter's administrator (its providers: docs/provider-directory.md).
    assert User.objects.count() == len(Role) + 1
    assert Agency.objects.count() == 5
    officer.refresh_from_db()
    assert officer.check_password(password)  # a second run never resets anyone


def test_demo_cases_cover_every_resting_status_and_a_second_run_changes_nothing(
    capsys, instruments
):
    first = run_seed(capsys)
    assert "Demo cases created: " in first
    assert f"cases: {len(STORIES)}/{len(STORIES)}" in first  # progress as it goes
    after_first = counts()
    assert 28 <= after_first["cases"] <= 35
    statuses = set(Referral.objects.values_list("status", flat=True))
    if "webhook receiver's port is taken" in first:
        statuses.add(S.FAILED)  # its one example needs the receiver
    assert statuses >= RESTING, RESTING - statuses
    assert Case.objects.filter(status=Case.Status.CLOSED).exists()
    assert Screening.objects.filter(status=Screening.Status.DRAFT).exists()
    assert (
        len(set(Screening.objects.values_list("instrument_version__instrument__slug", flat=True)))
        >= 5
    )
    assert after_first["contacts"] >= 5 and after_first["notes"] >= 5 and after_first["tasks"] >= 5
    # Every status change went through the state machine: its history row is there.
    for referral in Referral.objects.exclude(status=S.PROPOSED):
        assert referral.events.filter(to_status=referral.status).exists(), referral.status
    # Only fictional demo agencies hold them.
    demo_agencies = set(Agency.objects.values_list("pk", flat=True))
    assert set(Case.objects.values_list("agency_id", flat=True)) <= demo_agencies

    second = run_seed(capsys)
    assert "Demo cases already exist; nothing changed." in second
    assert "Password" not in second
    assert counts() == after_first
    assert "unchanged" in second  # the directory's providers, reloaded, are unchanged


def home_counts(client) -> dict[str, int]:
    html = client.get(reverse("referrals:home")).content.decode()
    found = re.findall(r'<strong class="home-count[^"]*">(\d+)\+?</strong> ([^<]+)</a>', html)
    return {label.strip(): int(count) for count, label in found}


def test_each_roles_home_page_has_something_to_do_after_seeding(capsys, instruments):
    run_seed(capsys)
    wanted = {
        "demo.officer": ["Draft screenings", "Tasks due", "Open tasks"],
        "demo.socialworker": ["Draft screenings", "Tasks due", "Open tasks"],
        "demo.supervisor": ["Waiting for approval", "Blocked: needs consent"],
        "demo.hotline": ["Contacts logged today", "Your drafts"],
        "demo.provider": ["Sent", "Accepted"],
    }
    for username, labels in wanted.items():
        page = home_counts(signed_in_client(User.objects.get(username=username)))
        for label in labels:
            assert page.get(label, 0) > 0, (username, label, page)


def test_seed_is_refused_outside_local_mode(settings):
    settings.DEMO_SEEDS_ALLOWED = False
    with pytest.raises(CommandError, match="local mode only"):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_the_production_profile_has_no_demo_at_all():
    """The demo app is not installed there: seed_demo and run_demo are unknown commands."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "demo.invalid",
        "DATABASE_URL": "postgres://nobody:nothing@127.0.0.1:1/none",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "CACHE_URL": "redis://127.0.0.1:1/1",
        "FIELD_ENCRYPTION_KEYS": "k1:" + "A" * 43,
        "FIELD_ENCRYPTION_ACTIVE_KEY": "k1",
        "BLIND_INDEX_KEY": "B" * 43,
    }
    for command in ("seed_demo", "run_demo"):
        result = subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "manage.py", command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode != 0
        assert f"Unknown command: '{command}'" in result.stderr, result.stderr[-500:]


def test_a_bad_seed_file_names_the_entry_and_saves_nothing(tmp_path):
    bad = tmp_path / "directory.yaml"
    bad.write_text(
        "agencies:\n  - {name: Good Agency, kind: hotline}\n"
        "users:\n  - {username: u1, agency: Good Agency, role: not_a_role}\n"
    )
    with pytest.raises(CommandError, match=r"users\[0\].*not_a_role"):
        call_command("seed_demo", "--file", str(bad))
    assert not Agency.objects.exists()
    assert not User.objects.exists()
