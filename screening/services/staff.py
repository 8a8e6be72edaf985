"""Writes for agencies and staff. Views, commands and tasks call these; they hold the rules."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from config.history import history_user_set
from screening.errors import ActionNotAllowed, ValidationError
from screening.models import Agency, User
from screening.permissions import may_manage_staff
from screening.roles import Role


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
