"""Who may do what. Object-level access functions for cases arrive with the screening feature."""

from rest_framework.permissions import BasePermission

from screening.roles import Role


def is_agency_staff(user) -> bool:
    """An active account that belongs to an agency and holds at least one staff role."""
    if not (user and user.is_authenticated and user.is_active and user.agency_id):
        return False
    return user.groups.filter(name__in=Role.values).exists()


class IsAgencyStaff(BasePermission):
    message = "Only agency staff with a role may use this endpoint."

    def has_permission(self, request, view) -> bool:
        return is_agency_staff(request.user)
