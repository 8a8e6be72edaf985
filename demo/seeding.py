"""The demo's cases: about 30 fictional cases across the demo roles, built through the services
as a real week would build them (case_create, the screening consent and answers, submit,
routing, consents, supervisor decisions, delivery, provider answers, notes, tasks, contacts),
so every invariant and history row holds. Every person in them is invented.

The demo data is what belongs to the demo agencies (seeds/demo/directory.yaml); each case's
narrative also says it is a fictional demo case. `demo_cases_seed` does nothing when those
agencies already have cases: running it again changes nothing.

The outbox's work runs in this process while seeding (Celery eager, config/outbox.py), and
each hand-over is also called explicitly (routing, delivery, consent withdrawal): all of
them are idempotent, so whichever runs second finds the work done.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from celery import current_app
from django.db import transaction
from django.utils import timezone

from demo.receiver import ReceiverState, receiver_server, receiver_state, webhook_secrets
from indicators.models import InstrumentVersion
from indicators.selectors import instrument_definition
from referrals.errors import DeliveryRetry
from referrals.models import Referral, ServiceProvider
from referrals.models import ReferralStatus as S
from referrals.services.answers import referral_provider_answer
from referrals.services.decisions import referral_approve, referral_decline
from referrals.services.delivery import referral_dispatch
from referrals.services.outcomes import referral_close
from referrals.services.routing import referral_route_for_consent, referral_route_screening
from referrals.services.transitions import referral_transition
from referrals.services.withdrawal import referrals_cancel_for_withdrawn_consent
from screening import services
from screening.models import Agency, Case, CaseCloseReason, CaseNote, Consent, Contact, User

MARKER = "Fictional demo case (seed_demo): no real person."

# Target states for a case's referrals, by service type; "*" for the others.
PENDING = "pending"  # left as routing and consent put it (waiting for approval or consent)
SENT = "sent"
ACKNOWLEDGED = "acknowledged"
ACCEPTED = "accepted"
STARTED = "services_started"
CLOSED = "closed"
DECLINED_BY_SUPERVISOR = "declined_by_supervisor"
DECLINED_BY_PROVIDER = "declined_by_provider"
EXPIRED = "expired"
FAILED = "failed"


@dataclass(frozen=True)
class Story:
    by: str  # the demo username who opens the case
    instrument: str  # slug; the newest version is used
    signs: str  # "strong", "some" or "none": how the yes/no questions are answered
    setting: str
    case: dict
    draft: bool = False  # the screening is left unanswered and unsubmitted
    consent_for: tuple[str, ...] = ()  # service types the person agreed to be referred for
    targets: dict[str, str] = field(default_factory=dict)
    note: str = ""
    task: tuple[str, int] | None = None  # a follow-up and the hours until it is due
    withdraw: str = ""  # a service type whose consent the person withdraws afterwards
    close: str = ""  # a CaseCloseReason: the case is closed at the end


HARBOUR_WOMAN = {"gender": "female", "region": "Harbour City", "languages": ["en", "es"]}
RIVERSIDE_MAN = {"gender": "male", "region": "Riverside", "languages": ["en", "ro"]}

STORIES: tuple[Story, ...] = (
    # --- Riverside Police: the officer's cases, decided by the supervisor ----------------------
    Story(
        "demo.officer",
        "frontline-adult-conversation",
        "strong",
        "station",
        {
            **HARBOUR_WOMAN,
            "age": 29,
            "exploitation_type": "labour",
            "identifying_name": "Lira Venhollow",
        },
        consent_for=("shelter", "case_management", "medical", "legal_aid"),
        targets={"*": PENDING},
        note="Met at the station with an independent interpreter; agreed to talk again.",
        task=("Call back about the shelter place", 20),
    ),
    Story(
        "demo.officer",
        "frontline-adult-conversation",
        "strong",
        "street_field",
        {**HARBOUR_WOMAN, "age": 34, "exploitation_type": "sexual"},
        consent_for=("shelter", "case_management", "medical", "legal_aid"),
        targets={"shelter": SENT, "case_management": ACKNOWLEDGED, "*": PENDING},
        task=("Check the clinic appointment was kept", -3),
    ),
    Story(
        "demo.officer",
        "ilo-ec-adult-labour",
        "strong",
        "premises_inspection",
        {**HARBOUR_WOMAN, "age": 41, "exploitation_type": "labour"},
        consent_for=("shelter", "case_management", "medical", "legal_aid", "labour_rights"),
        targets={"shelter": ACCEPTED, "case_management": STARTED, "*": SENT},
    ),
    Story(
        "demo.officer",
        "ilo-ec-adult-sexual",
        "strong",
        "clinic",
        {**HARBOUR_WOMAN, "age": 26, "exploitation_type": "sexual"},
        consent_for=("shelter", "case_management", "medical"),
        targets={"shelter": CLOSED, "case_management": CLOSED, "medical": CLOSED, "*": PENDING},
        close=CaseCloseReason.SERVICES_IN_PLACE,
    ),
    Story(
        "demo.officer",
        "frontline-adult-conversation",
        "strong",
        "station",
        {**HARBOUR_WOMAN, "age": 38, "exploitation_type": "both"},
        consent_for=("shelter", "case_management", "legal_aid"),
        targets={"shelter": DECLINED_BY_PROVIDER, "case_management": EXPIRED, "*": PENDING},
        note="The shelter had no bed tonight; the person stays with a friend for now.",
    ),
    Story(
        "demo.officer",
        "ilo-forced-labour-11",
        "strong",
        "premises_inspection",
        {**RIVERSIDE_MAN, "age": 45, "exploitation_type": "labour"},
        consent_for=("shelter", "labour_rights", "legal_aid", "case_management", "medical"),
        targets={"shelter": FAILED, "legal_aid": SENT, "*": PENDING},
        task=("Ask the supervisor to look at the failed legal aid referral", 4),
    ),
    Story(
        "demo.officer",
        "ilo-ec-adult-labour",
        "strong",
        "street_field",
        {**RIVERSIDE_MAN, "age": 33, "exploitation_type": "labour"},
        consent_for=("labour_rights", "shelter", "medical"),
        targets={"labour_rights": DECLINED_BY_SUPERVISOR, "*": PENDING},
    ),
    Story(
        "demo.officer",
        "frontline-adult-conversation",
        "strong",
        "station",
        {**HARBOUR_WOMAN, "age": 31, "exploitation_type": "labour"},
        consent_for=("shelter", "case_management", "medical"),
        targets={"*": PENDING},
        withdraw="medical",
        note="The person asked us not to contact the clinic after all.",
    ),
    Story(
        "demo.officer",
        "frontline-adult-conversation",
        "some",
        "street_field",
        {"gender": "another", "region": "Harbour City", "languages": ["tl", "en"], "age": 24},
        consent_for=("case_management",),
        targets={"*": SENT},
        task=("Second conversation, same interpreter", 48),
    ),
    Story(
        "demo.officer",
        "ilo-ec-adult-labour",
        "some",
        "premises_inspection",
        {**RIVERSIDE_MAN, "age": 52, "exploitation_type": "labour"},
        targets={"*": PENDING},
    ),
    Story(
        "demo.officer",
        "ilo-ec-adult-sexual",
        "some",
        "clinic",
        {**HARBOUR_WOMAN, "age_band": "adult", "exploitation_type": "sexual"},
        consent_for=("shelter", "medical", "case_management"),
        targets={"*": PENDING},
    ),
    Story(
        "demo.officer",
        "frontline-adult-conversation",
        "none",
        "station",
        {**RIVERSIDE_MAN, "age": 28},
        close=CaseCloseReason.NO_INDICATORS,
    ),
    Story(
        "demo.officer",
        "ilo-ec-child-labour",
        "strong",
        "premises_inspection",
        {
            "gender": "male",
            "region": "Riverside",
            "languages": ["en"],
            "age": 15,
            "exploitation_type": "labour",
        },
        targets={"child_welfare": SENT, "*": PENDING},
        note="Child welfare told at once: a mandatory report, consent cannot block it.",
    ),
    Story(
        "demo.officer",
        "youth-short-screen",
        "strong",
        "street_field",
        {"gender": "female", "region": "Lakeshore", "languages": ["en"], "age": 16},
        targets={"child_welfare": ACCEPTED, "*": PENDING},
    ),
    Story(
        "demo.officer",
        "frontline-adult-conversation",
        "strong",
        "clinic",
        {**HARBOUR_WOMAN, "age": 36, "exploitation_type": "labour"},
        draft=True,
    ),
    Story(
        "demo.officer",
        "ilo-ec-adult-sexual",
        "strong",
        "shelter",
        {**HARBOUR_WOMAN, "age": 22, "exploitation_type": "sexual"},
        draft=True,
        task=("Finish the screening when the person is ready", 24),
    ),
    Story(
        "demo.supervisor",
        "frontline-adult-conversation",
        "strong",
        "station",
        {**HARBOUR_WOMAN, "age": 30, "exploitation_type": "labour"},
        consent_for=("shelter", "case_management", "medical", "legal_aid"),
        targets={"*": PENDING},
    ),
    Story(
        "demo.supervisor",
        "ilo-ec-adult-labour",
        "strong",
        "premises_inspection",
        {**RIVERSIDE_MAN, "age": 39, "exploitation_type": "labour"},
        consent_for=("labour_rights", "medical", "shelter"),
        targets={"medical": SENT, "*": PENDING},
    ),
    Story(
        "demo.officer",
        "ilo-ec-adult-sexual",
        "strong",
        "shelter",
        {
            "gender": "another",
            "region": "Harbour City",
            "languages": ["en"],
            "age": 25,
            "exploitation_type": "sexual",
        },
        consent_for=("shelter", "case_management"),
        targets={"shelter": ACKNOWLEDGED, "*": PENDING},
        note="Prefers to be contacted through the outreach worker.",
    ),
    Story(
        "demo.officer",
        "ilo-forced-labour-11",
        "some",
        "street_field",
        {**RIVERSIDE_MAN, "age": 37, "exploitation_type": "labour"},
        task=("Visit the site again with the labour inspector", 96),
    ),
    Story(
        "demo.supervisor",
        "frontline-adult-conversation",
        "strong",
        "clinic",
        {**HARBOUR_WOMAN, "age": 42, "exploitation_type": "both"},
        consent_for=("shelter", "medical", "case_management"),
        targets={"case_management": SENT, "medical": SENT, "*": PENDING},
    ),
    # --- Harbour City Outreach: the social worker's cases -------------------------------------
    Story(
        "demo.socialworker",
        "ilo-ec-adult-sexual",
        "strong",
        "shelter",
        {**HARBOUR_WOMAN, "age": 27, "exploitation_type": "sexual"},
        consent_for=("shelter", "case_management"),
        note="Safety plan agreed: a code word for the phone.",
        task=("Safety planning follow-up", -6),
    ),
    Story(
        "demo.socialworker",
        "qyit",
        "strong",
        "clinic",
        {"gender": "female", "region": "Harbour City", "languages": ["pt", "en"], "age": 17},
        note="Seen with a trusted adult present.",
        task=("Meet the child welfare worker together", 30),
    ),
    Story(
        "demo.socialworker",
        "frontline-adult-conversation",
        "some",
        "clinic",
        {"gender": "male", "region": "Harbour City", "languages": ["vi"], "age": 44},
        task=("Find a Vietnamese interpreter for next week", 72),
    ),
    Story(
        "demo.socialworker",
        "ilo-ec-adult-labour",
        "strong",
        "street_field",
        {**HARBOUR_WOMAN, "age": 35, "exploitation_type": "labour"},
        draft=True,
    ),
    Story(
        "demo.socialworker",
        "youth-short-screen",
        "some",
        "clinic",
        {"gender": "male", "region": "Harbour City", "languages": ["en"], "age": 16},
        draft=True,
    ),
    Story(
        "demo.socialworker",
        "frontline-adult-conversation",
        "none",
        "clinic",
        {"gender": "female", "region": "Harbour City", "languages": ["en"], "age": 50},
        close=CaseCloseReason.NO_INDICATORS,
    ),
    Story(
        "demo.socialworker",
        "qyit",
        "some",
        "clinic",
        {"gender": "male", "region": "Harbour City", "languages": ["es", "en"], "age": 15},
        task=("Talk to the school counsellor", -1),
    ),
    Story(
        "demo.socialworker",
        "ilo-ec-adult-sexual",
        "some",
        "shelter",
        {**HARBOUR_WOMAN, "age": 23, "exploitation_type": "sexual"},
        consent_for=("case_management",),
        task=("Call the case manager", 8),
    ),
)

# Hotline contacts logged today (Northline Helpline), some still drafts, one opening a case.
CONTACTS: tuple[dict, ...] = (
    {
        "channel": "phone",
        "contact_type": "tip",
        "caller_type": "community_member",
        "caller_region": "Harbour City",
        "language": "en",
        "exploitation_type": "labour",
        "summary": "Caller saw workers sleeping at a car wash (fictional demo contact).",
        "finalise": True,
    },
    {
        "channel": "chat",
        "contact_type": "crisis",
        "caller_type": "possible_victim",
        "caller_region": "Riverside",
        "language": "es",
        "immediate_danger": True,
        "summary": "Chat ended suddenly; caller may call back (fictional demo contact).",
    },
    {
        "channel": "phone",
        "contact_type": "referral_request",
        "caller_type": "service_provider",
        "caller_region": "Lakeshore",
        "language": "en",
        "summary": "A clinic asks where to refer a patient (fictional demo contact).",
        "finalise": True,
    },
    {
        "channel": "text",
        "contact_type": "information",
        "caller_type": "family_friend",
        "caller_region": "Harbour City",
        "language": "en",
        "summary": "A friend asks what the hotline can do (fictional demo contact).",
    },
    {
        "channel": "phone",
        "contact_type": "crisis",
        "caller_type": "possible_victim",
        "caller_region": "Harbour City",
        "language": "tl",
        "exploitation_type": "labour",
        "summary": "Domestic worker, passport held by the employer (fictional demo contact).",
        "create_case": True,
        "finalise": True,
    },
    {
        "channel": "email",
        "contact_type": "tip",
        "caller_type": "anonymous",
        "caller_region": "Riverside",
        "language": "en",
        "summary": "Anonymous tip about a massage business (fictional demo contact).",
    },
)


@dataclass
class SeedReport:
    cases: int = 0
    screenings: int = 0
    contacts: int = 0
    notes: int = 0
    tasks: int = 0
    referrals: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)
    already_seeded: bool = False


def demo_agencies(names: list[str]) -> list[Agency]:
    return list(Agency.objects.filter(name__in=names))


def demo_cases_seed(
    *,
    agency_names: list[str],
    progress: Callable[[str], None] = lambda line: None,
) -> SeedReport:
    """Create the demo cases, unless the demo agencies have cases already (then nothing)."""
    report = SeedReport()
    agencies = demo_agencies(agency_names)
    if Case.objects.filter(agency__in=agencies).exists():
        report.already_seeded = True
        return report
    users = {user.username: user for user in User.objects.filter(agency__in=agencies)}
    with _outbox_in_process(), _quiet_routing(), _receiver() as receiver:
        if receiver is None:
            report.skipped.append(
                "the webhook receiver's port is taken: referrals to webhook providers are "
                "left waiting for approval"
            )
        for index, story in enumerate(STORIES, start=1):
            _story_seed(story, users=users, receiver=receiver, report=report)
            if index % 5 == 0 or index == len(STORIES):
                progress(f"cases: {index}/{len(STORIES)}")
        hotline = users.get("demo.hotline")
        for entry in CONTACTS if hotline else ():
            _contact_seed(entry, by=hotline, report=report)
        progress(f"contacts: {report.contacts}")
    statuses = Referral.objects.filter(case__agency__in=agencies).values_list("status", flat=True)
    report.referrals = Counter(statuses)
    report.cases = Case.objects.filter(agency__in=agencies).count()
    return report


@contextmanager
def _outbox_in_process() -> Iterator[None]:
    """While seeding, the outbox's handlers run in this process: no worker is running yet."""
    before = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        yield
    finally:
        current_app.conf.task_always_eager = before


