"""Who may change the provider directory in the product (issue 15).

- An active agency administrator manages the providers of their own agency (`agency` on the
  provider): edits them, rotates a webhook's secret, reads their change history, and adds
  new ones for that agency.
- A provider of another agency, of no agency (kept in directory files only) or none at all
  is the same `ProviderNotFound` (404); a colleague who is not an administrator gets
  `ActionNotAllowed` (403) for a provider of their own agency.
- Superusers change nothing here: the directory's own agencies do (and the files the
  platform loads, `load_referral_seeds`).

Kept beside `referrals/permissions.py` (the referrals' access function) while other pages
change that file; fold it in later.
"""

from __future__ import annotations

from config.access_log import access_log_note
from config.errors import ActionNotAllowed, NotFound
from referrals.models import ServiceProvider
from referrals.permissions import is_active_staff
from screening.models import User
from screening.roles import Role

# The object type access log entries name a provider by (its id).
PROVIDER = "provider"
REFUSAL = "Only an administrator of the provider's agency may change its directory entry."


class ProviderNotFound(NotFound):
    def __init__(self, message: str = "No such provider.") -> None:
        super().__init__(message)


def may_manage_providers(user) -> bool:
    """True for an active administrator of an agency: they manage their agency's providers."""
    return is_active_staff(user) and user.has_role(Role.AGENCY_ADMIN)


def provider_add_check(*, user: User) -> None:
    """`ActionNotAllowed` unless `user` may add providers to their agency."""
    if not may_manage_providers(user):
        raise ActionNotAllowed("Only an agency's administrators add its providers.")


def provider_access(
    *, user: User, provider_id: int | str, for_update: bool = False
) -> ServiceProvider:
    """The provider, if `user` may manage it (see the module docstring); else
    `ProviderNotFound` (not theirs to see) or `ActionNotAllowed` (theirs, not their role)."""
    try:
        provider_pk = int(provider_id)
    except (TypeError, ValueError):
        raise ProviderNotFound() from None
    if not is_active_staff(user):
        raise ProviderNotFound()
    providers = ServiceProvider.objects.filter(pk=provider_pk, agency_id=user.agency_id)
    if for_update:
        providers = providers.select_for_update()
    provider = providers.first()
    if provider is None:
        raise ProviderNotFound()
    access_log_note(object_type=PROVIDER, object_ref=str(provider.pk))
    if not may_manage_providers(user):
        raise ActionNotAllowed(REFUSAL)
    return provider
