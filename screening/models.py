import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from config.encrypted import EncryptedTextField, RowUidField
from screening.querysets import CaseQuerySet, ConsentQuerySet, ScreeningQuerySet
from screening.roles import Role


class Agency(models.Model):
    """An organisation whose staff use the service: police unit, NGO, hotline, clinic, provider."""

    class Kind(models.TextChoices):
        LAW_ENFORCEMENT = "law_enforcement", "Law enforcement"
        NGO_SOCIAL_SERVICES = "ngo_social_services", "NGO / social services"
        HOTLINE = "hotline", "Hotline"
        SERVICE_PROVIDER = "service_provider", "Service provider"
        CHILD_WELFARE = "child_welfare", "Child welfare"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    region = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "law_enforcement",
                        "ngo_social_services",
                        "hotline",
                        "service_provider",
                        "child_welfare",
                    ]
                ),
                name="agency_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A member of staff. Belongs to at most one agency; roles are Django groups (see roles.py).

    Superusers may have no agency; every other account needs one to see any case.
    """

    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    # When an agency administrator last removed the member's second-step devices
    # (`staff_mfa_reset`); the change history says who.
    mfa_reset_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name="two-step sign-in reset"
    )
    # Part of every session's auth hash (`_get_session_auth_hash`): raising it ends all of
    # the member's sessions at their next request ("sign out everywhere", deactivation).
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    # Who changed a member's agency, activity or roles (groups), and when; never the password
    # hash or sign-in times.
    history = HistoricalRecords(
        m2m_fields=["groups"],
        excluded_fields=["password", "last_login", "date_joined", "session_generation"],
    )

    def __str__(self) -> str:
        return self.username

    def _get_session_auth_hash(self, secret=None) -> str:
        """Django's session hash (from the password hash: a password change ends every other
        session) with the session generation folded in. Generation 0 leaves Django's hash
        as it is, so sessions from before the generation existed stay valid. Django's
        `get_session_auth_hash` and its SECRET_KEY_FALLBACKS variant both come here."""
        django_hash = super()._get_session_auth_hash(secret=secret)
        if not self.session_generation:
            return django_hash
        return salted_hmac(
            "screening.User.session_generation",
            f"{django_hash}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @cached_property
    def role_names(self) -> frozenset[str]:
        """The user's roles, read once per loaded user: one request asks several times
        (permission class, service, page header), and a role change shows on the next
        request, which loads the user afresh."""
        return frozenset(self.groups.values_list("name", flat=True))

    def has_role(self, role: Role) -> bool:
        return role.value in self.role_names

    def has_any_role(self, roles) -> bool:
        return not self.role_names.isdisjoint(roles)


def new_case_reference() -> str:
    """A pseudonymous, unguessable reference: safe in URLs, page titles and logs."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
    body = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"C-{body[:4]}-{body[4:]}"


