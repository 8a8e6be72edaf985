"""Provider directory, routing rule versions, referrals with their append-only history and
provider callback receipts. (The outbox that carries delivery work to Celery is config's:
config/models.py `OutboxMessage`.)"""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from config.encrypted import EncryptedTextField, RowUidField
from referrals.webhook_targets import webhook_url_problem


class ServiceType(models.TextChoices):
    SHELTER = "shelter", "Shelter"
    MEDICAL = "medical", "Medical care"
    MENTAL_HEALTH = "mental_health", "Mental health"
    LEGAL_AID = "legal_aid", "Legal aid"
    IMMIGRATION_LEGAL = "immigration_legal", "Immigration legal help"
    LABOUR_RIGHTS = "labour_rights", "Labour rights"
    CHILD_WELFARE = "child_welfare", "Child welfare"
    LAW_ENFORCEMENT_ATU = "law_enforcement_atu", "Law-enforcement anti-trafficking unit"
    # Services that act on a place (an observation checklist's referrals; referrals/routing.py).
    LABOUR_INSPECTORATE = "labour_inspectorate", "Labour inspectorate"
    LAW_ENFORCEMENT_LIAISON = "law_enforcement_liaison", "Law-enforcement liaison"
    INTERPRETATION = "interpretation", "Interpretation"
    CASE_MANAGEMENT = "case_management", "Case management"


class Priority(models.IntegerChoices):
    """Lower sorts first in the supervisor queue."""

    URGENT = 1, "Urgent"
    HIGH = 2, "High"
    NORMAL = 3, "Normal"
    LOW = 4, "Low"


