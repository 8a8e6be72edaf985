"""Project-wide tables that belong to no domain app."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

from config.encrypted import EncryptedJSONField, RowUidField


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` a user sent with a creating POST: the fingerprint of the request
    and, once it succeeded, the response to replay. The unique constraint is what makes two
    concurrent requests with the same key create one object (see config/api/idempotency.py).

    The stored body may hold case data: records expire (IDEMPOTENCY_KEY_TTL_HOURS) and are
    purged by `idempotency_record_purge`."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    row_uid = RowUidField()
    response_body = EncryptedJSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict, blank=True)
    # What the response showed (e.g. "contact", its id): a replay re-checks that the caller
    # may still see it, and answers 404 like a missing object when not.
    object_type = models.CharField(max_length=16, blank=True)
    object_id = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"idempotency key of user {self.user_id}"


class ApiToken(models.Model):
    """A personal API token for an integration (e.g. contact-centre software). Presented as
    `Bearer <prefix>.<secret>`; only the SHA-256 of the secret is stored, never the secret.
    Its services are in config/tokens.py."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The random id of the page form that created it ("" otherwise): one token per form sent,
    # however often and however simultaneously it is sent (a double click, a reload).
    form_request_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        # The table it had in the screening app, where it was born: moving the model to
        # config (migrations core 0006, screening 0010) moved only Django's state, no rows.
        db_table = "screening_apitoken"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="api_token_name_required"),
            models.UniqueConstraint(
                fields=["user", "form_request_id"],
                condition=~models.Q(form_request_id=""),
                name="api_token_one_per_form",
            ),
        ]

    def __str__(self) -> str:
        return f"API token {self.prefix} ({self.name})"


class AccessLogEntry(models.Model):
    """One request that read or changed case data, or was refused anywhere (401, 403, a failed
    sign-in): who, when, through which route, what it touched and how it ended.

    Never the path, query string, body or any field of the case: the route name, the case
    reference and database ids are enough to find what was touched. Written by
    `config.middleware.AccessLogMiddleware` (one INSERT per request); deleted after
    ACCESS_LOG_RETENTION_DAYS by `access_log_purge`. See docs/access-log.md."""

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        # Allowed, and the user saw the case through a break-glass grant only.
        BREAK_GLASS = "break_glass", "Allowed (emergency access)"
        DENIED = "denied", "Refused"
        NOT_FOUND = "not_found", "Not found or not visible"
        UNAUTHENTICATED = "unauthenticated", "Not signed in"
        INVALID = "invalid", "Invalid request"
        ERROR = "error", "Server error"

        @classmethod
        def for_status(cls, status_code: int) -> str:
            if status_code == 401:
                return cls.UNAUTHENTICATED
            if status_code in (403, 429):
                return cls.DENIED
            if status_code in (404, 410):
                return cls.NOT_FOUND
            if 400 <= status_code < 500:
                return cls.INVALID
            if status_code >= 500:
                return cls.ERROR
            return cls.ALLOWED

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Staff accounts are deactivated, never deleted: the log must keep naming them.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The acting user's agency at the time.
    agency = models.ForeignKey(
        "screening.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    api_token = models.ForeignKey(
        "core.ApiToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The roles the acting user held at the time (role names, comma-separated, sorted): roles
    # change, and the history must say under which ones a case was opened.
    roles = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=8)
    # The URL pattern's name (`screening:case-detail`), never the path or the query string.
    route = models.CharField(max_length=150)
    object_type = models.CharField(max_length=16, blank=True)
    object_ref = models.CharField(max_length=32, blank=True)
    # No database constraint and no cascade: the log outlives a purged case (its id names
    # nobody), and purging a case is neither blocked nor slowed by its access history.
    case = models.ForeignKey(
        "screening.Case",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    status_code = models.PositiveSmallIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    # REMOTE_ADDR only: forwarded-for headers are whatever the client chose to send.
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "access log entries"
        ordering = ["-at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    outcome__in=[
                        "allowed",
                        "break_glass",
                        "denied",
                        "not_found",
                        "unauthenticated",
                        "invalid",
                        "error",
                    ]
                ),
                name="access_log_outcome_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["case", "at"], name="access_log_case_at"),
            models.Index(fields=["user", "at"], name="access_log_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.route} {self.status_code} at {self.at:%Y-%m-%d %H:%M:%S}"


class PurgeRecord(models.Model):
    """That a retention purge ran and how many rows of each kind it deleted: never what they
    held, nor their ids or references (`manage.py purge_expired`, docs/retention.md)."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # "schedule" (the daily beat task) or "command" (an operator ran purge_expired).
    trigger = models.CharField(max_length=16)
    # {"screening_case": 12, "screening_screening": 30, ...}: row counts per table.
    deleted = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"purge at {self.at:%Y-%m-%d %H:%M}"


class OutboxMessage(models.Model):
    """A domain event or a piece of work for Celery, written in the same transaction as the
    change it announces (DESIGN: publish through an outbox; on_commit alone loses messages).

    One row per subscriber: `handler` names the Celery task an app subscribed to `topic` with
    (config/outbox.py). The row names its subject by model and id only, never case data, and
    with no foreign key: the ground floor points at no app. A retention purge deletes the rows
    naming the objects it deletes (config/retention.py `cascade_purge`).

    Published rows are leased until `available_at`: a message lost with a crashed worker is
    published again; the handler sets `completed_at` when the work is done for good.
    """

    topic = models.CharField(max_length=64)
    handler = models.CharField(max_length=100)
    # The subject's model as `app_label.model_name` (e.g. "screening.screening") and its id.
    subject_type = models.CharField(max_length=100)
    subject_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    publish_count = models.PositiveIntegerField(default=0)
    publish_failures = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["available_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(topic="") & ~models.Q(handler="") & ~models.Q(subject_type=""),
                name="outbox_message_named",
            ),
        ]
        indexes = [
            # The relay's scan: due rows not done yet.
            models.Index(
                fields=["available_at"],
                name="core_outbox_due_idx",
                condition=models.Q(completed_at__isnull=True),
            ),
            # Completion by the handler, and the purge of a deleted subject's rows.
            models.Index(fields=["subject_type", "subject_id"], name="core_outbox_subject_idx"),
        ]

    def __str__(self) -> str:
        return f"outbox {self.pk} {self.topic} → {self.handler}"
