"""Small helpers shared by the screening services."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from guardian.shortcuts import assign_perm, remove_perm

from config.errors import ActionNotAllowed, ValidationError
from screening.models import Case, User
from screening.permissions import is_case_worker

# What the creator and every assigned worker hold on a case (direct-FK guardian rows).
WORKER_GRANTS = ("view_case", "change_case")


def require_case_worker(user: User) -> None:
    """Active staff of an agency holding a case-work role, or `ActionNotAllowed`."""
    if not is_case_worker(user):
        raise ActionNotAllowed("Only agency staff with a case-work role may do this.")


def grant_worker(*, case: Case, user: User) -> None:
    for codename in WORKER_GRANTS:
        assign_perm(codename, user, case)


def revoke_worker(*, case: Case, user: User) -> None:
    for codename in WORKER_GRANTS:
        remove_perm(codename, user, case)


def full_clean(
    instance: models.Model,
    *,
    exclude: list[str] | None = None,
    validate_constraints: bool = True,
) -> None:
    """Run the model's own validation (fields, choices, constraints) and raise our error.

    Each check constraint is validated with a query of its own; where every constraint only
    restates a field's choices (already checked with the fields) or holds values the service
    sets itself, pass `validate_constraints=False` and let the database enforce them."""
    # row_uid is a random UUID the database keeps unique: checking it would cost a query.
    exclude = [*(exclude or []), "row_uid"]
    try:
        instance.full_clean(exclude=exclude, validate_constraints=validate_constraints)
    except DjangoValidationError as error:
        raise ValidationError(
            "Please correct the highlighted fields.",
            {
                field: [str(message) for message in messages]
                for field, messages in error.message_dict.items()
            },
        ) from None


def raise_if(
    problems: dict[str, list[str]], message: str = "Please correct the highlighted fields."
) -> None:
    if problems:
        raise ValidationError(message, problems)


def clean_text(value: str | None) -> str:
    return (value or "").strip()