class YesNoUnknown(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    UNKNOWN = "unknown", "Not known"


class Case(models.Model):
    """One person or situation being screened. The reference is the only handle used in URLs,
    page titles and logs. Identifying and narrative fields are sealed (config/encrypted.py);
    exact-match lookups of phone, documents and name go through `IdentifierDigest`."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    class AgeBand(models.TextChoices):
        UNKNOWN = "unknown", "Not known"
        MINOR = "minor", "Under 18"
        ADULT = "adult", "18 or over"

    class Gender(models.TextChoices):
        NOT_STATED = "not_stated", "Not stated"
        FEMALE = "female", "Female"
        MALE = "male", "Male"
        ANOTHER = "another", "Another gender"

    class ExploitationType(models.TextChoices):
        # The engine's context vocabulary (indicators/engine/vocabulary.py EXPLOITATION_TYPES).
        UNKNOWN = "unknown", "Not known yet"
        LABOUR = "labour", "Labour"
        SEXUAL = "sexual", "Sexual"
        BOTH = "both", "Labour and sexual"
        CRIMINALITY = "criminality", "Forced criminality"

    MAX_AGE = 120

    reference = models.CharField(max_length=16, unique=True, default=new_case_reference)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="cases")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="cases_created")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)

    row_uid = RowUidField()
    # Identifying data, sealed at rest; never in logs, URLs or messages.
    identifying_name = EncryptedTextField(blank=True, max_length=200)
    identifying_phone = EncryptedTextField(blank=True, max_length=100)
    identifying_documents = EncryptedTextField(blank=True, max_length=500)
    narrative = EncryptedTextField(blank=True, max_length=20000)

    age = models.PositiveSmallIntegerField(null=True, blank=True)
    age_band = models.CharField(max_length=16, choices=AgeBand.choices, default=AgeBand.UNKNOWN)
    gender = models.CharField(max_length=16, choices=Gender.choices, default=Gender.NOT_STATED)
    languages = models.JSONField(default=list, blank=True)
    nationality = EncryptedTextField(max_length=64, blank=True)
    region = models.CharField(max_length=100, blank=True)
    exploitation_type = models.CharField(
        max_length=16, choices=ExploitationType.choices, default=ExploitationType.UNKNOWN
    )

    assigned_workers = models.ManyToManyField(
        User,
        through="CaseAssignment",
        through_fields=("case", "worker"),
        related_name="cases_assigned",
        blank=True,
    )

    # Safety of the person's devices and contacts: a controller may watch their phone.
    safe_to_contact = models.CharField(
        max_length=8, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    do_not_contact = models.BooleanField(default=False)
    # Raised by screening_submit (under 18) and case_create (age given under 18).
    mandatory_report_required = models.BooleanField(default=False)
    urgent = models.BooleanField(default=False)

    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="cases_closed"
    )
    close_reason = EncryptedTextField(blank=True, max_length=2000)
    # One of `CaseCloseReason` (required by `case_close`; blank on cases closed before it).
    close_reason_code = models.CharField(max_length=32, blank=True)
    # Legal hold (set by a supervisor with a reason): the retention purge never touches it.
    legal_hold_at = models.DateTimeField(null=True, blank=True)
    legal_hold_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    legal_hold_reason = EncryptedTextField(blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CaseQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("assign_case", "Can assign workers to a case"),
            ("share_case", "Can share a case with another agency"),
        ]
        # Case lists walk one of these in list order (newest first, ties by id) and stop after
        # a page: the agency's cases for supervisors, all cases for the unfiltered baseline.
        indexes = [
            models.Index(fields=["agency", "created_at", "id"], name="case_agency_created"),
            models.Index(fields=["created_at", "id"], name="case_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "closed"]), name="case_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(age_band__in=["unknown", "minor", "adult"]),
                name="case_age_band_valid",
            ),
            # A known age decides the band: nobody can record a 15-year-old as an adult.
            models.CheckConstraint(
                condition=models.Q(age__isnull=True)
                | models.Q(age__lt=18, age_band="minor")
                | models.Q(age__gte=18, age__lte=120, age_band="adult"),
                name="case_age_matches_band",
            ),
            models.CheckConstraint(
                condition=models.Q(gender__in=["not_stated", "female", "male", "another"]),
                name="case_gender_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    exploitation_type__in=["unknown", "labour", "sexual", "both", "criminality"]
                ),
                name="case_exploitation_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(safe_to_contact__in=["yes", "no", "unknown"]),
                name="case_safe_to_contact_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status="open", closed_at__isnull=True, closed_by__isnull=True)
                | models.Q(status="closed", closed_at__isnull=False, closed_by__isnull=False),
                name="case_closed_has_when_and_who",
            ),
            models.CheckConstraint(
                condition=models.Q(legal_hold_at__isnull=True, legal_hold_by__isnull=True)
                | models.Q(legal_hold_at__isnull=False, legal_hold_by__isnull=False)
                & ~models.Q(legal_hold_reason=""),
                name="case_legal_hold_has_when_who_and_why",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_minor(self) -> bool:
        return self.age_band == self.AgeBand.MINOR

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def on_legal_hold(self) -> bool:
        return self.legal_hold_at is not None


class CaseAssignment(models.Model):
    """A worker assigned to a case: who assigned them and when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="assignments")
    worker = models.ForeignKey(User, on_delete=models.PROTECT, related_name="assignments")
    assigned_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["assigned_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "worker"], name="case_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.worker}"


