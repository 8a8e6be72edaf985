"""One seeded, fictional service as each role meets it, for the page walk-through tests (the
raw-code and id scans in tests/screening/pages/test_walkthrough_pages.py, the axe-core scan
and screenshots in tests/browser/test_accessibility.py).

`walkthrough_seed()` builds it through the services, as a real day would: the instruments,
routing rules and demo directory; a frontline officer's case with a submitted frontline v2
screening routed into referrals (blocked for consent, waiting for approval, failed, delivered
to an in-system inbox), a draft screening; and, for every role, a colleague in an agency with
nothing in it (the empty pages). `walkthrough_pages(seed)` lists the pages of each role.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from indicators.models import InstrumentVersion
from referrals.models import Referral, ReferralEvent, ServiceProvider
from referrals.services.delivery import CONSENTED_FIELDS
from referrals.services.routing import referral_route_screening
from screening import services
from screening.models import Agency, Case, Consent, Screening, User
from screening.roles import Role
from tests.factories import AgencyFactory, UserFactory

# Everything asked in frontline v2 answered yes, except immediate danger and one "don't know"
# (the browser flow's answers): trafficking is indicated.
DIRECTORY = Path(__file__).resolve().parents[1] / "seeds" / "providers" / "demo-directory.yaml"
NOT_YES = {"in_danger_now": "no", "debt_to_work_off": "unknown"}


@dataclass
class Walkthrough:
    users: dict[str, User] = field(default_factory=dict)
    case: Case | None = None
    submitted: Screening | None = None
    draft: Screening | None = None
    referrals: dict[str, Referral] = field(default_factory=dict)


def _frontline_v2() -> InstrumentVersion:
    return InstrumentVersion.objects.get(instrument__slug="frontline-adult-conversation", number=2)


def _all_yes(version: InstrumentVersion) -> dict[str, str]:
    from indicators.selectors import instrument_definition

    definition = instrument_definition(version)
    return {
        item.key: NOT_YES.get(item.key, "yes")
        for item in definition.items
        if item.response_type == "yes_no"
    }


def walkthrough_seed() -> Walkthrough:
    for role in Role:
        Group.objects.get_or_create(name=role.value)
    call_command("load_instruments", verbosity=0, stdout=io.StringIO())
    # The demo directory's providers with an inbox belong to agencies (seeds/demo/).
    directory = yaml.safe_load(DIRECTORY.read_text(encoding="utf-8"))
    for entry in directory["providers"]:
        if entry.get("agency"):
            Agency.objects.get_or_create(
                name=entry["agency"], defaults={"kind": Agency.Kind.SERVICE_PROVIDER}
            )
    call_command("load_referral_seeds", verbosity=0, stdout=io.StringIO())
    seed = Walkthrough()

    police = AgencyFactory(name="Harbour Police Unit", kind=Agency.Kind.LAW_ENFORCEMENT)
    quiet = AgencyFactory(name="Quiet Valley Outreach", kind=Agency.Kind.NGO_SOCIAL_SERVICES)
    shelter = ServiceProvider.objects.get(slug="safe-harbour-shelter")
    empty_provider = AgencyFactory(name="Empty Hills Refuge", kind=Agency.Kind.SERVICE_PROVIDER)
    people = {
        "officer": (police, Role.FRONTLINE_OFFICER, "Ana", "Okafor"),
        "supervisor": (police, Role.SUPERVISOR, "Ben", "Lindqvist"),
        "admin": (police, Role.AGENCY_ADMIN, "Chen", "Moreau"),
        "social_worker": (police, Role.SOCIAL_WORKER, "Iris", "Mbeki"),
        "hotline": (police, Role.HOTLINE_STAFF, "Jon", "Fischer"),
        "provider": (shelter.agency, Role.PROVIDER_STAFF, "Dara", "Nwosu"),
        "provider_admin": (shelter.agency, Role.AGENCY_ADMIN, "Hana", "Osei"),
        "empty_officer": (quiet, Role.FRONTLINE_OFFICER, "Eli", "Tanaka"),
        "empty_supervisor": (quiet, Role.SUPERVISOR, "Fay", "Kowalski"),
        "empty_provider": (empty_provider, Role.PROVIDER_STAFF, "Gil", "Haddad"),
    }
    for key, (agency, role, first, last) in people.items():
        seed.users[key] = UserFactory(
            username=f"walk.{key.replace('_', '-')}",
            agency=agency,
            role=role,
            first_name=first,
            last_name=last,
        )
    officer, supervisor = seed.users["officer"], seed.users["supervisor"]

    version = _frontline_v2()
    case = services.case_create(
        created_by=officer,
        age=34,
        languages=["es", "en"],
        gender="female",
        region="Harbour City",
        exploitation_type="labour",
    )
    screening = services.screening_start_with_consent(
        case=case,
        by=officer,
        instrument_version=version,
        setting="station",
        safe_to_talk="yes",
        alone="yes",
        consent_method="verbal",
        interpreter_used=True,
        interpreter_language="es",
        interpreter_independent=True,
    )
    screening = services.screening_save_answers(
        screening=screening,
        by=officer,
        answers=_all_yes(version),
        expected_version=screening.version,
    )
    seed.submitted = services.screening_submit(screening=screening, by=officer)
    referral_route_screening(screening_id=seed.submitted.pk)
    # A consent to shelter: routing again unblocks that one (it then waits for approval).
    services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.REFERRAL_SERVICE_TYPE,
        method=Consent.Method.WRITTEN,
        service_type="shelter",
        valid_until=timezone.now() + timedelta(days=30),
    )
    referral_route_screening(screening_id=seed.submitted.pk)
    seed.case = case
    for referral in Referral.objects.filter(screening=seed.submitted).select_related("provider"):
        seed.referrals.setdefault(referral.status, referral)

    # What the queue and the inbox hold after delivery: one delivered to the shelter's inbox,
    # one whose delivery failed.
    day_centre = ServiceProvider.objects.create(
        slug="safe-harbour-day-centre",
        name="Safe Harbour Day Centre",
        agency=shelter.agency,
        service_types=["case_management", "legal_aid"],
        regions=["Harbour City"],
        channel=ServiceProvider.Channel.INBOX,
        response_due_hours=12,
    )
    provider_consent = services.consent_record(
        case=case,
        by=officer,
        scope=Consent.Scope.REFERRAL_PROVIDER,
        method=Consent.Method.WRITTEN,
        provider_ref="safe-harbour-day-centre",
        valid_until=timezone.now() + timedelta(days=30),
    )
    delivered = (
        ("sent", "case_management", ""),
        ("failed", "legal_aid", "The provider's address did not answer."),
    )
    for status, service_type, error in delivered:
        referral = Referral.objects.create(
            case=case,
            case_agency_id=case.agency_id,
            provider_agency_id=shelter.agency_id,
            screening=seed.submitted,
            provider=day_centre,
            service_type=service_type,
            status=status,
            priority=2,
            consent_used=provider_consent,
            fields_disclosed=list(CONSENTED_FIELDS),
            due_at=timezone.now() + timedelta(hours=12),
            rule_key="indicated_core_services",
            last_delivery_error=error,
        )
        ReferralEvent.objects.create(
            referral=referral, to_status="proposed", note="indicated_core_services"
        )
        ReferralEvent.objects.create(
            referral=referral, from_status="proposed", to_status="pending_approval"
        )
        ReferralEvent.objects.create(
            referral=referral,
            from_status="pending_approval",
            to_status=status,
            by=supervisor,
            note="Checked with the officer; the person agreed to the shelter's call.",
        )
        seed.referrals[f"delivered_{status}"] = referral

    # A second case, with a screening still being answered.
    second = services.case_create(created_by=officer, age_band="adult", languages=["pt"])
    seed.draft = services.screening_start_with_consent(
        case=second,
        by=officer,
        instrument_version=version,
        setting="clinic",
        safe_to_talk="yes",
        alone="yes",
        consent_method="verbal",
    )
    return seed


@dataclass(frozen=True)
class Page:
    role: str
    name: str
    url: str


def _routing_version_url() -> str:
    """The default rules' newest published version (the rules of every agency here)."""
    from referrals.services.routing import routing_rule_set_current

    return reverse("routing:version", args=[routing_rule_set_current().pk])


