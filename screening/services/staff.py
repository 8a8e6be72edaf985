"""Writes for agencies and staff. Views, commands and tasks call these; they hold the rules."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.errors import ActionNotAllowed, ValidationError
from config.history import history_user_set
from config.lockout import lockout_reset_username
from config.tokens import api_token_revoke_all
from screening.models import Agency, User
from screening.permissions import may_manage_staff
from screening.roles import Role
from screening.services.mfa import mfa_devices_delete


@dataclass(frozen=True)
class EnsureResult:
    created: bool
    name: str


@transaction.atomic
def agency_ensure(*, name: str, kind: str, region: str = "") -> EnsureResult:
    """Create the agency if no agency has that name; an existing one is left as it is."""
    if kind not in Agency.Kind.values:
        raise ValueError(f"unknown agency kind {kind!r}; expected one of {Agency.Kind.values}")
    _, created = Agency.objects.get_or_create(name=name, defaults={"kind": kind, "region": region})
    return EnsureResult(created=created, name=name)


@transaction.atomic
def staff_ensure(
    *,
    username: str,
    agency_name: str,
    role: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
) -> EnsureResult:
    """Create a staff account with one role if the username is free. An existing account keeps
    its password and groups: running the seeds twice never resets anyone."""
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; expected one of {Role.values}")
    try:
        agency = Agency.objects.get(name=agency_name)
    except Agency.DoesNotExist:
        raise ValueError(f"no agency named {agency_name!r}") from None
    if User.objects.filter(username=username).exists():
        return EnsureResult(created=False, name=username)
    user = User(username=username, agency=agency, first_name=first_name, last_name=last_name)
    user.set_password(password)
    user.save()
    staff_roles_set(user=user, roles=[role], by=None)
    return EnsureResult(created=True, name=username)


@transaction.atomic
def staff_roles_set(*, user: User, roles: Iterable[str], by: User | None) -> User:
    """Give `user` exactly `roles` (Django groups of the same names; other groups stay).
    `by` is the agency administrator (or superuser) making the change, None for commands
    and seeds.

    The change history gets one row per change, naming `by` and the roles after it (the row
    before holds the roles before); Django's `groups.set` would write two, the first with
    the roles half changed. Setting the roles a member already has writes nothing."""
    if by is not None and not may_manage_staff(by, user):
        raise ActionNotAllowed("Only an administrator of the member's agency may change roles.")
    wanted = set(roles)
    if wanted - set(Role.values):
        raise ValidationError(
            "Unknown role.", {"roles": [f"Choose from: {', '.join(Role.values)}."]}
        )
    # Only role groups: other groups a superuser made (teams, say) stay as they are.
    current = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    added = [Group.objects.get_or_create(name=name)[0] for name in sorted(wanted - current)]
    removed = list(Group.objects.filter(name__in=current - wanted))
    history_user_set(user, by)
    if added and removed:
        user.skip_history_when_saving = True  # the add below records the final roles
        try:
            user.groups.remove(*removed)
        finally:
            del user.skip_history_when_saving
    if added:
        user.groups.add(*added)
    elif removed:
        user.groups.remove(*removed)
    user.__dict__.pop("role_names", None)  # read afresh on next use
    return user


@transaction.atomic
def staff_mfa_reset(*, member: User, by: User) -> User:
    """Remove every second-step device of `member` (authenticator app and backup codes), for
    someone who lost their phone: at their next page they set up a new app (their sessions
    verified with the old one are no longer verified). `by` must manage the member's account
    (`may_manage_staff`). Recorded in the member's change history: `mfa_reset_at`, naming
    `by`."""
    if not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may do this.")
    member = User.objects.select_for_update().get(pk=member.pk)
    mfa_devices_delete(user=member)
    member.mfa_reset_at = timezone.now()
    history_user_set(member, by)
    member.save(update_fields=["mfa_reset_at"])
    return member


def staff_sessions_end(*, member: User) -> None:
    """End every session of `member`, wherever it is, at its next request: the session
    generation is part of each session's auth hash (`User._get_session_auth_hash`), and
    Django's authentication middleware flushes a session whose hash no longer matches.
    API tokens are not sessions: they stay (see `api_token_revoke_all`)."""
    User.objects.filter(pk=member.pk).update(session_generation=F("session_generation") + 1)
    member.refresh_from_db(fields=["session_generation"])


@transaction.atomic
def staff_password_set(*, member: User, password: str, by: User) -> int:
    """Give `member` a new password: every session of theirs made with the old one ends
    (Django's session hash follows the password hash) and every API token of theirs is
    revoked. The caller keeps its own session with `update_session_auth_hash`. `by` is the
    member (a password change, the old password checked by the form) or someone who manages
    their account. Returns how many tokens were revoked."""
    if by.pk != member.pk and not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may do this.")
    try:
        validate_password(password, member)
    except DjangoValidationError as error:
        raise ValidationError(
            "The password was not changed.", {"password": error.messages}
        ) from None
    member.set_password(password)
    member.skip_history_when_saving = True  # the history never holds the password hash
    try:
        member.save(update_fields=["password"])
    finally:
        del member.skip_history_when_saving
    return api_token_revoke_all(user=member)


@transaction.atomic
def staff_deactivate(*, member: User, by: User) -> User:
    """Deactivate `member` (accounts are never deleted: the logs keep naming them): they
    cannot sign in, every session of theirs ends and every API token of theirs is revoked,
    so reactivating the account later revives none of them. `by` must manage the member's
    account and cannot deactivate their own. Recorded in the member's change history,
    naming `by`. Deactivating an inactive member ends sessions and tokens again, harmlessly."""
    if not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may do this.")
    if by.pk == member.pk:
        raise ValidationError(
            "You cannot deactivate your own account.",
            {"member": ["Ask another administrator of your agency."]},
        )
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.is_active:
        member.is_active = False
        history_user_set(member, by)
        member.save(update_fields=["is_active"])
    staff_sessions_end(member=member)
    api_token_revoke_all(user=member)
    return member


def staff_unlock(*, member: User, by: User) -> int:
    """Lift the pause on `member`'s sign-in (config/lockout.py) and forget their failed
    attempts, so they can sign in at once. `by` must manage the member's account. Recorded
    in the access log (the request naming the member); the account itself is unchanged, so
    the change history has no row. Returns how many failed attempts were forgotten."""
    if not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may do this.")
    return lockout_reset_username(username=member.get_username())
