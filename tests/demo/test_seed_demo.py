import pytest
from django.core.management import CommandError, call_command

from screening.models import Agency, User
from screening.roles import Role

pytestmark = pytest.mark.django_db


def run_seed(capsys, *args: str) -> str:
    call_command("seed_demo", *args)
    return capsys.readouterr().out


def test_seed_creates_one_fictional_user_per_role_and_prints_the_password_once(capsys):
    first = run_seed(capsys)
    assert "Password for all of them (shown once):" in first
    password = first.strip().splitlines()[-1].split(": ", 1)[1]
    roles = {user.groups.get().name for user in User.objects.all()}
    assert roles == {role.value for role in Role}
    assert all(user.agency_id for user in User.objects.all())
    officer = User.objects.get(username="demo.officer")
    assert officer.check_password(password)

    second = run_seed(capsys)
    assert "Password" not in second
    assert User.objects.count() == len(Role)
    assert Agency.objects.count() == 5
    officer.refresh_from_db()
    assert officer.check_password(password)  # a second run never resets anyone


def test_seed_is_refused_outside_local_mode(settings):
    settings.DEMO_SEEDS_ALLOWED = False
    with pytest.raises(CommandError, match="local mode only"):
        call_command("seed_demo")
    assert not User.objects.exists()


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
