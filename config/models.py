"""Project-wide tables that belong to no domain app."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


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
    response_body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self) -> str:
        return f"idempotency key of user {self.user_id}"
