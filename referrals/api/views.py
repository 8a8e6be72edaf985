"""REST API for referrals and the provider directory (issue 6). One view per operation;
views validate shapes, call the same selectors, services and access functions as the referral
pages, and render. Conventions: docs/api.md."""

from __future__ import annotations

from datetime import datetime

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.pagination import (
    ApiCursorPagination,
    KeysetCursorPagination,
    paginated_response,
)
from config.api.schema import rule_when, text_required
from config.api.serializers import ApiFilterSerializer, ApiSerializer
from referrals import services
from referrals.api.serializers import (
    ProviderOutputSerializer,
    ReferralDetailOutputSerializer,
    ReferralOutputSerializer,
    ReferralProviderOutputSerializer,
)
from referrals.forms import QUEUE_STATUS_CHOICES as QUEUE_FILTER_STATUSES
from referrals.models import Priority, Referral, ServiceType
from referrals.permissions import is_active_staff, is_provider_staff
from referrals.providers import provider_list
from referrals.selectors import referral_event_list, referral_get, referral_queue
from referrals.services.answers import ANSWERS, PROVIDER_DECLINE_REASONS
from referrals.services.decisions import SUPERVISOR_DECLINE_REASONS
from screening.permissions import IsAgencyStaff
from screening.roles import Role


class IsSupervisor(BasePermission):
    message = "Only supervisors work the referral queue and decide referrals."

    def has_permission(self, request, view) -> bool:
        return is_active_staff(request.user) and request.user.has_role(Role.SUPERVISOR)


class IsProviderStaff(BasePermission):
    message = "Only staff of a service provider answer referrals."

    def has_permission(self, request, view) -> bool:
        return is_active_staff(request.user) and request.user.has_role(Role.PROVIDER_STAFF)


def _referral_detail_response(request: Request, referral: Referral) -> Response:
    referral.events_in_order = referral_event_list(user=request.user, referral_id=referral.pk)
    return Response(ReferralDetailOutputSerializer(referral, context={"request": request}).data)


# The statuses a queue row can have, in words: the delivered ones only once escalated.
QUEUE_STATUS_CHOICES = QUEUE_FILTER_STATUSES
ESCALATION_CHOICES = [
    ("any", "Escalated, any reason"),
    *Referral.EscalationReason.choices,
    ("none", "Not escalated"),
]


class ReferralQueuePagination(KeysetCursorPagination):
    """Failed deliveries first, then priority, then due time (the queue's own order)."""

    cursor_fields = (("queue_rank", int), ("priority", int), ("due_at", datetime), ("pk", int))


class ReferralQueueApi(APIView):
    permission_classes = [IsSupervisor]
    pagination_class = ReferralQueuePagination

    @extend_schema_serializer(component_name="ReferralQueueFilter")
    class FilterSerializer(ApiFilterSerializer):
        status = serializers.ChoiceField(
            choices=QUEUE_STATUS_CHOICES,
            required=False,
            help_text="Why it waits. Delivered statuses (sent, acknowledged, accepted, "
            "services_started) are in the queue only once escalated.",
        )
        escalation = serializers.ChoiceField(
            choices=ESCALATION_CHOICES,
            required=False,
            help_text='"any" escalated, "none" not escalated, or one escalation reason.',
        )
        service_type = serializers.ChoiceField(choices=ServiceType.choices, required=False)
        region = serializers.CharField(
            max_length=100, required=False, help_text="The case's region (exact, any case)."
        )

    @extend_schema(
        operation_id="referrals_queue",
        parameters=[FilterSerializer],
        responses=ReferralOutputSerializer(many=True),
        tags=["referrals"],
    )
    def get(self, request: Request) -> Response:
        """Referrals of your agency's cases that wait for a supervisor: failed deliveries
        first, then by priority and due time; cursor-paginated."""
        filters = ReferralQueueApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        referrals = referral_queue(user=request.user, **filters.validated_data)
        return paginated_response(
            request=request,
            queryset=referrals,
            serializer_class=ReferralOutputSerializer,
            view=self,
            pagination_class=ReferralQueuePagination,
        )


