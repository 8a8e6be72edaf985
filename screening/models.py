import secrets

from django.contrib.auth.models import AbstractUser
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

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

    def __str__(self) -> str:
        return self.username

    def has_role(self, role: Role) -> bool:
        return self.groups.filter(name=role.value).exists()


def new_case_reference() -> str:
    """A pseudonymous, unguessable reference: safe in URLs, page titles and logs."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
    body = "".join(secrets.choice(alphabet) for _ in range(8))
    return f"C-{body[:4]}-{body[4:]}"


class Case(models.Model):
    """One person or situation being screened. Holds no names here: identifying fields are
    added (encrypted) by the screening feature; the reference is the only handle anywhere."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    reference = models.CharField(max_length=16, unique=True, default=new_case_reference)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="cases")
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="cases_created")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("assign_case", "Can assign workers to a case"),
            ("share_case", "Can share a case with another agency"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "closed"]), name="case_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.reference


# Direct foreign-key object-permission tables (django-guardian "performance tuning"): one row
# per grant with a real FK to the case, so grants are indexed joins and disappear with the case
# instead of orphaning in the generic content-type tables.
class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)
