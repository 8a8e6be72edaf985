"""The home page's counts for each role (issue 14): what is waiting for this person, each
count a link to the list it counts. Every count is bounded (`bounded_count`: a COUNT over at
most HOME_COUNT_LIMIT + 1 rows, shown as "100+" beyond) and walks an index that starts with
the user, their agency or the provider's agency, so a home page costs the same for a worker
with ten items and one with ten thousand. Lives in referrals/ because it reads both apps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from referrals.models import INBOX_STATUSES, Referral, ReferralStatus
from screening.models import CaseTask, Contact, Notification, Screening, User
from screening.roles import Role

HOME_COUNT_LIMIT = 100


@dataclass(frozen=True)
class HomeCount:
    label: str
    count: int
    link: str
    urgent: bool = False

    @property
    def shown(self) -> str:
        return f"{HOME_COUNT_LIMIT}+" if self.count > HOME_COUNT_LIMIT else str(self.count)


@dataclass(frozen=True)
class HomeSection:
    title: str
    counts: list[HomeCount]


def bounded_count(rows: QuerySet) -> int:
    """How many rows, up to HOME_COUNT_LIMIT + 1 (one query, the database stops there)."""
    return rows.order_by()[: HOME_COUNT_LIMIT + 1].count()


def _worker(user: User, now: datetime) -> HomeSection:
    tasks = CaseTask.objects.filter(assignee=user, done_at__isnull=True)
    return HomeSection(
        "Your work",
        [
            HomeCount(
                "Draft screenings",
                bounded_count(Screening.objects.filter(screener=user, status="draft")),
                "/",
            ),
            HomeCount("Tasks due", bounded_count(tasks.filter(due_at__lte=now)), "/tasks/", True),
            HomeCount("Open tasks", bounded_count(tasks), "/tasks/"),
            HomeCount(
                "Unread notifications (referral answers among them)",
                bounded_count(Notification.objects.filter(user=user, read_at__isnull=True)),
                "/notifications/",
            ),
        ],
    )


def _supervisor(user: User, now: datetime) -> HomeSection:
    queue = Referral.objects.filter(case_agency_id=user.agency_id, queue_rank__isnull=False)
    return HomeSection(
        "Referral queue",
        [
            HomeCount(
                "Delivery failed",
                bounded_count(queue.filter(status=ReferralStatus.FAILED)),
                "/referrals/queue/?status=failed",
                True,
            ),
            HomeCount(
                "Waiting for approval",
                bounded_count(queue.filter(status=ReferralStatus.PENDING_APPROVAL)),
                "/referrals/queue/?status=pending_approval",
            ),
            HomeCount(
                "Blocked: needs consent",
                bounded_count(queue.filter(status=ReferralStatus.BLOCKED_NEEDS_CONSENT)),
                "/referrals/queue/?status=blocked_needs_consent",
            ),
            HomeCount(
                "Escalated",
                bounded_count(queue.filter(escalated_at__isnull=False)),
                "/referrals/queue/?escalation=any",
                True,
            ),
        ],
    )


def _provider(user: User, now: datetime) -> HomeSection:
    inbox = Referral.objects.filter(provider_agency_id=user.agency_id, status__in=INBOX_STATUSES)
    counts = [
        HomeCount(
            ReferralStatus(status).label,
            bounded_count(inbox.filter(status=status)),
            "/referrals/inbox/",
        )
        for status in INBOX_STATUSES
    ]
    counts.append(
        HomeCount(
            "Answers overdue",
            bounded_count(
                inbox.filter(
                    status__in=(ReferralStatus.SENT, ReferralStatus.ACKNOWLEDGED), due_at__lt=now
                )
            ),
            "/referrals/inbox/",
            True,
        )
    )
    return HomeSection("Referral inbox", counts)


def _hotline(user: User, now: datetime) -> HomeSection:
    today = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    contacts = Contact.objects.filter(agency_id=user.agency_id)
    return HomeSection(
        "Contacts",
        [
            HomeCount(
                "Contacts logged today",
                bounded_count(contacts.filter(created_at__gte=today)),
                "/contacts/",
            ),
            HomeCount(
                "Your drafts",
                bounded_count(contacts.filter(created_by=user, status=Contact.Status.DRAFT)),
                "/contacts/",
            ),
        ],
    )


def home_sections(*, user: User, now: datetime | None = None) -> list[HomeSection]:
    """The sections of `user`'s home page, by role (a person with two roles sees both);
    agency administrators have their own pages and get none here."""
    now = now or timezone.now()
    sections = []
    if user.has_any_role({Role.FRONTLINE_OFFICER, Role.SOCIAL_WORKER, Role.SUPERVISOR}):
        sections.append(_worker(user, now))
    if user.has_role(Role.SUPERVISOR):
        sections.append(_supervisor(user, now))
    if user.has_role(Role.PROVIDER_STAFF):
        sections.append(_provider(user, now))
    if user.has_role(Role.HOTLINE_STAFF):
        sections.append(_hotline(user, now))
    return sections
