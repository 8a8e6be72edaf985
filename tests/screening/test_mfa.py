"""The second sign-in step's services: setting up an authenticator app, backup codes, checking
codes (with django-otp's throttling), and an agency administrator's reset. Codes are computed
from the device's key, as the app would; nothing about verification is mocked."""

from datetime import timedelta

import pytest
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from config.errors import ActionNotAllowed, InvalidState, ValidationError
from screening.models import User
from screening.roles import Role
from screening.services.mfa import (
    mfa_backup_codes_regenerate,
    mfa_reset_last,
    mfa_status,
    mfa_totp_setup_confirm,
    mfa_totp_setup_start,
    mfa_verify,
)
from screening.services.staff import staff_mfa_reset
from tests.auth import totp_code, totp_device_confirmed
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def code_errors(error: ValidationError) -> list[str]:
    return error.field_errors["code"]


def wait_out_the_throttle(user: User) -> None:
    """As if the wait after the last wrong code had passed (1 s, 2 s, 4 s, ...)."""
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user, throttling_failure_count__gt=0):
            wait = timedelta(seconds=2**device.throttling_failure_count)
            model.objects.filter(pk=device.pk).update(
                throttling_failure_timestamp=device.throttling_failure_timestamp - wait
            )


def set_up(user: User) -> tuple[TOTPDevice, list[str]]:
    device = mfa_totp_setup_start(user=user)
    setup = mfa_totp_setup_confirm(user=user, code=totp_code(device))
    return setup.device, setup.backup_codes


def test_setting_up_shows_the_same_secret_until_it_is_confirmed(supervisor):
    first = mfa_totp_setup_start(user=supervisor)
    again = mfa_totp_setup_start(user=supervisor)
    assert again.pk == first.pk and again.key == first.key
    assert not first.confirmed
    assert not mfa_status(user=supervisor).has_device


def test_a_code_from_the_app_confirms_it_and_gives_ten_backup_codes_once(supervisor):
    device, codes = set_up(supervisor)
    device.refresh_from_db()
    assert device.confirmed
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    assert mfa_status(user=supervisor) == mfa_status(user=supervisor).__class__(
        has_device=True, backup_codes_left=10
    )
    # Only keyed digests are stored: the database never holds a usable code.
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert not stored & {code.replace("-", "") for code in codes}
    with pytest.raises(InvalidState):
        mfa_totp_setup_start(user=supervisor)  # one app; a reset comes first


def test_a_wrong_code_at_set_up_is_refused_and_nothing_is_confirmed(supervisor):
    device = mfa_totp_setup_start(user=supervisor)
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    with pytest.raises(ValidationError) as refused:
        mfa_totp_setup_confirm(user=supervisor, code=wrong)
    assert "did not work" in code_errors(refused.value)[0]
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1  # counted, though the caller was refused
    assert not StaticDevice.objects.filter(user=supervisor).exists()


def test_the_apps_code_signs_in_once_per_time_step(supervisor):
    device = totp_device_confirmed(supervisor)
    code = totp_code(device)
    assert mfa_verify(user=supervisor, code=f" {code[:3]} {code[3:]} ") == device
    with pytest.raises(ValidationError):
        mfa_verify(user=supervisor, code=code)  # replayed
    wait_out_the_throttle(supervisor)
    assert mfa_verify(user=supervisor, code=totp_code(device, steps_ahead=1)) == device


def test_a_backup_code_works_once_in_any_case_and_with_or_without_its_dash(supervisor):
    _, codes = set_up(supervisor)
    assert isinstance(mfa_verify(user=supervisor, code=codes[3].upper()), StaticDevice)
    with pytest.raises(ValidationError):
        mfa_verify(user=supervisor, code=codes[3])
    wait_out_the_throttle(supervisor)
    assert mfa_verify(user=supervisor, code=codes[4].replace("-", ""))
    assert mfa_status(user=supervisor).backup_codes_left == 8


def test_another_persons_backup_code_does_not_work(supervisor, agency):
    _, codes = set_up(supervisor)
    other = UserFactory(agency=agency, role=Role.SUPERVISOR)
    set_up(other)
    with pytest.raises(ValidationError):
        mfa_verify(user=other, code=codes[0])


@pytest.mark.parametrize(
    ("code", "message"),
    [("", "Enter the 6-digit code"), ("12345", "Enter the 6 digits"), ("abc", "Enter the 6")],
)
def test_malformed_codes_say_what_is_expected(supervisor, code, message):
    totp_device_confirmed(supervisor)
    with pytest.raises(ValidationError) as refused:
        mfa_verify(user=supervisor, code=code)
    assert code_errors(refused.value)[0].startswith(message)


def test_after_a_wrong_code_even_the_right_one_waits_for_the_throttle(supervisor):
    device = totp_device_confirmed(supervisor)
    with pytest.raises(ValidationError):
        mfa_verify(user=supervisor, code=f"{(int(totp_code(device)) + 1) % 1_000_000:06d}")
    with pytest.raises(ValidationError) as throttled:
        mfa_verify(user=supervisor, code=totp_code(device))
    assert code_errors(throttled.value)[0].startswith(
        "Too many wrong codes in a row. Wait 1 second"
    )
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the throttled try did not count
    wait_out_the_throttle(supervisor)  # one second later: django-otp doubles it each time
    assert mfa_verify(user=supervisor, code=totp_code(device)) == device
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_new_backup_codes_replace_the_old_ones(supervisor):
    _, old = set_up(supervisor)
    new = mfa_backup_codes_regenerate(user=supervisor)
    assert not set(old) & set(new)
    with pytest.raises(ValidationError):
        mfa_verify(user=supervisor, code=old[0])
    wait_out_the_throttle(supervisor)
    assert mfa_verify(user=supervisor, code=new[0])


def test_backup_codes_need_an_app_first(officer):
    with pytest.raises(InvalidState):
        mfa_backup_codes_regenerate(user=officer)


def test_an_agency_admin_resets_a_members_devices_and_the_history_says_who(agency, supervisor):
    admin = UserFactory(agency=agency, role=Role.AGENCY_ADMIN, first_name="Ada", last_name="Admin")
    set_up(supervisor)
    member = staff_mfa_reset(member=supervisor, by=admin)
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    assert not StaticDevice.objects.filter(user=supervisor).exists()
    assert member.mfa_reset_at is not None
    last = mfa_reset_last(member=member)
    assert last.at == member.mfa_reset_at and last.by == admin
    latest = User.history.filter(id=supervisor.pk).order_by("-history_date").first()
    assert latest.history_user == admin and latest.mfa_reset_at == member.mfa_reset_at


@pytest.mark.parametrize("who", ["other_agency_admin", "same_agency_supervisor"])
def test_only_an_admin_of_the_members_agency_may_reset(agency, other_agency, supervisor, who):
    by = {
        "other_agency_admin": lambda: UserFactory(agency=other_agency, role=Role.AGENCY_ADMIN),
        "same_agency_supervisor": lambda: UserFactory(agency=agency, role=Role.SUPERVISOR),
    }[who]()
    device = totp_device_confirmed(supervisor)
    with pytest.raises(ActionNotAllowed):
        staff_mfa_reset(member=supervisor, by=by)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    supervisor.refresh_from_db()
    assert supervisor.mfa_reset_at is None


def test_a_misspelt_required_role_stops_the_service_starting(settings):
    from screening.mfa import mfa_required_roles_check

    assert mfa_required_roles_check() == []
    settings.MFA_REQUIRED_ROLES = ["supervisor", "agency-admin"]
    (error,) = mfa_required_roles_check()
    assert error.id == "screening.E001" and "agency-admin" in error.msg
