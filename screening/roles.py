"""Staff roles. Each role is a Django group of the same name, created by a data migration."""

from django.db import models


class Role(models.TextChoices):
    FRONTLINE_OFFICER = "frontline_officer", "Frontline officer"
    SOCIAL_WORKER = "social_worker", "Social worker"
    SUPERVISOR = "supervisor", "Supervisor"
    HOTLINE_STAFF = "hotline_staff", "Hotline staff"
    AGENCY_ADMIN = "agency_admin", "Agency administrator"
    PROVIDER_STAFF = "provider_staff", "Service-provider staff"