@contextmanager
def _quiet_routing() -> Iterator[None]:
    """Routing's and delivery's per-referral lines would bury the progress."""
    routing = logging.getLogger("referrals.services")
    before = routing.level
    routing.setLevel(logging.ERROR)
    try:
        yield
    finally:
        routing.setLevel(before)


@contextmanager
def _receiver() -> Iterator[ReceiverState | None]:
    """The demo webhook receiver in a thread while seeding (None when its port is taken)."""
    state = receiver_state(quiet=True, secrets=webhook_secrets())
    try:
        server = receiver_server(state)
    except OSError:
        yield None
        return
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _version(slug: str) -> InstrumentVersion:
    version = (
        InstrumentVersion.objects.filter(instrument__slug=slug, status="published")
        .order_by("-number")
        .first()
    )
    if version is None:
        raise LookupError(f"instrument {slug} is not loaded (run manage.py load_instruments)")
    return version


def _answers(version: InstrumentVersion, signs: str) -> dict[str, str]:
    """Yes/no questions answered by the story's pattern; choices take their first option.
    "strong" answers yes except to danger right now; "some" says yes to every third."""
    answers: dict[str, str] = {}
    for position, item in enumerate(instrument_definition(version).items):
        if item.response_type == "yes_no":
            danger = "danger" in item.key or "crisis" in item.key
            if signs == "strong":
                answers[item.key] = "no" if danger else "yes"
            elif signs == "some":
                answers[item.key] = "yes" if position % 3 == 0 and not danger else "no"
            else:
                answers[item.key] = "no"
        elif item.response_type == "single_choice" and item.options:
            answers[item.key] = item.options[-1 if signs == "none" else 0].value
    return answers


