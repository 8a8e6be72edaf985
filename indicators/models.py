from django.db import models


class Audience(models.TextChoices):
    ADULT = "adult", "Adult"
    CHILD = "child", "Child"
    PREMISES = "premises", "Premises"
    HOTLINE = "hotline", "Hotline"


class Instrument(models.Model):
    """A published indicator set or screen (e.g. ILO/EC operational indicators, adults/labour)."""

    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=300)
    audience = models.CharField(max_length=16, choices=Audience.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class InstrumentVersion(models.Model):
    """One version of an instrument: the whole validated file, frozen once published.

    `definition` is the canonical content the engine scores against; `content_hash` is its
    SHA-256, so a result can prove which exact wording and rules produced it.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices)
    title = models.CharField(max_length=300)
    languages = models.JSONField()
    definition = models.JSONField()
    content_hash = models.CharField(max_length=64)
    source_file = models.CharField(max_length=300, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["instrument__slug", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "number"], name="instrument_version_number_unique"
            ),
            models.CheckConstraint(condition=models.Q(number__gte=1), name="version_number_gte_1"),
            models.CheckConstraint(
                condition=models.Q(status__in=["draft", "published"]),
                name="instrument_version_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument.slug} v{self.number}"


class Item(models.Model):
    """An item of a version, as rows for reporting and admin; the definition stays the truth."""

    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="items")
    key = models.CharField(max_length=100)
    section = models.CharField(max_length=100)
    position = models.PositiveIntegerField()
    response_type = models.CharField(max_length=32)
    domain = models.CharField(max_length=64)
    dimension = models.CharField(max_length=64, blank=True)
    strength = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "key"], name="item_key_unique_in_version"),
        ]

    def __str__(self) -> str:
        return self.key