class CaseShare(models.Model):
    """An explicit, reasoned grant letting another agency's staff view a case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="shares")
    shared_with_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="cases_shared_in"
    )
    row_uid = RowUidField()
    reason = EncryptedTextField(max_length=2000)
    shared_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    shared_at = models.DateTimeField(default=timezone.now)
    # With the identifying data (name, phone, documents, narrative): a disclosure, allowed by
    # the consent gate (screening/consent_gate.py). `consent` is the consent that allowed it
    # (None: a mandatory report); the data shows only while that consent is active.
    identifying = models.BooleanField(default=False)
    consent = models.ForeignKey(
        "Consent", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    # The case's `created_at`, copied by `case_share` (a case's creation time never changes):
    # "cases shared with my agency" walks `case_share_agency_created` in the case lists'
    # order and stops after a page, however many cases were ever shared with the agency
    # (screening/querysets.py). Pinned equal to the case's by tests.
    case_created_at = models.DateTimeField()

    class Meta:
        ordering = ["shared_at"]
        # "Cases shared with my agency", in list order (newest first, ties by case id); the
        # unique constraint leads with the case.
        indexes = [
            models.Index(
                fields=["shared_with_agency", "case_created_at", "case"],
                name="case_share_agency_created",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "shared_with_agency"], name="case_share_unique_per_agency"
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="case_share_reason_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case} shared with {self.shared_with_agency}"


class BreakGlassGrant(models.Model):
    """Emergency view access to one case for one member of case-work staff who had none,
    asked for with a reason and ending by itself at `expires_at` (the visibility rule
    compares it with the time of each query: no job revokes it). A supervisor of the case's
    agency reviews it afterwards: justified or not, with a note; the reason and the note
    are sealed."""

    class ReviewOutcome(models.TextChoices):
        JUSTIFIED = "justified", "Justified"
        NOT_JUSTIFIED = "not_justified", "Not justified"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="break_glass_grants")
    # Staff accounts are deactivated, never deleted: a grant keeps naming who had it.
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="break_glass_grants")
    row_uid = RowUidField()
    reason = EncryptedTextField(max_length=2000)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_outcome = models.CharField(max_length=16, choices=ReviewOutcome.choices, blank=True)
    review_note = EncryptedTextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-granted_at", "-pk"]
        indexes = [
            # `Case.objects.visible_to` probes it for every case row it considers.
            models.Index(fields=["user", "case", "expires_at"], name="break_glass_user_case_exp"),
            # The supervisors' review queue: the grants nobody has reviewed yet.
            models.Index(
                fields=["granted_at"],
                condition=models.Q(reviewed_at__isnull=True),
                name="break_glass_unreviewed",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="break_glass_reason_required"
            ),
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("granted_at")),
                name="break_glass_expires_after_granted",
            ),
            models.CheckConstraint(
                condition=models.Q(review_outcome__in=["", "justified", "not_justified"]),
                name="break_glass_review_outcome_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    reviewed_at__isnull=True, reviewed_by__isnull=True, review_outcome=""
                )
                | (
                    models.Q(reviewed_at__isnull=False, reviewed_by__isnull=False)
                    & ~models.Q(review_outcome="")
                ),
                name="break_glass_reviewed_has_when_who_and_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"break-glass {self.pk} on {self.case_id}"

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None


class Consent(models.Model):
    """One consent given by the person, for one scope. Withdrawal takes effect at once and is
    recorded, never deleted: the row is the evidence of what was allowed when."""

    class Scope(models.TextChoices):
        SCREENING = "screening", "Screening"
        REFERRAL_SERVICE_TYPE = "referral_service_type", "Referral to a type of service"
        REFERRAL_PROVIDER = "referral_provider", "Referral to a named provider"
        LAW_ENFORCEMENT_SHARING = "law_enforcement_sharing", "Sharing with law enforcement"

    class Method(models.TextChoices):
        VERBAL = "verbal", "Verbal"
        WRITTEN = "written", "Written"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(max_length=32, choices=Scope.choices)
    # For referral scopes; the referrals feature adds a foreign key to its provider directory.
    service_type = models.CharField(max_length=64, blank=True)
    provider_name = models.CharField(max_length=200, blank=True)
    provider_ref = models.CharField(max_length=64, blank=True)
    method = models.CharField(max_length=16, choices=Method.choices)
    interpreter_used = models.BooleanField(default=False)
    interpreter_language = models.CharField(max_length=32, blank=True)
    row_uid = RowUidField()
    witness = EncryptedTextField(max_length=200, blank=True)
    given_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    withdrawal_note = EncryptedTextField(blank=True, max_length=2000)

    objects = ConsentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-given_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    scope__in=[
                        "screening",
                        "referral_service_type",
                        "referral_provider",
                        "law_enforcement_sharing",
                    ]
                ),
                name="consent_scope_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(method__in=["verbal", "written"]), name="consent_method_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(scope="referral_service_type") | ~models.Q(service_type=""),
                name="consent_service_type_named",
            ),
            models.CheckConstraint(
                condition=~models.Q(scope="referral_provider")
                | ~models.Q(provider_name="")
                | ~models.Q(provider_ref=""),
                name="consent_provider_named",
            ),
            models.CheckConstraint(
                condition=models.Q(interpreter_used=False) | ~models.Q(interpreter_language=""),
                name="consent_interpreter_language_given",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gt=models.F("given_at")),
                name="consent_valid_until_after_given",
            ),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True, withdrawn_by__isnull=True)
                | models.Q(withdrawn_at__isnull=False, withdrawn_by__isnull=False),
                name="consent_withdrawal_has_when_and_who",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} consent for {self.case}"

    def is_active(self, at: datetime | None = None) -> bool:
        """Given by `at` (default now), not expired and not withdrawn by then."""
        at = at or timezone.now()
        if self.given_at > at:
            return False
        if self.valid_until is not None and self.valid_until <= at:
            return False
        return self.withdrawn_at is None or self.withdrawn_at > at


class Screening(models.Model):
    """One screening of a case with one exact instrument version.

    Draft answers are autosaved; on submit the engine's result is stored as a snapshot that
    never changes. A correction is a new screening or a `ScreeningOverride`.
    """

    class Setting(models.TextChoices):
        STREET_FIELD = "street_field", "Street / field"
        STATION = "station", "Police station"
        CLINIC = "clinic", "Clinic"
        SHELTER = "shelter", "Shelter"
        HOTLINE = "hotline", "Hotline"
        PREMISES_INSPECTION = "premises_inspection", "Premises inspection"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        REVIEWED = "reviewed", "Reviewed"
        VOIDED = "voided", "Voided"

    class SafetyAnswer(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"

    # The gate's answers of an observation checklist of a place: nobody is asked anything.
    GATE_NOT_ASKED = ""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="screenings")
    instrument_version = models.ForeignKey(
        "indicators.InstrumentVersion", on_delete=models.PROTECT, related_name="screenings"
    )
    screener = models.ForeignKey(User, on_delete=models.PROTECT, related_name="screenings")
    setting = models.CharField(max_length=32, choices=Setting.choices)

    # Safety gate: a screening only exists when the person said it is safe to talk now. Both
    # answers are blank (not asked) only for an observation checklist of a place, which has no
    # person and so no consent either (screening.services.observation_start).
    safe_to_talk = models.CharField(max_length=8, choices=SafetyAnswer.choices)
    alone = models.CharField(max_length=8, choices=SafetyAnswer.choices)
    interpreter_used = models.BooleanField(default=False)
    interpreter_language = models.CharField(max_length=32, blank=True)
    # Not a family member, companion or someone from the person's community (practice guide).
    interpreter_independent = models.BooleanField(null=True, blank=True)
    # RESTRICT: a consent a screening rests on cannot be deleted on its own, only with the case.
    consent = models.ForeignKey(
        Consent, null=True, blank=True, on_delete=models.RESTRICT, related_name="screenings"
    )

    answers = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    result = models.JSONField(null=True, blank=True)
    outcome = models.CharField(max_length=64, blank=True)
    engine_version = models.CharField(max_length=32, blank=True)
    # Optimistic concurrency: every write bumps it; writers send the version they read.
    version = models.PositiveIntegerField(default=1)

    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    row_uid = RowUidField()
    review_note = EncryptedTextField(blank=True, max_length=5000)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = EncryptedTextField(blank=True, max_length=2000)

    objects = ScreeningQuerySet.as_manager()
    # Status, review and voiding; the answers are autosaved too often to keep every draft.
    history = HistoricalRecords(excluded_fields=["answers", "context", "result", "updated_at"])

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "submitted", "reviewed", "voided"]),
                name="screening_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    setting__in=[
                        "street_field",
                        "station",
                        "clinic",
                        "shelter",
                        "hotline",
                        "premises_inspection",
                    ]
                ),
                name="screening_setting_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(safe_to_talk="yes")
                | models.Q(safe_to_talk="", alone="", consent__isnull=True, interpreter_used=False),
                name="screening_only_when_safe_to_talk",
            ),
            models.CheckConstraint(
                condition=models.Q(alone__in=["yes", "no", ""]), name="screening_alone_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(interpreter_used=False)
                | (~models.Q(interpreter_language="") & models.Q(interpreter_independent=True)),
                name="screening_interpreter_named_and_independent",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="screening_version_gte_1"
            ),
            # A draft has no result; a submitted or reviewed screening has its full snapshot.
            models.CheckConstraint(
                condition=~models.Q(status="draft")
                | models.Q(result__isnull=True, submitted_at__isnull=True),
                name="screening_draft_has_no_result",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["submitted", "reviewed"])
                | (
                    models.Q(
                        result__isnull=False,
                        submitted_at__isnull=False,
                        submitted_by__isnull=False,
                    )
                    & ~models.Q(outcome="")
                    & ~models.Q(engine_version="")
                ),
                name="screening_submitted_has_result",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="reviewed")
                | models.Q(reviewed_at__isnull=False, reviewed_by__isnull=False),
                name="screening_reviewed_has_when_and_who",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="voided")
                | (
                    models.Q(voided_at__isnull=False, voided_by__isnull=False)
                    & ~models.Q(void_reason="")
                ),
                name="screening_voided_has_when_who_and_why",
            ),
        ]
        indexes = [
            # Newest results first, within an agency's cases: the routing rules' dry run reads
            # the last N (referrals.selectors.routing_dry_run_screenings; 70 ms instead of
            # 1.6-3 s for the largest agency at 1M cases, docs/routing-rules.md).
            models.Index(
                fields=["-submitted_at", "-id"],
                name="screening_results_newest",
                condition=models.Q(status__in=["submitted", "reviewed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"screening {self.pk} of {self.case}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def has_result(self) -> bool:
        return self.status in (self.Status.SUBMITTED, self.Status.REVIEWED)


class ScreeningOverride(models.Model):
    """A supervisor's different outcome for a submitted screening, with reason code and note.

    The computed `Screening.result` is never touched: recommendation and decision stay apart.
    The newest override is the one in force.
    """

    class ReasonCode(models.TextChoices):
        ADDITIONAL_INFORMATION = "additional_information", "Information the questions missed"
        PROFESSIONAL_JUDGEMENT = "professional_judgement", "Professional judgement"
        INTERPRETATION_CONCERN = "interpretation_concern", "Concern about interpretation"
        SAFETY_CONCERN = "safety_concern", "Safety concern"
        OTHER = "other", "Other (explained in the note)"

    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="overrides")
    outcome = models.CharField(max_length=64)
    reason_code = models.CharField(max_length=32, choices=ReasonCode.choices)
    row_uid = RowUidField()
    note = EncryptedTextField(max_length=5000)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    reason_code__in=[
                        "additional_information",
                        "professional_judgement",
                        "interpretation_concern",
                        "safety_concern",
                        "other",
                    ]
                ),
                name="screening_override_reason_code_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(note=""), name="screening_override_note_required"
            ),
            models.CheckConstraint(
                condition=~models.Q(outcome="") & ~models.Q(outcome="indeterminate"),
                name="screening_override_outcome_is_a_band",
            ),
        ]

    def __str__(self) -> str:
        return f"override of screening {self.screening_id}: {self.outcome}"


# Direct foreign-key object-permission tables (django-guardian "performance tuning"): one row
# per grant with a real FK to the case, so grants are indexed joins and disappear with the case
# instead of orphaning in the generic content-type tables.
class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class Contact(models.Model):
    """One hotline contact (call, text, chat, email, web form, walk-in), logged by hotline staff
    while it goes on: a draft until finalised. Callers may stay anonymous; the summary and the
    location of the situation are sensitive (never in logs, URLs or error messages)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINALISED = "finalised", "Finalised"

    class Channel(models.TextChoices):
        PHONE = "phone", "Phone"
        TEXT = "text", "Text message"
        CHAT = "chat", "Online chat"
        EMAIL = "email", "Email"
        WEB_FORM = "web_form", "Web form"
        WALK_IN = "walk_in", "In person"

    class CallerType(models.TextChoices):
        POSSIBLE_VICTIM = "possible_victim", "Possible victim"
        COMMUNITY_MEMBER = "community_member", "Community member"
        FAMILY_FRIEND = "family_friend", "Family member or friend"
        LAW_ENFORCEMENT = "law_enforcement", "Law enforcement"
        SERVICE_PROVIDER = "service_provider", "Service provider"
        ANONYMOUS = "anonymous", "Anonymous"

    class ContactType(models.TextChoices):
        # National Human Trafficking Hotline practice (docs: instruments.md §6).
        CRISIS = "crisis", "Crisis"
        TIP = "tip", "Tip"
        REFERRAL_REQUEST = "referral_request", "Referral request"
        INFORMATION = "information", "General information"
        TRAINING = "training", "Training / technical assistance"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="contacts")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="contacts_logged")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)

    channel = models.CharField(max_length=16, choices=Channel.choices)
    caller_type = models.CharField(
        max_length=32, choices=CallerType.choices, default=CallerType.ANONYMOUS
    )
    language = models.CharField(max_length=32, blank=True)
    caller_region = models.CharField(max_length=100, blank=True)
    contact_type = models.CharField(max_length=32, choices=ContactType.choices)
    immediate_danger = models.BooleanField(default=False)
    minor_involved = models.BooleanField(default=False)
    exploitation_type = models.CharField(
        max_length=16,
        choices=Case.ExploitationType.choices,
        default=Case.ExploitationType.UNKNOWN,
    )
    row_uid = RowUidField()
    # Sensitive free text and the caller's details, sealed at rest.
    situation_location = EncryptedTextField(blank=True, max_length=2000)
    summary = EncryptedTextField(blank=True, max_length=20000)
    caller_name = EncryptedTextField(blank=True, max_length=200)
    caller_phone = EncryptedTextField(blank=True, max_length=100)

    # SET_NULL: purging a case must not be blocked by the contact that led to it.
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts"
    )

    triage_instrument_version = models.ForeignKey(
        "indicators.InstrumentVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contacts",
    )
    triage_answers = models.JSONField(null=True, blank=True)
    triage_result = models.JSONField(null=True, blank=True)
    triage_outcome = models.CharField(max_length=64, blank=True)

    # Optimistic concurrency (the API's ETag): every write bumps it.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finalised_at = models.DateTimeField(null=True, blank=True)
    finalised_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["agency", "created_at", "id"], name="contact_agency_created_id")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "finalised"]), name="contact_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    channel__in=["phone", "text", "chat", "email", "web_form", "walk_in"]
                ),
                name="contact_channel_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    caller_type__in=[
                        "possible_victim",
                        "community_member",
                        "family_friend",
                        "law_enforcement",
                        "service_provider",
                        "anonymous",
                    ]
                ),
                name="contact_caller_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    contact_type__in=[
                        "crisis",
                        "tip",
                        "referral_request",
                        "information",
                        "training",
                    ]
                ),
                name="contact_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    exploitation_type__in=["unknown", "labour", "sexual", "both", "criminality"]
                ),
                name="contact_exploitation_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(version__gte=1), name="contact_version_gte_1"
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", finalised_at__isnull=True)
                | models.Q(status="finalised", finalised_at__isnull=False),
                name="contact_finalised_has_when",
            ),
        ]

    def __str__(self) -> str:
        return f"contact {self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


