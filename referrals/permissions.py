"""Who may see and decide referrals. One access function; "missing" and "forbidden" are the
same `ReferralNotFound` (404).

- Viewing a referral follows its case (`case_access` with `view`); provider staff of the
  provider's agency also view a referral once it was sent to them (`sent_at` set), without
  its case: they see the packet and the history, never the case (`referral.case` is not
  theirs to show, and the pages for them do not read it).
- Approving, declining and retrying delivery need a supervisor of the case's owning agency
  (`case_access` with `assign`, which is exactly that).
- Closing with an outcome, escalating by hand and proposing by hand are for who may change
  the case (`case_access` with `change`): its workers and the agency's supervisors.
- Provider staff answer (and close) referrals sent to a provider of their own agency.
- Routing rules (issue 15; docs/routing-rules.md): an active administrator of an agency reads
  the rules in force for its cases and the versions of its own line and the default's, and
  drafts, dry-runs and publishes its own; another agency's versions are a 404 as a missing
  one is, and anyone who is not an agency administrator gets a 403. The default's line is
  changed only by its rule files (seeds/routing/), never in the product.
- The provider directory (issue 15; docs/provider-directory.md): an active agency
  administrator manages the providers of their own agency (edits them, rotates a webhook's
  secret, reads their change history, adds new ones). A provider of another agency, of no
  agency (kept in directory files only) or none at all is the same `ProviderNotFound` (404);
  a colleague who is not an administrator gets a 403 for a provider of their own agency.
  Superusers change nothing here: the directory's own agencies do (and the files the
  platform loads, `load_referral_seeds`).
"""

from __future__ import annotations

from django.db import models

from config.access_log import REFERRAL, access_log_note, access_log_note_refused
from config.errors import ActionNotAllowed, CaseNotFound
from referrals.errors import ProviderNotFound, ReferralNotFound, RoutingRuleSetNotFound
from referrals.models import Referral, RoutingRuleSet, ServiceProvider
from screening.models import User
from screening.permissions import CaseAction, case_access
from screening.roles import Role


def is_active_staff(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.agency_id)


class ReferralAction(models.TextChoices):
    VIEW = "view", "View"
    DECIDE = "decide", "Approve, decline, retry delivery"
    CHANGE = "change", "Close, escalate as the referring agency"
    ANSWER = "answer", "Answer as the provider"


CASE_ACTIONS = {
    ReferralAction.VIEW: CaseAction.VIEW,
    ReferralAction.DECIDE: CaseAction.ASSIGN,
    ReferralAction.CHANGE: CaseAction.CHANGE,
}
REFUSALS = {
    ReferralAction.DECIDE: "Only a supervisor of the case's agency decides referrals.",
    ReferralAction.CHANGE: "Only the case's workers and supervisors change its referrals.",
}


def is_provider_staff(user) -> bool:
    return is_active_staff(user) and user.has_role(Role.PROVIDER_STAFF)


def referral_access(
    *, user: User, referral_id: int | str, action: str, for_update: bool = False
) -> Referral:
    """The referral, if `user` may do `action` with it; else `ReferralNotFound` (cannot see it)
    or `ActionNotAllowed` (can see it, may not do this)."""
    action = ReferralAction(action)
    try:
        referral_pk = int(referral_id)
    except (TypeError, ValueError):
        raise ReferralNotFound() from None
    referrals = Referral.objects.select_related("provider")
    if action == ReferralAction.ANSWER or (
        action == ReferralAction.VIEW and is_provider_staff(user)
    ):
        if not is_provider_staff(user):
            raise ReferralNotFound()
        referrals = referrals.filter(provider__agency_id=user.agency_id)
        if action == ReferralAction.VIEW:
            referrals = referrals.filter(sent_at__isnull=False)
        if for_update:
            referrals = referrals.select_for_update(of=("self",))
        referral = referrals.filter(pk=referral_pk).first()
        if referral is None:
            _note_refused(referral_pk)
            raise ReferralNotFound()
        access_log_note(object_type=REFERRAL, object_ref=str(referral.pk), case_id=referral.case_id)
        return referral
    case_id = Referral.objects.filter(pk=referral_pk).values_list("case_id", flat=True).first()
    if case_id is None:
        raise ReferralNotFound()
    try:
        case = case_access(
            user=user,
            case_reference_or_id=case_id,
            action=CASE_ACTIONS[action],
            for_update=for_update,
        )
    except CaseNotFound:
        access_log_note_refused(object_type=REFERRAL, object_ref=str(referral_pk), case_id=case_id)
        raise ReferralNotFound() from None
    except ActionNotAllowed:
        raise ActionNotAllowed(REFUSALS.get(action, "Not allowed.")) from None
    if for_update:
        referrals = referrals.select_for_update(of=("self",))
    referral = referrals.get(pk=referral_pk)
    referral.case = case
    access_log_note(object_type=REFERRAL, object_ref=str(referral.pk), case_id=case.pk)
    return referral


def _note_refused(referral_pk: int) -> None:
    """A referral that exists but is not the caller's to answer goes in the refusal's entry
    (one query, on refusals only); the answer stays the 404 of a missing referral."""
    case_id = Referral.objects.filter(pk=referral_pk).values_list("case_id", flat=True).first()
    if case_id is not None:
        access_log_note_refused(object_type=REFERRAL, object_ref=str(referral_pk), case_id=case_id)


def routing_admin_agency_id(user) -> int:
    """The agency whose routing rules `user` administers; `ActionNotAllowed` (403) unless
    an active agency administrator."""
    if not (is_active_staff(user) and user.has_role(Role.AGENCY_ADMIN)):
        raise ActionNotAllowed("Only an agency's administrators manage its routing rules.")
    return user.agency_id


def routing_rule_set_access(*, user: User, rule_set_id: int | str) -> RoutingRuleSet:
    """A version `user` may read: their agency's own (draft or published) or a published one
    of the default's line. Anything else is `RoutingRuleSetNotFound`, as a missing one is."""
    agency_id = routing_admin_agency_id(user)
    try:
        rule_set_pk = int(rule_set_id)
    except (TypeError, ValueError):
        raise RoutingRuleSetNotFound() from None
    visible = models.Q(agency_id=agency_id) | models.Q(
        agency__isnull=True, status=RoutingRuleSet.Status.PUBLISHED
    )
    rule_set = (
        RoutingRuleSet.objects.filter(visible, pk=rule_set_pk)
        .select_related("published_by", "created_by")
        .first()
    )
    if rule_set is None:
        raise RoutingRuleSetNotFound()
    return rule_set


def routing_draft_access(*, user: User, for_update: bool = False) -> RoutingRuleSet:
    """The draft of `user`'s agency (there is at most one); `RoutingRuleSetNotFound` when
    there is none. Addressed by the signed-in administrator's agency, never by an id."""
    agency_id = routing_admin_agency_id(user)
    drafts = RoutingRuleSet.objects.filter(
        agency_id=agency_id, status=RoutingRuleSet.Status.DRAFT
    ).select_related("based_on", "created_by")
    if for_update:
        drafts = drafts.select_for_update(of=("self",))
    draft = drafts.first()
    if draft is None:
        raise RoutingRuleSetNotFound("Your agency has no draft of its routing rules.")
    return draft


# --- the provider directory ---------------------------------------------------------------
# The object type access log entries name a provider by (its id).
PROVIDER = "provider"
PROVIDER_REFUSAL = "Only an administrator of the provider's agency may change its directory entry."


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
    """The provider, if `user` may manage it (the module docstring: the provider directory); else
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
        raise ActionNotAllowed(PROVIDER_REFUSAL)
    return provider
