"""Writes for agencies and staff. Views, commands and tasks call these; they hold the rules."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from config.access_log import access_log_note
from config.errors import ActionNotAllowed, ValidationError
from config.history import history_user_set
from config.lockout import lockout_reset_username
from config.tokens import api_token_revoke_all
from screening.models import Agency, User
from screening.permissions import (
    STAFF_MEMBER,
    may_manage_staff,
    require_agency_admin,
    staff_roles_grantable,
)
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
def staff_password_set(*, member: User, password: str, by: User, reason: str = "") -> int:
    """Give `member` a new password: every session of theirs made with the old one ends
    (Django's session hash follows the password hash) and every API token of theirs is
    revoked. The caller keeps its own session with `update_session_auth_hash`. `by` is the
    member (a password change, the old password checked by the form) or someone who manages
    their account. With a `reason`, the change history gets a row saying so (never the hash:
    the history leaves the password out); without one, none. Returns how many tokens were
    revoked."""
    if by.pk != member.pk and not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may do this.")
    try:
        validate_password(password, member)
    except DjangoValidationError as error:
        raise ValidationError(
            "The password was not changed.", {"password": error.messages}
        ) from None
    member.set_password(password)
    if reason:
        staff_history_record(member, by=by, reason=reason, update_fields=["password"])
    else:
        member.skip_history_when_saving = True
        try:
            member.save(update_fields=["password"])
        finally:
            del member.skip_history_when_saving
    return api_token_revoke_all(user=member)


def staff_history_record(
    member: User, *, by: User | None, reason: str, update_fields: list[str]
) -> None:
    """Save `member`'s `update_fields` with a change-history row naming `by` and `reason` (the
    row holds the roles of the moment, as every save's does). With `update_fields` naming only
    unchanged values, the row records an act that changed nothing stored on the account (a
    sign-in pause lifted)."""
    history_user_set(member, by)
    member._change_reason = reason
    try:
        member.save(update_fields=update_fields)
    finally:
        del member._change_reason


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


@transaction.atomic
def staff_unlock(*, member: User, by: User) -> int:
    """Lift the pause on `member`'s sign-in (config/lockout.py) and forget their failed
    attempts, so they can sign in at once. `by` must manage the member's account. Recorded
    in the access log (the request naming the member) and, when there was a pause to lift,
    in the member's change history ("Sign-in pause lifted", naming `by`). Returns how many
    failed attempts were forgotten."""
    if not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may do this.")
    member = User.objects.select_for_update().get(pk=member.pk)
    forgotten = lockout_reset_username(username=member.get_username())
    if forgotten:
        staff_history_record(
            member, by=by, reason=HISTORY_REASON_UNLOCKED, update_fields=["is_active"]
        )
    return forgotten


# The words change-history rows give for acts that change no tracked field (at most 100
# characters: simple-history's column).
HISTORY_REASON_UNLOCKED = "Sign-in pause lifted"


@transaction.atomic
def staff_create(
    *,
    by: User,
    username: str,
    first_name: str,
    last_name: str = "",
    email: str = "",
    roles: Iterable[str],
) -> User:
    """A new member of `by`'s own agency with `roles` (those an administrator of its kind may
    grant: `staff_roles_grantable`) and no usable password: they choose it themselves through
    a one-time link (`staff_password_link_make`), so no password is ever shown or sent. `by`
    must be an agency administrator. Usernames are unique whatever their case ("ada" and
    "Ada" would be two people signing in as one). The change history names `by` on the
    creation and on the roles given."""
    require_agency_admin(by)
    agency = by.agency
    problems: dict[str, list[str]] = {}
    username = (username or "").strip()
    try:
        User._meta.get_field("username").clean(username, None)
    except DjangoValidationError as error:
        problems["username"] = [_username_message(message) for message in error.messages]
    else:
        if User.objects.filter(username__iexact=username).exists():
            problems["username"] = ["That username is taken: choose another."]
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name:
        problems["first_name"] = ["Enter the first name colleagues know them by."]
    for name, value in (("first_name", first_name), ("last_name", last_name)):
        if len(value) > 150:
            problems[name] = ["At most 150 characters."]
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            problems["email"] = ["Enter an email address like name@example.org, or leave it empty."]
    wanted = set(roles)
    grantable = staff_roles_grantable(agency.kind)
    if not wanted:
        problems["roles"] = ["Choose at least one role."]
    elif wanted - set(grantable):
        problems["roles"] = [_grantable_message(grantable)]
    if problems:
        raise ValidationError("The member was not added.", problems)
    member = User(
        username=username,
        agency=agency,
        first_name=first_name,
        last_name=last_name,
        email=email,
    )
    member.set_unusable_password()
    history_user_set(member, by)
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:  # the same username added at the same moment elsewhere
        raise ValidationError(
            "The member was not added.", {"username": ["That username is taken: choose another."]}
        ) from None
    staff_roles_set(user=member, roles=sorted(wanted), by=by)
    access_log_note(object_type=STAFF_MEMBER, object_ref=str(member.pk))
    return member


def _username_message(message: str) -> str:
    if "letters, numbers" in message:
        return "Use only letters, digits and . @ + - _ (no spaces)."
    if "required" in message:
        return "Enter a username: the name they will sign in with."
    return message


def _grantable_message(grantable: Iterable[str]) -> str:
    labels = ", ".join(Role(role).label for role in grantable)
    return f"An administrator of this agency can give these roles: {labels}."


@transaction.atomic
def staff_roles_change(*, member: User, roles: Iterable[str], by: User) -> User:
    """Give `member` exactly `roles`, as their agency's administrator `by` asks (a superuser
    too). Any role may be taken away, but only the roles of the agency's kind given
    (`staff_roles_grantable`; superusers may give any). A member keeps at least one role
    (deactivating is how someone stops using the service), and the agency keeps an active
    administrator: nobody removes their own administrator role, nor that of the agency's
    last active one. The agency's row is locked, so two administrators removing each
    other's role at the same moment cannot leave it without one. In the change history
    (`staff_roles_set`)."""
    if not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may change roles.")
    agency = Agency.objects.select_for_update().filter(pk=member.agency_id).first()
    by.__dict__.pop("role_names", None)  # as they are now that the agency is locked
    if not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may change roles.")
    wanted = set(roles)
    if wanted - set(Role.values):
        raise ValidationError(
            "Unknown role.", {"roles": [f"Choose from: {', '.join(Role.labels)}."]}
        )
    current = set(member.groups.filter(name__in=Role.values).values_list("name", flat=True))
    grantable = staff_roles_grantable(agency.kind) if agency else ()
    problems: list[str] = []
    if not wanted:
        problems.append(
            "Keep at least one role. To stop someone using the service, deactivate their account."
        )
    elif not by.is_superuser and (wanted - current) - set(grantable):
        problems.append(_grantable_message(grantable))
    if Role.AGENCY_ADMIN in current - wanted:
        if member.pk == by.pk:
            problems.append(
                "You cannot remove your own administrator role: ask another administrator."
            )
        elif member.is_active and not _other_active_admins(member).exists():
            problems.append(
                "They are the agency's last active administrator: give the role to someone "
                "else first."
            )
    if problems:
        raise ValidationError("The roles were not changed.", {"roles": problems})
    return staff_roles_set(user=member, roles=sorted(wanted), by=by)


def _other_active_admins(member: User):
    return (
        User.objects.filter(
            agency_id=member.agency_id, is_active=True, groups__name=Role.AGENCY_ADMIN
        )
        .exclude(pk=member.pk)
        .values("pk")
    )


@transaction.atomic
def staff_reactivate(*, member: User, by: User) -> User:
    """Let a deactivated member sign in again with the password they had (their sessions and
    API tokens stayed ended: they sign in afresh and make new tokens). `by` must manage the
    member's account. In the change history, naming `by`; an active member is left as is."""
    if not may_manage_staff(by, member):
        raise ActionNotAllowed("Only an administrator of the member's agency may do this.")
    member = User.objects.select_for_update().get(pk=member.pk)
    if not member.is_active:
        member.is_active = True
        history_user_set(member, by)
        member.save(update_fields=["is_active"])
    return member