def _story_seed(
    story: Story, *, users: dict[str, User], receiver: ReceiverState | None, report: SeedReport
) -> None:
    by = users[story.by]
    supervisor = (
        users["demo.supervisor"] if by.agency_id == users["demo.supervisor"].agency_id else None
    )
    version = _version(story.instrument)
    case = services.case_create(created_by=by, narrative=MARKER, **story.case)
    report.cases += 1
    screening = services.screening_start_with_consent(
        case=case,
        by=by,
        instrument_version=version,
        setting=story.setting,
        safe_to_talk="yes",
        alone="yes",
        consent_method="verbal",
    )
    report.screenings += 1
    if story.note:
        services.case_note_add(case=case, by=by, kind=CaseNote.Kind.OTHER, text=story.note)
        report.notes += 1
    if story.task:
        description, hours = story.task
        services.case_task_add(
            case=case,
            by=by,
            description=description,
            due_at=timezone.now() + timedelta(hours=hours),
        )
        report.tasks += 1
    if story.draft:
        return
    screening = services.screening_save_answers(
        screening=screening,
        by=by,
        answers=_answers(version, story.signs),
        expected_version=screening.version,
    )
    screening = services.screening_submit(screening=screening, by=by)
    referral_route_screening(screening_id=screening.pk)
    consents = {}
    for service_type in story.consent_for:
        consent = services.consent_record(
            case=case,
            by=by,
            scope=Consent.Scope.REFERRAL_SERVICE_TYPE,
            method=Consent.Method.WRITTEN,
            service_type=service_type,
            valid_until=timezone.now() + timedelta(days=60),
        )
        consents[service_type] = consent
        referral_route_for_consent(consent_id=consent.pk)
    referrals = Referral.objects.filter(case=case).select_related("provider").order_by("pk")
    for referral in referrals:
        target = story.targets.get(referral.service_type, story.targets.get("*", PENDING))
        if supervisor is not None:
            _drive(referral, target, supervisor=supervisor, users=users, receiver=receiver)
    if story.withdraw and story.withdraw in consents:
        services.consent_withdraw(
            consent=consents[story.withdraw], by=by, note="Asked on the phone (demo)."
        )
        referrals_cancel_for_withdrawn_consent(consent_id=consents[story.withdraw].pk)
    if story.close:
        services.case_close(case=case, by=by, reason_code=story.close)