class ReferralDetailApi(APIView):
    permission_classes = [IsAgencyStaff]

    @extend_schema(
        operation_id="referrals_retrieve",
        responses=ReferralDetailOutputSerializer,
        tags=["referrals"],
    )
    def get(self, request: Request, referral_id: int) -> Response:
        """One referral of a case you may see, with its history. Provider staff get a
        referral sent to their agency as the provider sees it (no case data)."""
        referral = referral_get(user=request.user, referral_id=referral_id)
        if is_provider_staff(request.user):
            return Response(ReferralProviderOutputSerializer(referral).data)
        return _referral_detail_response(request, referral)


class ReferralApproveApi(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema_serializer(component_name="ReferralApproveInput")
    class InputSerializer(ApiSerializer):
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(
        operation_id="referrals_approve",
        request=InputSerializer,
        responses=ReferralDetailOutputSerializer,
        tags=["referrals"],
    )
    def post(self, request: Request, referral_id: int) -> Response:
        """Approve a referral waiting for approval; it is then delivered. The consent is
        checked again now (409 consent-required). Approving twice changes nothing."""
        serializer = ReferralApproveApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_approve(
            referral_id=referral_id, by=request.user, note=serializer.validated_data.get("note", "")
        )
        return _referral_detail_response(request, referral)


class ReferralDeclineApi(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema_serializer(component_name="ReferralDeclineInput")
    class InputSerializer(ApiSerializer):
        reason_code = serializers.ChoiceField(
            choices=[
                (value, Referral.DeclineReason(value).label) for value in SUPERVISOR_DECLINE_REASONS
            ]
        )
        note = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, help_text='Required for "other".'
        )

        schema_rules = [rule_when({"reason_code": ["other"]}, text_required("note"))]

    @extend_schema(
        operation_id="referrals_decline",
        request=InputSerializer,
        responses=ReferralDetailOutputSerializer,
        tags=["referrals"],
    )
    def post(self, request: Request, referral_id: int) -> Response:
        """Decline a proposed or blocked referral, with a reason code."""
        serializer = ReferralDeclineApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_decline(
            referral_id=referral_id,
            by=request.user,
            reason_code=serializer.validated_data["reason_code"],
            note=serializer.validated_data.get("note", ""),
        )
        return _referral_detail_response(request, referral)


class ReferralAnswerApi(APIView):
    permission_classes = [IsProviderStaff]

    @extend_schema_serializer(component_name="ReferralAnswerInput")
    class InputSerializer(ApiSerializer):
        answer = serializers.ChoiceField(choices=list(ANSWERS))
        reason_code = serializers.ChoiceField(
            choices=[
                (value, Referral.DeclineReason(value).label) for value in PROVIDER_DECLINE_REASONS
            ],
            required=False,
            help_text='Required with "decline".',
        )
        note = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, help_text='Required for "other".'
        )

        schema_rules = [
            rule_when({"answer": ["decline"]}, {"required": ["reason_code"]}),
            rule_when({"answer": ["decline"], "reason_code": ["other"]}, text_required("note")),
        ]

    @extend_schema(
        operation_id="referrals_answer",
        request=InputSerializer,
        responses=ReferralProviderOutputSerializer,
        tags=["referrals"],
    )
    def post(self, request: Request, referral_id: int) -> Response:
        """Answer a referral sent to your provider: acknowledge, accept, decline (with a
        reason code) or services_started. The same answer again changes nothing."""
        serializer = ReferralAnswerApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        referral = services.referral_provider_answer(
            referral_id=referral_id,
            by=request.user,
            answer=data["answer"],
            reason_code=data.get("reason_code", ""),
            note=data.get("note", ""),
        )
        return Response(ReferralProviderOutputSerializer(referral).data)


def _referral_case_work_response(request: Request, referral: Referral) -> Response:
    if is_provider_staff(request.user):
        return Response(ReferralProviderOutputSerializer(referral).data)
    referral = referral_get(user=request.user, referral_id=referral.pk)
    return _referral_detail_response(request, referral)