class IdentifierDigest(models.Model):
    """One keyed blind-index digest (config.crypto.blind_index) of an identifier on a case or
    a contact: a normalised phone number, document number or name. Duplicate detection
    matches digests, never decrypted values; without BLIND_INDEX_KEY a digest says nothing."""

    class Kind(models.TextChoices):
        PHONE = "phone", "Phone number"
        DOCUMENT = "document", "Document number"
        NAME = "name", "Name"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    digest = models.CharField(max_length=64)
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="identifier_digests"
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="identifier_digests",
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["phone", "document", "name"]),
                name="identifier_digest_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(case__isnull=False, contact__isnull=True)
                | models.Q(case__isnull=True, contact__isnull=False),
                name="identifier_digest_on_case_or_contact",
            ),
        ]
        indexes = [models.Index(fields=["digest"], name="identifier_digest_idx")]

    def __str__(self) -> str:
        return f"{self.kind} digest"


# --- case work after the screening (issue 14) ----------------------------------------------


class CaseCloseReason(models.TextChoices):
    """Why a case was closed, in plain words (the note beside it is optional and sealed)."""

    SERVICES_IN_PLACE = "services_in_place", "Support is in place"
    PERSON_DECLINED = "person_declined", "The person did not want to go on"
    NOT_REACHED = "not_reached", "We could not reach the person"
    MOVED_AWAY = "moved_away", "The person moved away"
    NO_INDICATORS = "no_indicators", "No sign of trafficking or exploitation"
    DUPLICATE = "duplicate", "Duplicate of another case"
    OTHER = "other", "Another reason (in the note)"


