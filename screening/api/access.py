"""`GET /api/v1/cases/{reference}/access/`: who can see a case and why, for the case's own
workers and supervisors of its agency (`CaseAction.SEE_ACCESS`), as on the case's
"Who can see this case" page. Conventions: docs/api.md."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.pagination import KeysetCursorPagination
from config.api.serializers import ApiSerializer
from screening.access import GrantKind, case_access_list
from screening.permissions import IsCaseWorker
from screening.roles import Role


class AccessGrantOutputSerializer(ApiSerializer):
    kind = serializers.ChoiceField(
        choices=GrantKind.choices,
        help_text="creator, assignment, grant (given by hand), supervisor (of the owning "
        "agency), share (to the person's agency), break_glass (emergency access).",
    )
    label = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    until = serializers.DateTimeField(
        allow_null=True, help_text="When emergency access ends by itself; null otherwise."
    )
    agency = serializers.CharField(
        source="agency_name", help_text='The agency a share went to; "" otherwise.'
    )
    by = serializers.CharField(
        source="by.username",
        allow_null=True,
        help_text="Who assigned or shared (staff account), where recorded.",
    )


class CaseAccessHolderOutputSerializer(ApiSerializer):
    username = serializers.CharField(source="user.username", help_text="Staff account.")
    name = serializers.CharField(source="user.get_full_name")
    agency = serializers.CharField(source="user.agency.name")
    roles = serializers.SerializerMethodField()
    grants = AccessGrantOutputSerializer(many=True)

    def get_roles(self, holder) -> list[str]:
        return sorted(group.name for group in holder.user.groups.all() if group.name in Role.values)


class CaseAccessPagination(KeysetCursorPagination):
    cursor_fields = (("pk", int),)


class CaseAccessListApi(APIView):
    permission_classes = [IsCaseWorker]
    pagination_class = CaseAccessPagination

    @extend_schema(
        operation_id="cases_access_list",
        responses=CaseAccessHolderOutputSerializer(many=True),
        tags=["cases"],
    )
    def get(self, request: Request, reference: str) -> Response:
        """Every person who can see the case now and each grant that lets them; for the
        case's creator, its assigned workers and supervisors of its agency (others who see
        the case get 403, everyone else 404). Cursor-paginated."""
        access = case_access_list(user=request.user, case_reference_or_id=reference)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(access.people, request, view=self)
        holders = access.holders(page)
        return paginator.get_paginated_response(
            CaseAccessHolderOutputSerializer(holders, many=True).data
        )