class ServiceProvider(models.Model):
    """A service a referral can go to, with who it serves and how it receives referrals."""

    class Capacity(models.TextChoices):
        AVAILABLE = "available", "Taking referrals"
        LIMITED = "limited", "Limited capacity"
        FULL = "full", "Full"
        CLOSED = "closed", "Not taking referrals"

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", "Signed webhook"
        EMAIL = "email", "Email"
        INBOX = "inbox", "In-system inbox"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    agency = models.ForeignKey(
        "screening.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_providers",
        help_text="The agency whose provider staff answer in-system referrals.",
    )
    service_types = models.JSONField(default=list)
    regions = models.JSONField(default=list, help_text='Regions covered; "national" covers all.')
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)
    max_age = models.PositiveSmallIntegerField(null=True, blank=True)
    genders = models.JSONField(default=list, blank=True, help_text="Empty: all genders.")
    exploitation_types = models.JSONField(default=list, blank=True, help_text="Empty: all.")
    languages = models.JSONField(default=list, blank=True)
    capacity = models.CharField(max_length=16, choices=Capacity.choices, default="available")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    webhook_url = models.URLField(max_length=500, blank=True)
    # Used to compute HMACs both ways, so it cannot be stored hashed: it is sealed instead
    # (config/encrypted.py), and pages show only its fingerprint, a keyed digest.
    row_uid = RowUidField()
    webhook_secret = EncryptedTextField(max_length=128, blank=True)
    webhook_secret_fingerprint = models.CharField(max_length=16, blank=True)
    email = models.EmailField(blank=True)
    response_due_hours = models.PositiveIntegerField(default=72)
    is_active = models.BooleanField(default=True)
    # When the provider's agency last changed this entry in the product (issue 15), since the
    # directory file last wrote it: the loader then leaves it alone and says so.
    product_edited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The secret never goes in the history table: its fingerprint does, so a rotation shows.
    history = HistoricalRecords(excluded_fields=["webhook_secret", "row_uid", "updated_at"])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__in=["available", "limited", "full", "closed"]),
                name="provider_capacity_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(channel="webhook", webhook_url__gt="")
                & ~models.Q(webhook_secret="")
                | models.Q(channel="email", email__gt="")
                | models.Q(channel="inbox", agency__isnull=False),
                name="provider_channel_configured",
            ),
            models.CheckConstraint(
                condition=models.Q(min_age__isnull=True)
                | models.Q(max_age__isnull=True)
                | models.Q(min_age__lte=models.F("max_age")),
                name="provider_age_range_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(response_due_hours__gte=1), name="provider_due_hours_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # In production only https to public addresses (referrals/webhook_targets.py); the
        # address is checked again each time a referral is sent, DNS can change.
        if self.channel == self.Channel.WEBHOOK and self.webhook_url:
            problem = webhook_url_problem(self.webhook_url)
            if problem:
                raise ValidationError({"webhook_url": problem})


class RoutingRuleSet(models.Model):
    """One version of a routing rule file, frozen once published.

    `agency` empty: the platform's default rules, loaded from seeds/routing/*.yaml. Set: an
    agency's own rules for the cases it owns, drafted and published by its administrators in
    the product (/agency/routing/; docs/routing-rules.md). Routing uses the agency's newest
    published version, else the default's."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    agency = models.ForeignKey(
        "screening.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="routing_rule_sets",
        help_text="Empty: the platform's default rules; else those of this agency's cases.",
    )
    slug = models.SlugField(max_length=80)
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices)
    title = models.CharField(max_length=300)
    definition = models.JSONField()
    content_hash = models.CharField(max_length=64)
    source_file = models.CharField(max_length=300, blank=True)
    # A draft's YAML as its author wrote it (comments kept); `definition` is what it means.
    source_text = models.TextField(blank=True)
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        "screening.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    loaded_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        "screening.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The version that replaced this one in its line (the default's, or the agency's).
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["slug", "number"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "number"], name="routing_version_unique"),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published"]),
                name="routing_status_valid",
            ),
            # One draft at a time per agency: versions are numbered in the order published.
            models.UniqueConstraint(
                fields=["agency"],
                condition=models.Q(status="draft", agency__isnull=False),
                name="routing_one_draft_per_agency",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slug} v{self.number}"

    @property
    def content_hash_shown(self) -> str:
        """The hash's first 64 bits in groups of four, as a person compares or reads it out."""
        head = self.content_hash[:16]
        return " ".join(head[i : i + 4] for i in range(0, len(head), 4))


class ReferralStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    BLOCKED_NEEDS_CONSENT = "blocked_needs_consent", "Blocked: needs consent"
    PENDING_APPROVAL = "pending_approval", "Waiting for approval"
    APPROVED = "approved", "Approved"
    SENT = "sent", "Sent"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    SERVICES_STARTED = "services_started", "Services started"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    FAILED = "failed", "Delivery failed"


# The supervisor queue: failed deliveries, referrals waiting for approval or for consent, and
# delivered ones escalated (not answered, not started in time, or escalated by hand).
QUEUE_STATUSES = (
    ReferralStatus.FAILED,
    ReferralStatus.PENDING_APPROVAL,
    ReferralStatus.BLOCKED_NEEDS_CONSENT,
)
# Delivered referrals that join the queue only once escalated.
ESCALATED_QUEUE_STATUSES = (
    ReferralStatus.SENT,
    ReferralStatus.ACKNOWLEDGED,
    ReferralStatus.ACCEPTED,
    ReferralStatus.SERVICES_STARTED,
)
# The provider inbox: delivered and not finished.
INBOX_STATUSES = (
    ReferralStatus.SENT,
    ReferralStatus.ACKNOWLEDGED,
    ReferralStatus.ACCEPTED,
    ReferralStatus.SERVICES_STARTED,
)
QUEUE_RANK = models.Case(
    models.When(status=ReferralStatus.FAILED, then=models.Value(0)),
    models.When(
        models.Q(status__in=QUEUE_STATUSES[1:])
        | models.Q(status__in=ESCALATED_QUEUE_STATUSES, escalated_at__isnull=False),
        then=models.Value(1),
    ),
    default=models.Value(None),
    output_field=models.PositiveSmallIntegerField(null=True),
)


def referral_queue_rank(status: str, escalated_at) -> int | None:
    """`Referral.queue_rank` as the database computes it, for rows written without the ORM
    (the load generator's COPY path); a test pins the two together."""
    if status == ReferralStatus.FAILED:
        return 0
    if status in QUEUE_STATUSES[1:] or (status in ESCALATED_QUEUE_STATUSES and escalated_at):
        return 1
    return None


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class Referral(models.Model):
    """A proposal, then a decision, then a delivery of one case to one provider for one service.

    The status only changes through `referrals.services.transitions.referral_transition`.
    """

    class DeclineReason(models.TextChoices):
        # Supervisor reasons
        NOT_APPROPRIATE = "not_appropriate", "Not appropriate for this person"
        PERSON_DECLINED = "person_declined", "The person does not want it"
        DUPLICATE = "duplicate", "Duplicate of another referral"
        SAFETY_CONCERN = "safety_concern", "Safety concern"
        # Provider reasons
        NO_CAPACITY = "no_capacity", "No capacity"
        OUT_OF_SCOPE = "out_of_scope", "Outside the provider's services"
        NOT_ELIGIBLE = "not_eligible", "Person not eligible"
        OTHER = "other", "Other (explained in the note)"

    class DecidedBy(models.TextChoices):
        SUPERVISOR = "supervisor", "Supervisor"
        PROVIDER = "provider", "Provider"

    class Outcome(models.TextChoices):
        """What came of a referral, recorded when it is closed."""

        SERVICES_DELIVERED = "services_delivered", "Services delivered"
        PERSON_DECLINED = "person_declined", "The person declined the services"
        NOT_REACHED = "not_reached", "The person could not be reached"
        NOT_ELIGIBLE = "not_eligible", "Not eligible"
        MOVED_AWAY = "moved_away", "The person moved away"
        OTHER = "other", "Other (explained in the note)"

    class ClosedBy(models.TextChoices):
        PROVIDER = "provider", "The provider"
        REFERRING_AGENCY = "referring_agency", "The referring agency"

    class EscalationReason(models.TextChoices):
        APPROVAL_OVERDUE = "approval_overdue", "Not approved by its due time"
        CONSENT_OVERDUE = "consent_overdue", "Blocked for consent too long"
        ANSWER_OVERDUE = "answer_overdue", "The provider has not answered in time"
        START_OVERDUE = "start_overdue", "Accepted, services not started in time"
        MANUAL = "manual", "Escalated by hand"

    case = models.ForeignKey("screening.Case", on_delete=models.CASCADE, related_name="referrals")
    screening = models.ForeignKey(
        "screening.Screening", on_delete=models.CASCADE, related_name="referrals"
    )
    provider = models.ForeignKey(
        ServiceProvider, on_delete=models.PROTECT, related_name="referrals"
    )
    # What the queue and the inbox filter on, stored on the row so that each list walks one
    # partial index in its own order (issue 12): the case's owning agency (a transfer moves
    # it with the case) and the provider's agency (kept in step by the directory loader).
    case_agency = models.ForeignKey(
        "screening.Agency", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    provider_agency = models.ForeignKey(
        "screening.Agency",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    service_type = models.CharField(max_length=32, choices=ServiceType.choices)
    status = models.CharField(
        max_length=32, choices=ReferralStatus.choices, default=ReferralStatus.PROPOSED
    )
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    mandatory = models.BooleanField(
        default=False,
        help_text="Required by law (child welfare for a minor): consent cannot block.",
    )
    # From an observation checklist of a place to a service that acts on premises: no person
    # was asked, so none consents; its packet carries no person's details (docs/
    # observation-checklists.md).
    about_place = models.BooleanField(
        default=False,
        help_text="An observation of a place: needs no person's consent, discloses no person.",
    )
    routing_rule_set = models.ForeignKey(
        RoutingRuleSet, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    rule_key = models.CharField(max_length=100, blank=True)
    # RESTRICT: the consent a referral rests on goes only together with the case.
    consent_used = models.ForeignKey(
        "screening.Consent",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="referrals",
    )
    missing_consent = models.CharField(max_length=300, blank=True)
    fields_disclosed = models.JSONField(default=list, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True, default=new_idempotency_key)
    due_at = models.DateTimeField()
    decline_reason = models.CharField(max_length=32, choices=DeclineReason.choices, blank=True)
    declined_by = models.CharField(max_length=16, choices=DecidedBy.choices, blank=True)
    delivery_attempts = models.PositiveIntegerField(default=0)
    # Set while an attempt is on its way to the provider (no lock is held during the send):
    # another worker leaves the referral alone until the attempt is recorded, or overdue.
    delivery_started_at = models.DateTimeField(null=True, blank=True)
    last_delivery_error = models.CharField(max_length=200, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalation_reason = models.CharField(
        max_length=32, choices=EscalationReason.choices, blank=True
    )
    # When the status last changed (`referral_transition`): how long it has been stuck.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True)
    closed_by = models.CharField(max_length=24, choices=ClosedBy.choices, blank=True)
    approved_by = models.ForeignKey(
        "screening.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # The supervisor queue's state, computed by the database from status and escalated_at so
    # it can never disagree with them: 0 a failed delivery (first in the queue), 1 waiting for
    # a supervisor, NULL not in the queue.
    queue_rank = models.GeneratedField(
        expression=QUEUE_RANK,
        output_field=models.PositiveSmallIntegerField(null=True),
        db_persist=True,
    )

    history = HistoricalRecords(
        excluded_fields=[
            "updated_at",
            "case_agency",
            "provider_agency",
            "queue_rank",
            "delivery_started_at",
        ]
    )

    class Meta:
        ordering = ["priority", "due_at", "pk"]
        constraints = [
            # Routing twice never proposes the same referral twice.
            models.UniqueConstraint(
                fields=["screening", "service_type", "provider"],
                name="referral_unique_per_screening_service_provider",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ReferralStatus.values), name="referral_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(service_type__in=ServiceType.values),
                name="referral_service_type_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="declined") | ~models.Q(decline_reason=""),
                name="referral_declined_has_reason",
            ),
            # A closed referral says what came of it, however it was written (referral_close
            # through referral_transition, or the load generator's COPY path).
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(outcome=""),
                name="referral_closed_has_outcome",
            ),
            # Consent cannot be bypassed: past approval, a referral is mandatory or consented
            # (or about a place, where there is no person to consent).
            models.CheckConstraint(
                condition=models.Q(mandatory=True)
                | models.Q(about_place=True)
                | models.Q(consent_used__isnull=False)
                | models.Q(
                    status__in=[
                        "proposed",
                        "blocked_needs_consent",
                        "cancelled",
                        "declined",
                        "expired",
                    ]
                ),
                name="referral_consented_or_mandatory",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "priority", "due_at"], name="referral_queue_idx"),
            # The supervisor queue in its order, waiting rows only.
            models.Index(
                fields=["case_agency", "queue_rank", "priority", "due_at", "id"],
                name="referral_waiting_queue",
                condition=models.Q(queue_rank__isnull=False),
            ),
            # The provider inbox in its order, delivered rows only.
            models.Index(
                fields=["provider_agency", "priority", "due_at", "id"],
                name="referral_provider_inbox",
                condition=models.Q(status__in=INBOX_STATUSES),
            ),
        ]

    def __str__(self) -> str:
        return f"referral {self.pk} ({self.service_type}, {self.status})"


class ReferralEvent(models.Model):
    """Append-only history of a referral: transitions, delivery attempts, escalations."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", "Status change"
        DELIVERY_ATTEMPT = "delivery_attempt", "Delivery attempt"
        ESCALATED = "escalated", "Escalated"
        CONSENT = "consent", "Consent change"
        DISCARD_NOTICE = "discard_notice", "Provider told to discard"

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.TRANSITION)
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32, blank=True)
    by = models.ForeignKey(
        "screening.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    by_provider = models.ForeignKey(
        ServiceProvider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason_code = models.CharField(max_length=32, blank=True)
    row_uid = RowUidField()
    note = EncryptedTextField(blank=True, max_length=5000)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.from_status}→{self.to_status} on referral {self.referral_id}"


class ProviderCallbackReceipt(models.Model):
    """One signed provider callback, kept by its idempotency key so a replay returns the first
    answer instead of acting twice."""

    provider = models.ForeignKey(
        ServiceProvider, on_delete=models.CASCADE, related_name="callback_receipts"
    )
    idempotency_key = models.CharField(max_length=100)
    referral = models.ForeignKey(
        Referral, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "idempotency_key"], name="callback_receipt_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"callback {self.idempotency_key} from {self.provider_id}"