class CaseActivity(models.Model):
    """One step in a case's work that leaves no row of its own behind (an assignment ended,
    a share, a transfer decided, a closing, a reopening): append-only, ids and codes only,
    never free text, so the case timeline can show every step in order."""

    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "Worker assigned"
        UNASSIGNED = "unassigned", "Worker taken off the case"
        SHARED = "shared", "Shared with another agency"
        TRANSFER_REQUESTED = "transfer_requested", "Transfer asked for"
        TRANSFER_ACCEPTED = "transfer_accepted", "Transfer accepted"
        TRANSFER_DECLINED = "transfer_declined", "Transfer declined"
        TRANSFER_CANCELLED = "transfer_cancelled", "Transfer withdrawn"
        CLOSED = "closed", "Case closed"
        REOPENED = "reopened", "Case reopened"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # Whom or which agency the step was about, where it was about one.
    worker = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    close_reason = models.CharField(max_length=32, choices=CaseCloseReason.choices, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["case", "at", "id"], name="case_activity_case_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "assigned",
                        "unassigned",
                        "shared",
                        "transfer_requested",
                        "transfer_accepted",
                        "transfer_declined",
                        "transfer_cancelled",
                        "closed",
                        "reopened",
                    ]
                ),
                name="case_activity_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.case_id}"


