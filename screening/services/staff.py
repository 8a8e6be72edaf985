"""Writes for agencies and staff. Views, commands and tasks call these; they hold the rules."""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction

from screening.models import Agency, User
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
    user.groups.add(Group.objects.get(name=role))
    return EnsureResult(created=True, name=username)