class ReferralCloseApi(APIView):
    permission_classes = [IsAgencyStaff]

    @extend_schema_serializer(component_name="ReferralCloseInput")
    class InputSerializer(ApiSerializer):
        outcome = serializers.ChoiceField(choices=Referral.Outcome.choices)
        note = serializers.CharField(
            max_length=2000, required=False, allow_blank=True, help_text='Required for "other".'
        )

        schema_rules = [rule_when({"outcome": ["other"]}, text_required("note"))]

    @extend_schema(
        operation_id="referrals_close",
        request=InputSerializer,
        responses=ReferralDetailOutputSerializer,
        tags=["referrals"],
    )
    def post(self, request: Request, referral_id: int) -> Response:
        """Close an accepted (or started) referral with its outcome: provider staff for
        referrals sent to their agency (answered as the provider sees it), the case's
        workers and supervisors for their agency's. 409 invalid-state if it was not taken on."""
        serializer = ReferralCloseApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_close(
            referral_id=referral_id,
            by=request.user,
            outcome=serializer.validated_data["outcome"],
            note=serializer.validated_data.get("note", ""),
        )
        return _referral_case_work_response(request, referral)


class ReferralEscalateApi(APIView):
    permission_classes = [IsAgencyStaff]

    @extend_schema_serializer(component_name="ReferralEscalateInput")
    class InputSerializer(ApiSerializer):
        note = serializers.CharField(max_length=2000, help_text="Why it needs a supervisor.")

    @extend_schema(
        operation_id="referrals_escalate",
        request=InputSerializer,
        responses=ReferralDetailOutputSerializer,
        tags=["referrals"],
    )
    def post(self, request: Request, referral_id: int) -> Response:
        """Escalate a stuck referral to the supervisor queue, with a note (the case's
        workers and supervisors). 409 invalid-state if already escalated or finished."""
        serializer = ReferralEscalateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_escalate(
            referral_id=referral_id, by=request.user, note=serializer.validated_data["note"]
        )
        return _referral_case_work_response(request, referral)


class ReferralProposeApi(APIView):
    permission_classes = [IsAgencyStaff]

    @extend_schema_serializer(component_name="ReferralProposeInput")
    class InputSerializer(ApiSerializer):
        service_type = serializers.ChoiceField(choices=ServiceType.choices)
        provider = serializers.SlugField(
            max_length=80, help_text="The provider's directory slug (GET /providers/)."
        )
        priority = serializers.ChoiceField(choices=Priority.choices, required=False)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(
        operation_id="referrals_propose",
        request=InputSerializer,
        responses={201: ReferralDetailOutputSerializer},
        tags=["referrals"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Propose a referral of the case by hand, from its latest screening: it waits for
        consent if none covers it, then for a supervisor's approval, like a routed one."""
        serializer = ReferralProposeApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        referral = services.referral_propose(
            case_reference=reference,
            by=request.user,
            service_type=data["service_type"],
            provider_slug=data["provider"],
            priority=data.get("priority", Priority.NORMAL),
            note=data.get("note", ""),
        )
        response = _referral_case_work_response(request, referral)
        response.status_code = 201
        return response


class ProviderPagination(ApiCursorPagination):
    ordering = ("name", "pk")


class ProviderListApi(APIView):
    permission_classes = [IsAgencyStaff]
    pagination_class = ProviderPagination

    @extend_schema_serializer(component_name="ProviderFilter")
    class FilterSerializer(ApiFilterSerializer):
        service_type = serializers.ChoiceField(choices=ServiceType.choices, required=False)
        region = serializers.CharField(
            max_length=100,
            required=False,
            help_text='A region the provider covers (any case); "national" providers too.',
        )
        language = serializers.CharField(
            max_length=32, required=False, help_text="A language the provider works in."
        )

    @extend_schema(
        operation_id="providers_list",
        parameters=[FilterSerializer],
        responses=ProviderOutputSerializer(many=True),
        tags=["providers"],
    )
    def get(self, request: Request) -> Response:
        """The provider directory: active providers by name, filtered."""
        filters = ProviderListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        providers = provider_list(user=request.user, **filters.validated_data)
        return paginated_response(
            request=request,
            queryset=providers,
            serializer_class=ProviderOutputSerializer,
            view=self,
            pagination_class=ProviderPagination,
        )