def _shelter_url(name: str) -> str:
    return reverse(name, args=[ServiceProvider.objects.get(slug="safe-harbour-shelter").pk])


def walkthrough_pages(seed: Walkthrough) -> list[Page]:
    """Every page each role opens in a day, with data and empty."""
    case, submitted, draft = seed.case, seed.submitted, seed.draft
    reference = {"reference": case.reference}
    referral_pages = [
        Page("supervisor", f"referral ({status})", reverse("referrals:detail", args=[referral.pk]))
        for status, referral in sorted(seed.referrals.items())
    ]
    return [
        Page("anonymous", "sign in", reverse("login")),
        Page("officer", "my cases", reverse("screening:my-cases")),
        Page("officer", "new case", reverse("screening:case-new")),
        Page("officer", "case", reverse("screening:case-detail", kwargs=reference)),
        Page("officer", "who can see", reverse("screening:case-who-can-see", kwargs=reference)),
        Page("officer", "safety gate", reverse("screening:screening-gate", kwargs=reference)),
        Page("officer", "section", reverse("screening:screening-section", args=[draft.pk, 1])),
        Page("officer", "review", reverse("screening:screening-review", args=[draft.pk])),
        Page("officer", "result", reverse("screening:screening-result", args=[submitted.pk])),
        Page("officer", "API tokens", reverse("screening:api-tokens")),
        Page("officer", "account", reverse("screening:account")),
        Page("officer", "password", reverse("screening:password-change")),
        Page("officer", "two-step sign-in", reverse("mfa:overview")),
        Page("officer", "emergency access", reverse("screening:break-glass")),
        Page("supervisor", "agency cases", reverse("screening:agency-cases")),
        Page("supervisor", "case", reverse("screening:case-detail", kwargs=reference)),
        Page("supervisor", "result", reverse("screening:screening-result", args=[submitted.pk])),
        Page("supervisor", "queue", reverse("referrals:queue")),
        *referral_pages,
        Page(
            "supervisor",
            "access history",
            reverse("screening:case-access-history", kwargs=reference),
        ),
        Page("supervisor", "changes", reverse("screening:case-changes", kwargs=reference)),
        Page("supervisor", "emergency reviews", reverse("screening:break-glass-reviews")),
        Page("supervisor", "refused often", reverse("screening:refusal-flags")),
        Page("admin", "lockouts", reverse("screening:agency-lockouts")),
        Page("admin", "routing rules", reverse("routing:rules")),
        Page("admin", "routing rules version", _routing_version_url()),
        Page(
            "admin",
            "deactivate a member",
            reverse("screening:staff-deactivate", args=[seed.users["officer"].pk]),
        ),
        Page(
            "admin",
            "reset two-step sign-in",
            reverse("screening:staff-mfa-reset", args=[seed.users["officer"].pk]),
        ),
        Page("admin", "staff", reverse("screening:staff-list")),
        Page("admin", "add a member", reverse("screening:staff-new")),
        Page(
            "admin",
            "a member's page",
            reverse("screening:staff-detail", args=[seed.users["officer"].pk]),
        ),
        Page(
            "admin",
            "change roles",
            reverse("screening:staff-roles", args=[seed.users["officer"].pk]),
        ),
        Page(
            "admin",
            "new set-password link",
            reverse("screening:staff-password-link", args=[seed.users["officer"].pk]),
        ),
        Page("officer", "timeline", reverse("screening:case-timeline", kwargs=reference)),
        Page("officer", "my tasks", reverse("screening:my-tasks")),
        Page("officer", "notifications", reverse("screening:notifications")),
        Page("supervisor", "transfers", reverse("screening:transfers")),
        Page("hotline", "contacts", reverse("screening:contacts")),
        Page("hotline", "log a contact", reverse("screening:contact-new")),
        Page("social_worker", "my cases", reverse("screening:my-cases")),
        Page("hotline", "new case", reverse("screening:case-new")),
        Page("provider", "inbox", reverse("referrals:inbox")),
        Page("provider_admin", "providers", reverse("providers:list")),
        Page("provider_admin", "add a service", reverse("providers:new")),
        Page("provider_admin", "edit a provider", _shelter_url("providers:edit")),
        Page("provider_admin", "a provider's history", _shelter_url("providers:history")),
        Page("empty_officer", "my cases", reverse("screening:my-cases")),
        Page("empty_supervisor", "agency cases", reverse("screening:agency-cases")),
        Page("empty_supervisor", "queue", reverse("referrals:queue")),
        Page("empty_supervisor", "emergency reviews", reverse("screening:break-glass-reviews")),
        Page("empty_provider", "inbox", reverse("referrals:inbox")),
        Page("officer", "not found", "/cases/C-AAAA-AAAA/"),
    ]