def _drive(
    referral: Referral,
    target: str,
    *,
    supervisor: User,
    users: dict[str, User],
    receiver: ReceiverState | None,
) -> None:
    """Take one referral from waiting for approval to `target`, through the services."""
    if target == PENDING or referral.status != S.PENDING_APPROVAL:
        return
    if target == DECLINED_BY_SUPERVISOR:
        referral_decline(
            referral_id=referral.pk,
            by=supervisor,
            reason_code=Referral.DeclineReason.DUPLICATE,
            note="Already referred through the labour inspectorate (demo).",
        )
        return
    webhook = referral.provider.channel == ServiceProvider.Channel.WEBHOOK
    if webhook and receiver is None:
        return  # nobody to deliver to: left for the supervisor to approve in the demo
    if target == FAILED:
        if not webhook:
            return
        receiver.refuse.add(referral.idempotency_key)
    referral_approve(referral_id=referral.pk, by=supervisor, note="Checked with the officer.")
    try:
        referral_dispatch(referral_id=referral.pk)
    except DeliveryRetry:
        return  # a temporary failure: the worker retries it once the demo runs
    referral.refresh_from_db()
    if referral.status != S.SENT or target in (SENT, FAILED):
        return
    answer = _answerer(referral, users)
    if target == EXPIRED:
        with transaction.atomic():
            locked = Referral.objects.select_for_update().get(pk=referral.pk)
            referral_transition(
                referral=locked, to=S.EXPIRED, note="No answer from the provider in time (demo)."
            )
        return
    if target == DECLINED_BY_PROVIDER:
        answer("decline", reason_code=Referral.DeclineReason.NO_CAPACITY, note="No bed tonight.")
        return
    answer("acknowledge")
    if target == ACKNOWLEDGED:
        return
    answer("accept", note="We will call the referring officer today.")
    if target == ACCEPTED:
        return
    answer("services_started")
    if target == CLOSED:
        referral_close(
            referral_id=referral.pk,
            by=supervisor,
            outcome=Referral.Outcome.SERVICES_DELIVERED,
            note="Support in place (demo).",
        )


def _answerer(referral: Referral, users: dict[str, User]) -> Callable[..., Referral]:
    """A provider's answers: by its staff on the provider page when the demo has them (the
    shelter's inbox), else as its signed callback would."""
    staff = users.get("demo.provider")
    by_staff = staff is not None and referral.provider.agency_id == staff.agency_id

    def answer(kind: str, **options) -> Referral:
        if by_staff:
            return referral_provider_answer(
                referral_id=referral.pk, answer=kind, by=staff, **options
            )
        return referral_provider_answer(
            referral_id=referral.pk, answer=kind, provider=referral.provider, **options
        )

    return answer


def _contact_seed(entry: dict, *, by: User, report: SeedReport) -> None:
    entry = dict(entry)
    finalise = entry.pop("finalise", False)
    contact = services.contact_create(created_by=by, **entry)
    report.contacts += 1
    if finalise:
        services.contact_finalise(contact=contact, by=by)
    assert isinstance(contact, Contact)
