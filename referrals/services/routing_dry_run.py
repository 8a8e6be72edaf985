"""The dry run of a draft: routing's rules evaluated again, with the draft and with the rules
in force, on the stored results of the agency's last screenings. Nothing is written and no
provider is asked: providers are chosen from the directory the same way whichever rules
raised the need, so what differs between two versions is the services each screening would
have been referred to, at which priority, whether mandatory and to how many providers.

Counting "referrals proposed differently" (each need is one referral per provider):
- a service only the draft raises: its providers count (one, unless the rule asks for more);
- a service only the rules in force raise: theirs;
- a service both raise with another priority or mandatory flag: every referral of it, the
  larger of the two counts; with only the number of providers changed, the difference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from referrals.routing import RoutingDefinition, ServiceNeed
from referrals.selectors import routing_dry_run_screenings
from referrals.services.routing import routing_needs

DRY_RUN_DEFAULT = 50
DRY_RUN_MAX = 500


@dataclass(frozen=True)
class NeedChange:
    service_type: str
    kind: str  # "added", "removed", "changed"
    before: ServiceNeed | None
    after: ServiceNeed | None
    referrals: int

    @property
    def what(self) -> tuple[str, ...]:
        if self.before is None or self.after is None:
            return ()
        changed = []
        if self.before.priority != self.after.priority:
            changed.append("priority")
        if self.before.mandatory != self.after.mandatory:
            changed.append("mandatory")
        if self.before.providers != self.after.providers:
            changed.append("providers")
        return tuple(changed)


@dataclass(frozen=True)
class ScreeningDifference:
    case_reference: str
    submitted_at: datetime | None
    changes: tuple[NeedChange, ...]


@dataclass
class DryRun:
    screenings: int = 0
    differences: list[ScreeningDifference] = field(default_factory=list)

    @property
    def referrals(self) -> int:
        return sum(change.referrals for diff in self.differences for change in diff.changes)

    def _count(self, kind: str) -> int:
        return sum(
            change.referrals
            for diff in self.differences
            for change in diff.changes
            if change.kind == kind
        )

    @property
    def more(self) -> int:
        return self._count("added")

    @property
    def fewer(self) -> int:
        return self._count("removed")

    @property
    def changed(self) -> int:
        return self._count("changed")


def needs_compare(before: list[ServiceNeed], after: list[ServiceNeed]) -> list[NeedChange]:
    """Service by service: what the draft (`after`) would propose differently."""
    old = {need.service_type: need for need in before}
    new = {need.service_type: need for need in after}
    changes = []
    for service_type in sorted(old.keys() | new.keys()):
        was, will = old.get(service_type), new.get(service_type)
        if was is None and will is not None:
            changes.append(NeedChange(service_type, "added", None, will, will.providers))
        elif will is None and was is not None:
            changes.append(NeedChange(service_type, "removed", was, None, was.providers))
        elif was is not None and will is not None:
            if (was.priority, was.mandatory) != (will.priority, will.mandatory):
                count = max(was.providers, will.providers)
            else:
                count = abs(was.providers - will.providers)
            if count:
                changes.append(NeedChange(service_type, "changed", was, will, count))
    return changes


def routing_dry_run(
    *,
    agency_id: int,
    draft: RoutingDefinition,
    in_force: RoutingDefinition | None,
    limit: int = DRY_RUN_DEFAULT,
) -> DryRun:
    """Compare `draft` with `in_force` on the agency's last `limit` screenings (bounded by
    DRY_RUN_MAX). Reads only: one query for the screenings, none per screening."""
    limit = max(1, min(int(limit), DRY_RUN_MAX))
    screenings = routing_dry_run_screenings(agency_id=agency_id, limit=limit)
    run = DryRun(screenings=len(screenings))
    for screening in screenings:
        facts = {
            "outcome": screening.outcome_in_force,
            "result": screening.result,
            "case": screening.case,
        }
        changes = needs_compare(
            routing_needs(definition=in_force, **facts), routing_needs(definition=draft, **facts)
        )
        if changes:
            run.differences.append(
                ScreeningDifference(
                    case_reference=screening.case.reference,
                    submitted_at=screening.submitted_at,
                    changes=tuple(changes),
                )
            )
    return run
