"""An agency's own routing rules, changed in the product (issue 15; docs/routing-rules.md):
a draft started from the rules in force, edited as YAML (typed or uploaded), then published
as the agency's next version: immutable from then on, content-hashed, the version it
replaces marked superseded, who and when recorded (and every change in the change history).

Every function takes the acting administrator and works on *their* agency's line only: the
agency comes from the account, never from the request, so an administrator of one agency
has no way to name another's rules. The default's line (agency empty) changes only through
its rule files and `load_referral_seeds`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from config.errors import InvalidState, ValidationError
from config.history import history_user_set
from referrals.models import RoutingRuleSet
from referrals.permissions import routing_admin_agency_id, routing_draft_access
from referrals.routing import RoutingDefinition, RoutingFileError, parse_routing
from referrals.routing_text import ParsedRules, routing_text, routing_text_parse
from referrals.services.routing import routing_rule_set_current
from screening.models import User

# An agency's own versions form one line, named after the agency's id (never its name).
AGENCY_LINE_SLUG = "agency-{agency_id}-routing"
# Rules of a draft when nothing is in force yet (rules need at least one).
STARTER_RULES = {
    "title": "Our routing rules",
    "rules": [
        {
            "key": "indicated_case_management",
            "text": "Trafficking indicated: a case manager follows up.",
            "when": {"outcome": ["indicated"]},
            "refer": [{"service_type": "case_management", "priority": "high"}],
        }
    ],
}
FIELD = "text"  # the form field a draft's problems are reported on


def agency_line_slug(agency_id: int) -> str:
    return AGENCY_LINE_SLUG.format(agency_id=agency_id)


def definition_of(rule_set: RoutingRuleSet) -> RoutingDefinition:
    return parse_routing(rule_set.definition, origin=str(rule_set))


def rules_fingerprint(definition: RoutingDefinition | dict) -> str:
    """What "the same rules" means for publishing: the rules, in order (title, slug, version
    and status aside)."""
    if isinstance(definition, dict):
        definition = RoutingDefinition.model_validate(definition)
    return definition.model_copy(
        update={"slug": "x", "version": 1, "status": "draft", "title": "x"}
    ).content_hash()


def _problems_error(error: RoutingFileError) -> ValidationError:
    messages = []
    for problem in error.problems:
        where = f"line {problem.line}" if problem.line else ""
        if problem.field:
            where = f"{where}, {problem.field}" if where else problem.field
        messages.append(f"{where}: {problem.message}" if where else problem.message)
    return ValidationError("The rules were not saved: correct them first.", {FIELD: messages})


@transaction.atomic
def routing_draft_create(*, by: User) -> RoutingRuleSet:
    """The agency's draft: the existing one, else a new one holding the rules in force (the
    agency's own, else the default's), numbered after the agency's newest version."""
    agency_id = routing_admin_agency_id(by)
    existing = RoutingRuleSet.objects.filter(
        agency_id=agency_id, status=RoutingRuleSet.Status.DRAFT
    ).first()
    if existing is not None:
        return existing
    slug = agency_line_slug(agency_id)
    in_force = routing_rule_set_current(agency_id=agency_id)
    newest = RoutingRuleSet.objects.filter(slug=slug).aggregate(Max("number"))["number__max"]
    number = (newest or 0) + 1
    base = in_force.definition if in_force is not None else STARTER_RULES
    definition = RoutingDefinition.model_validate(
        {**base, "slug": slug, "version": number, "status": "draft"}
    )
    started_from = f"{in_force} in force" if in_force is not None else "a starter rule"
    draft = RoutingRuleSet(
        agency_id=agency_id,
        slug=slug,
        number=number,
        status=RoutingRuleSet.Status.DRAFT,
        title=definition.title,
        definition=definition.model_dump(mode="json", by_alias=True),
        content_hash=definition.content_hash(),
        source_text=routing_text(
            definition,
            header=f"Draft v{number}, started from {started_from}.\n"
            "Conditions and services: docs/routing-rules.md. Slug, version and status are "
            "set on saving.",
        ),
        based_on=in_force,
        created_by=by,
    )
    history_user_set(draft, by)
    try:
        with transaction.atomic():
            draft.save()
    except IntegrityError:  # another administrator of the agency started one just now
        return RoutingRuleSet.objects.get(agency_id=agency_id, status=RoutingRuleSet.Status.DRAFT)
    return draft


@dataclass(frozen=True)
class DraftSaved:
    draft: RoutingRuleSet
    replaced: tuple[str, ...]


@transaction.atomic
def routing_draft_update(*, by: User, text: str) -> DraftSaved:
    """Replace the draft's rules with `text` (YAML, the rule file's format). Invalid text is a
    `ValidationError` naming line and field of each problem, and nothing is saved."""
    draft = routing_draft_access(user=by, for_update=True)
    try:
        parsed: ParsedRules = routing_text_parse(
            text, origin="draft", slug=draft.slug, version=draft.number
        )
    except RoutingFileError as error:
        raise _problems_error(error) from None
    definition = parsed.definition
    draft.title = definition.title
    draft.definition = definition.model_dump(mode="json", by_alias=True)
    draft.content_hash = definition.content_hash()
    draft.source_text = text
    history_user_set(draft, by)
    draft.save(update_fields=["title", "definition", "content_hash", "source_text"])
    return DraftSaved(draft=draft, replaced=parsed.replaced)


@transaction.atomic
def routing_draft_discard(*, by: User) -> None:
    draft = routing_draft_access(user=by, for_update=True)
    history_user_set(draft, by)
    draft.delete()


@transaction.atomic
def routing_draft_publish(*, by: User) -> RoutingRuleSet:
    """Publish the agency's draft as its rules in force from now on: frozen, content-hashed
    as a published version, who and when recorded, the agency's previous version superseded.
    A draft whose rules are those in force already is refused (a version that changes
    nothing would only hide which version changed something)."""
    draft = routing_draft_access(user=by, for_update=True)
    in_force = routing_rule_set_current(agency_id=draft.agency_id)
    definition = definition_of(draft)
    if in_force is not None and rules_fingerprint(definition) == rules_fingerprint(
        in_force.definition
    ):
        raise InvalidState(
            f"Not published: the draft's rules are the same as those in force ({in_force}). "
            "Change a rule first, or discard the draft."
        )
    now = timezone.now()
    published = definition.model_copy(update={"status": "published"})
    draft.status = RoutingRuleSet.Status.PUBLISHED
    draft.definition = published.model_dump(mode="json", by_alias=True)
    draft.content_hash = published.content_hash()
    draft.published_at = now
    draft.published_by = by
    history_user_set(draft, by)
    draft.save(
        update_fields=["status", "definition", "content_hash", "published_at", "published_by"]
    )
    previous = (
        RoutingRuleSet.objects.select_for_update()
        .filter(
            agency_id=draft.agency_id,
            status=RoutingRuleSet.Status.PUBLISHED,
            superseded_by__isnull=True,
        )
        .exclude(pk=draft.pk)
    )
    for old in previous:
        old.superseded_at = now
        old.superseded_by = draft
        history_user_set(old, by)
        old.save(update_fields=["superseded_at", "superseded_by"])
    return draft