class CaseTransfer(models.Model):
    """A supervisor's request to hand a case over to another agency. The receiving agency's
    supervisors accept or decline; on acceptance the case, its assignments and its grants
    move, and the sending agency keeps nothing but the history. At most one is pending per
    case. The reason is written for the receiving supervisor and sealed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Withdrawn"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    from_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    to_agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="transfers_incoming"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    row_uid = RowUidField()
    reason = EncryptedTextField(max_length=2000)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [
            # The receiving supervisors' list: their agency's pending requests, newest first.
            models.Index(
                fields=["to_agency", "requested_at", "id"],
                condition=models.Q(status="pending"),
                name="case_transfer_incoming",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "accepted", "declined", "cancelled"]),
                name="case_transfer_status_valid",
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="pending"),
                name="case_transfer_one_pending",
            ),
            models.CheckConstraint(
                condition=~models.Q(from_agency=models.F("to_agency")),
                name="case_transfer_to_another_agency",
            ),
            models.CheckConstraint(
                condition=~models.Q(reason=""), name="case_transfer_reason_required"
            ),
            models.CheckConstraint(
                condition=models.Q(status="pending", decided_at__isnull=True)
                | (
                    ~models.Q(status="pending")
                    & models.Q(decided_at__isnull=False, decided_by__isnull=False)
                ),
                name="case_transfer_decided_has_when_and_who",
            ),
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk} of {self.case_id}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class CaseNote(models.Model):
    """A note on the case's timeline, by its author, sealed like the case narrative. A
    correction changes the text and raises `version`; the change history keeps every earlier
    version (as ciphertext)."""

    class Kind(models.TextChoices):
        CONTACT_ATTEMPT = "contact_attempt", "Contact attempt"
        SAFETY_PLANNING = "safety_planning", "Safety planning"
        SERVICE_UPDATE = "service_update", "Service update"
        OTHER = "other", "Other"

    MAX_LENGTH = 10000

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="case_notes")
    row_uid = RowUidField()
    text = EncryptedTextField(max_length=MAX_LENGTH)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    corrected_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["case", "created_at", "id"], name="case_note_case_at")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=["contact_attempt", "safety_planning", "service_update", "other"]
                ),
                name="case_note_kind_valid",
            ),
            models.CheckConstraint(condition=~models.Q(text=""), name="case_note_text_required"),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="case_note_version"),
        ]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case_id}"


class CaseTask(models.Model):
    """A follow-up on a case: what, by when, who; done or not. Overdue when not done by its
    due time. `reminded_at` is when its reminder went out (once, by the beat task). The
    description is sealed: it may say whom to call."""

    class Kind(models.TextChoices):
        FOLLOW_UP = "follow_up", "Follow-up"
        SAFETY_CHECK = "safety_check", "Safety check"
        REVISIT_CONSENT = "revisit_consent", "Revisit consent"
        REFERRAL_FOLLOW_UP = "referral_follow_up", "Referral follow-up"
        OTHER = "other", "Other"

    MAX_LENGTH = 500

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.FOLLOW_UP)
    row_uid = RowUidField()
    description = EncryptedTextField(max_length=MAX_LENGTH)
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(User, on_delete=models.PROTECT, related_name="case_tasks")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["due_at", "pk"]
        indexes = [
            # "My tasks": the assignee's open tasks, soonest due first.
            models.Index(
                fields=["assignee", "due_at", "id"],
                condition=models.Q(done_at__isnull=True),
                name="case_task_open_by_assignee",
            ),
            # The reminder run: open tasks not yet reminded, by due time.
            models.Index(
                fields=["due_at", "id"],
                condition=models.Q(done_at__isnull=True, reminded_at__isnull=True),
                name="case_task_to_remind",
            ),
            models.Index(fields=["case", "due_at", "id"], name="case_task_case_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "follow_up",
                        "safety_check",
                        "revisit_consent",
                        "referral_follow_up",
                        "other",
                    ]
                ),
                name="case_task_kind_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(description=""), name="case_task_description_required"
            ),
            models.CheckConstraint(
                condition=models.Q(done_at__isnull=True, done_by__isnull=True)
                | models.Q(done_at__isnull=False, done_by__isnull=False),
                name="case_task_done_has_when_and_who",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.pk} on {self.case_id}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    def is_overdue(self, at: datetime | None = None) -> bool:
        return self.done_at is None and self.due_at <= (at or timezone.now())


class Notification(models.Model):
    """An in-app message to one member of staff, linking to a page. Its text is composed by
    a service from fixed words and a case reference at most: never a name or a note."""

    class Kind(models.TextChoices):
        TASK_DUE = "task_due", "Task due"
        TASK_ASSIGNED = "task_assigned", "Task given to you"
        CASE_ASSIGNED = "case_assigned", "Case given to you"
        TRANSFER_REQUESTED = "transfer_requested", "Transfer waiting for your answer"
        TRANSFER_DECIDED = "transfer_decided", "Transfer answered"
        OTHER = "other", "Other"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    text = models.CharField(max_length=200)
    # A path inside the service ("/cases/C-ABCD-EFGH/"): references and ids only.
    link = models.CharField(max_length=300, blank=True)
    # The case it is about, if any: it goes with the case when the case is purged.
    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "created_at", "id"], name="notification_user_created"),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_user_unread",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    kind__in=[
                        "task_due",
                        "task_assigned",
                        "case_assigned",
                        "transfer_requested",
                        "transfer_decided",
                        "other",
                    ]
                ),
                name="notification_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(link="") | models.Q(link__startswith="/"),
                name="notification_link_is_a_path",
            ),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk}"
