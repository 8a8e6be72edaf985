"""REST API for hotline contacts, cases, screenings and the caller's own API tokens. One view
per operation; views only validate shapes, call selectors/services and render. Conventions:
docs/api.md."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.etags import etag_for, expected_version
from config.api.fields import UtcDateTimeField, filter_params
from config.api.idempotency import ReplayCheck, idempotent
from config.api.pagination import ApiCursorPagination, paginated_response
from config.api.problems import PreconditionFailed
from config.api.schema import (
    IDEMPOTENCY_KEY,
    IDEMPOTENT_REPLAYED,
    IF_MATCH,
    IF_MATCH_OPTIONAL,
    NON_BLANK_TEXT_PATTERN,
    rule_when,
)
from config.api.serializers import ApiFilterSerializer, ApiSerializer, represent
from config.errors import ConflictError, ConsentNotFound, ScreeningNotFound, ValidationError
from config.models import ApiToken
from config.tokens import MAX_TOKEN_DAYS, api_token_get
from indicators.selectors import InstrumentVersionNotFound, instrument_version_get
from screening import services
from screening.api.serializers import (
    ApiTokenCreatedOutputSerializer,
    ApiTokenOutputSerializer,
    CaseCreatedOutputSerializer,
    CaseOutputSerializer,
    ContactOutputSerializer,
    ContactSavedOutputSerializer,
    ScreeningOutputSerializer,
    ScreeningResultOutputSerializer,
)
from screening.contacts import contact_get, contact_list, may_log_contacts
from screening.duplicates import (
    EarlierRecord,
    possible_earlier_records,
    possible_earlier_records_of,
)
from screening.filters import CaseFilter, apply_filters
from screening.models import Case, Consent, Contact, Screening
from screening.permissions import (
    CaseAction,
    IsAgencyStaff,
    IsCaseWorker,
    case_access,
    consent_access,
)
from screening.selectors import (
    case_get,
    case_identifying_visible,
    case_list,
    screening_get,
    screening_override_current,
)

# A replayed create answers only while the caller may still see what it created; otherwise
# the object's own 404 (config/api/idempotency.py). Each goes through the resource's access.
CONTACT_REPLAY = ReplayCheck(
    object_type="contact",
    object_id=lambda body: body["id"],
    access=lambda user, contact_id: contact_get(user=user, contact_id=contact_id),
)
# The stored case holds the identifying fields, shown only to those who may change the case.
CASE_REPLAY = ReplayCheck(
    object_type="case",
    object_id=lambda body: body["reference"],
    access=lambda user, reference: case_access(
        user=user, case_reference_or_id=reference, action=CaseAction.CHANGE
    ),
)
SCREENING_REPLAY = ReplayCheck(
    object_type="screening",
    object_id=lambda body: body["id"],
    access=lambda user, screening_id: screening_get(user=user, screening_id=screening_id),
)
API_TOKEN_REPLAY = ReplayCheck(
    object_type="api_token",
    object_id=lambda body: body["prefix"],
    access=lambda user, prefix: api_token_get(user=user, prefix=prefix),
)


class IsContactStaff(BasePermission):
    message = "Only hotline staff and supervisors may work with contacts."

    def has_permission(self, request, view) -> bool:
        return may_log_contacts(request.user)


def _contact_response(
    contact: Contact, *, status_code: int = status.HTTP_200_OK, serializer=ContactOutputSerializer
) -> Response:
    headers = {"ETag": etag_for(contact.version)}
    if status_code == status.HTTP_201_CREATED:
        headers["Location"] = reverse("api-contact-detail", args=[contact.pk])
    return Response(represent(serializer, contact), status=status_code, headers=headers)


def _saved_contact_response(
    request: Request, contact: Contact, *, status_code: int = status.HTTP_200_OK
) -> Response:
    """A contact just logged or changed, with possible earlier records of its caller (no
    query when it has no caller name or phone). Its own linked case is not "earlier"."""
    contact.possible_earlier_records = possible_earlier_records(
        user=request.user,
        phone=contact.caller_phone,
        name=contact.caller_name,
        exclude_contact=contact,
        exclude_case=contact.case_id,
    )
    return _contact_response(
        contact, status_code=status_code, serializer=ContactSavedOutputSerializer
    )


def _replayed_with_records_of_now(
    response: Response, records: Callable[[dict], list[EarlierRecord]]
) -> Response:
    """A replayed create shows the possible earlier records the user may see now, not those
    stored with the first response (a share may have ended since)."""
    if response.has_header("Idempotent-Replayed") and response.status_code == 201:
        response.data = {
            **response.data,
            "possible_earlier_records": [record.as_dict() for record in records(response.data)],
        }
    return response


# --- contacts ---------------------------------------------------------------------------


class ContactListApi(APIView):
    permission_classes = [IsContactStaff]
    pagination_class = ApiCursorPagination

    @extend_schema_serializer(component_name="ContactFilter")
    class FilterSerializer(ApiFilterSerializer):
        status = serializers.ChoiceField(choices=Contact.Status.choices, required=False)
        contact_type = serializers.ChoiceField(choices=Contact.ContactType.choices, required=False)
        channel = serializers.ChoiceField(choices=Contact.Channel.choices, required=False)
        exploitation_type = serializers.ChoiceField(
            choices=Case.ExploitationType.choices, required=False
        )
        immediate_danger = serializers.BooleanField(required=False, allow_null=True, default=None)
        minor_involved = serializers.BooleanField(required=False, allow_null=True, default=None)
        region = serializers.CharField(
            max_length=100,
            required=False,
            help_text="The caller's region (exact match, any case).",
        )
        created_after = UtcDateTimeField(required=False)
        created_before = UtcDateTimeField(required=False)

    @extend_schema(
        operation_id="contacts_list",
        parameters=[FilterSerializer],
        responses=ContactOutputSerializer(many=True),
        tags=["contacts"],
    )
    def get(self, request: Request) -> Response:
        """Your agency's contacts, newest first, cursor-paginated, filtered."""
        filters = ContactListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        contacts = contact_list(
            user=request.user,
            filters=filter_params(filters.validated_data),
        )
        return paginated_response(
            request=request,
            queryset=contacts,
            serializer_class=ContactOutputSerializer,
            view=self,
        )


class ContactCreateApi(APIView):
    permission_classes = [IsContactStaff]

    @extend_schema_serializer(component_name="ContactCreateInput")
    class InputSerializer(ApiSerializer):
        channel = serializers.ChoiceField(choices=Contact.Channel.choices)
        contact_type = serializers.ChoiceField(choices=Contact.ContactType.choices)
        caller_type = serializers.ChoiceField(
            choices=Contact.CallerType.choices, default=Contact.CallerType.ANONYMOUS
        )
        language = serializers.CharField(max_length=32, required=False, allow_blank=True)
        caller_region = serializers.CharField(max_length=100, required=False, allow_blank=True)
        immediate_danger = serializers.BooleanField(default=False)
        minor_involved = serializers.BooleanField(default=False)
        exploitation_type = serializers.ChoiceField(
            choices=Case.ExploitationType.choices, default=Case.ExploitationType.UNKNOWN
        )
        situation_location = serializers.CharField(
            max_length=2000, required=False, allow_blank=True
        )
        summary = serializers.CharField(max_length=20000, required=False, allow_blank=True)
        triage_answers = serializers.DictField(
            child=serializers.JSONField(),
            required=False,
            allow_null=True,
            help_text="Extra hotline-triage answers by item key, e.g. needs_response_24h.",
        )
        caller_name = serializers.CharField(
            max_length=200, required=False, allow_blank=True, help_text="Identifying."
        )
        caller_phone = serializers.CharField(
            max_length=100,
            required=False,
            allow_blank=True,
            help_text="Identifying. National numbers are read as numbers of the service's "
            "default region.",
        )
        case = serializers.CharField(
            max_length=16,
            required=False,
            allow_null=True,
            source="case_reference",
            help_text="Reference of a case your agency can see, to link.",
        )
        create_case = serializers.BooleanField(default=False)

        # Link a case or create one, not both.
        schema_rules = [
            rule_when(
                {"create_case": [True]}, {"properties": {"case": {"not": {"type": "string"}}}}
            )
        ]

    @extend_schema(
        operation_id="contacts_create",
        request=InputSerializer,
        responses={201: ContactSavedOutputSerializer},
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        tags=["contacts"],
    )
    def post(self, request: Request) -> Response:
        """Log a contact (a draft). Idempotent with an Idempotency-Key. With a caller name or
        phone, `possible_earlier_records` lists records you may see with the same ones."""

        def create() -> Response:
            serializer = ContactCreateApi.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            contact = services.contact_create(created_by=request.user, **serializer.validated_data)
            return _saved_contact_response(request, contact, status_code=status.HTTP_201_CREATED)

        def records_of_now(body: dict) -> list[EarlierRecord]:
            if not (body.get("caller_name") or body.get("caller_phone")):
                return []
            return possible_earlier_records_of(user=request.user, contact_id=body["id"])

        response = idempotent(request, create, replay_check=CONTACT_REPLAY)
        return _replayed_with_records_of_now(response, records_of_now)


class ContactsApi(ContactListApi, ContactCreateApi):
    """`/contacts/`: GET lists (ContactListApi), POST creates (ContactCreateApi)."""


class ContactDetailApi(APIView):
    permission_classes = [IsContactStaff]

    @extend_schema(
        operation_id="contacts_retrieve", responses=ContactOutputSerializer, tags=["contacts"]
    )
    def get(self, request: Request, contact_id: int) -> Response:
        """One contact of your agency; the ETag header is its version."""
        return _contact_response(contact_get(user=request.user, contact_id=contact_id))


class ContactUpdateApi(APIView):
    permission_classes = [IsContactStaff]

    @extend_schema_serializer(component_name="ContactUpdateInput")
    class InputSerializer(ApiSerializer):
        channel = serializers.ChoiceField(choices=Contact.Channel.choices, required=False)
        contact_type = serializers.ChoiceField(choices=Contact.ContactType.choices, required=False)
        caller_type = serializers.ChoiceField(choices=Contact.CallerType.choices, required=False)
        language = serializers.CharField(max_length=32, required=False, allow_blank=True)
        caller_region = serializers.CharField(max_length=100, required=False, allow_blank=True)
        immediate_danger = serializers.BooleanField(required=False)
        minor_involved = serializers.BooleanField(required=False)
        exploitation_type = serializers.ChoiceField(
            choices=Case.ExploitationType.choices, required=False
        )
        situation_location = serializers.CharField(
            max_length=2000, required=False, allow_blank=True
        )
        summary = serializers.CharField(max_length=20000, required=False, allow_blank=True)
        caller_name = serializers.CharField(
            max_length=200, required=False, allow_blank=True, help_text="Identifying."
        )
        caller_phone = serializers.CharField(
            max_length=100, required=False, allow_blank=True, help_text="Identifying."
        )
        triage_answers = serializers.DictField(
            child=serializers.JSONField(), required=False, allow_null=True
        )
        case = serializers.CharField(max_length=16, required=False, allow_null=True)

    @extend_schema(
        operation_id="contacts_partial_update",
        request=InputSerializer,
        responses=ContactSavedOutputSerializer,
        parameters=[IF_MATCH],
        tags=["contacts"],
    )
    def patch(self, request: Request, contact_id: int) -> Response:
        """Change a draft contact. Needs If-Match with the ETag you read."""
        contact = contact_get(user=request.user, contact_id=contact_id)
        version = expected_version(request, required=True)
        serializer = ContactUpdateApi.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            contact = services.contact_update(
                contact=contact,
                by=request.user,
                expected_version=version,
                changes=dict(serializer.validated_data),
            )
        except ConflictError:
            raise PreconditionFailed() from None
        return _saved_contact_response(request, contact)


class ContactItemApi(ContactDetailApi, ContactUpdateApi):
    """`/contacts/{id}/`: GET (ContactDetailApi), PATCH a draft (ContactUpdateApi)."""


class ContactFinaliseApi(APIView):
    permission_classes = [IsContactStaff]

    @extend_schema(
        operation_id="contacts_finalise",
        request=None,
        responses=ContactOutputSerializer,
        parameters=[IF_MATCH_OPTIONAL],
        tags=["contacts"],
    )
    def post(self, request: Request, contact_id: int) -> Response:
        """Finalise the contact: no more changes. Safe to retry."""
        contact = contact_get(user=request.user, contact_id=contact_id)
        version = expected_version(request, required=False)
        try:
            contact = services.contact_finalise(
                contact=contact, by=request.user, expected_version=version
            )
        except ConflictError:
            raise PreconditionFailed() from None
        return _contact_response(contact)


# --- cases --------------------------------------------------------------------------------


class CaseListApi(APIView):
    permission_classes = [IsAgencyStaff]
    pagination_class = ApiCursorPagination

    @extend_schema_serializer(component_name="CaseFilter")
    class FilterSerializer(ApiFilterSerializer):
        status = serializers.ChoiceField(choices=Case.Status.choices, required=False)
        exploitation_type = serializers.ChoiceField(
            choices=Case.ExploitationType.choices, required=False
        )
        age_band = serializers.ChoiceField(choices=Case.AgeBand.choices, required=False)
        urgent = serializers.BooleanField(required=False, allow_null=True, default=None)
        region = serializers.CharField(
            max_length=100, required=False, help_text="Exact match, any case."
        )
        created_after = UtcDateTimeField(required=False)
        created_before = UtcDateTimeField(required=False)

    @extend_schema(
        operation_id="cases_list",
        parameters=[FilterSerializer],
        responses=CaseOutputSerializer(many=True),
        tags=["cases"],
    )
    def get(self, request: Request) -> Response:
        """Cases you may see, newest first; restricted fields only where you may change the case."""
        filters = CaseListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        cases = apply_filters(
            CaseFilter,
            filter_params(filters.validated_data),
            case_list(user=request.user),
        )
        return paginated_response(
            request=request, queryset=cases, serializer_class=CaseOutputSerializer, view=self
        )


class CaseCreateApi(APIView):
    permission_classes = [IsAgencyStaff]

    @extend_schema_serializer(component_name="CaseCreateInput")
    class InputSerializer(ApiSerializer):
        age = serializers.IntegerField(
            min_value=0, max_value=Case.MAX_AGE, required=False, allow_null=True
        )
        age_band = serializers.ChoiceField(choices=Case.AgeBand.choices, required=False)
        gender = serializers.ChoiceField(choices=Case.Gender.choices, required=False)
        languages = serializers.ListField(
            child=serializers.CharField(max_length=32), required=False, max_length=20
        )
        nationality = serializers.CharField(max_length=64, required=False, allow_blank=True)
        region = serializers.CharField(max_length=100, required=False, allow_blank=True)
        exploitation_type = serializers.ChoiceField(
            choices=Case.ExploitationType.choices, required=False
        )
        safe_to_contact = serializers.ChoiceField(choices=["yes", "no", "unknown"], required=False)
        do_not_contact = serializers.BooleanField(required=False)
        identifying_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
        identifying_phone = serializers.CharField(max_length=100, required=False, allow_blank=True)
        identifying_documents = serializers.CharField(
            max_length=500, required=False, allow_blank=True
        )
        narrative = serializers.CharField(max_length=20000, required=False, allow_blank=True)

        # A known age decides the band: the band given with it is unknown or the same.
        schema_rules = [
            {
                "anyOf": [
                    {"properties": {"age": {"not": {"type": "integer"}}}},
                    {"properties": {"age_band": {"enum": [Case.AgeBand.UNKNOWN]}}},
                    {
                        "properties": {
                            "age": {"maximum": 17},
                            "age_band": {"enum": [Case.AgeBand.MINOR]},
                        }
                    },
                    {
                        "properties": {
                            "age": {"minimum": 18},
                            "age_band": {"enum": [Case.AgeBand.ADULT]},
                        }
                    },
                ]
            }
        ]

    @extend_schema(
        operation_id="cases_create",
        request=InputSerializer,
        responses={201: CaseCreatedOutputSerializer},
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        tags=["cases"],
    )
    def post(self, request: Request) -> Response:
        """Open a case owned by your agency. Idempotent with an Idempotency-Key.
        `possible_earlier_records` lists cases and contacts you may see with the same
        identifying phone, document number or name."""

        def create() -> Response:
            serializer = CaseCreateApi.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            created = services.case_create(created_by=request.user, **serializer.validated_data)
            # Read back through the access function: it annotates what the user may see.
            case = case_access(
                user=request.user, case_reference_or_id=created.pk, action=CaseAction.VIEW
            )
            case.possible_earlier_records = possible_earlier_records(
                user=request.user,
                phone=created.identifying_phone,
                name=created.identifying_name,
                documents=created.identifying_documents,
                exclude_case=created,
            )
            return Response(
                CaseCreatedOutputSerializer(case).data,
                status=status.HTTP_201_CREATED,
                headers={"Location": reverse("api-case-detail", args=[case.reference])},
            )

        def records_of_now(body: dict) -> list[EarlierRecord]:
            return possible_earlier_records_of(user=request.user, case_reference=body["reference"])

        response = idempotent(request, create, replay_check=CASE_REPLAY)
        return _replayed_with_records_of_now(response, records_of_now)


class CasesApi(CaseListApi, CaseCreateApi):
    """`/cases/`: GET lists (CaseListApi), POST creates (CaseCreateApi)."""


class CaseDetailApi(APIView):
    permission_classes = [IsAgencyStaff]

    @extend_schema(operation_id="cases_retrieve", responses=CaseOutputSerializer, tags=["cases"])
    def get(self, request: Request, reference: str) -> Response:
        """One case by its reference; restricted fields only if you may change it, or your
        agency was given them by a share with the person's consent."""
        case = case_get(user=request.user, case_reference_or_id=reference)
        case.user_sees_identifying = case_identifying_visible(user=request.user, case=case)
        return Response(CaseOutputSerializer(case).data)


# --- screenings ---------------------------------------------------------------------------


def _screening_response(screening: Screening, *, status_code: int = status.HTTP_200_OK) -> Response:
    headers = {"ETag": etag_for(screening.version)}
    if status_code == status.HTTP_201_CREATED:
        headers["Location"] = reverse("api-screening-detail", args=[screening.pk])
    return Response(ScreeningOutputSerializer(screening).data, status=status_code, headers=headers)


def _screening_result_response(screening: Screening) -> Response:
    override = screening_override_current(screening=screening)
    screening.override = override
    screening.outcome_in_force = override.outcome if override else screening.outcome
    return Response(
        ScreeningResultOutputSerializer(screening).data,
        headers={"ETag": etag_for(screening.version)},
    )


def _answer_errors(error: ValidationError) -> ValidationError:
    """The service names bad answers by item key; the API names them by their path in the
    request body (`answers.<key>`)."""
    return ValidationError(
        error.message,
        {
            f"answers.{key}" if key else "answers": messages
            for key, messages in error.field_errors.items()
        },
    )


def _consent_of(request: Request, *, case: Case, consent_id: int) -> Consent:
    """The consent named in the body, if it is one of this case's (else a 400 naming it)."""
    try:
        consent = consent_access(user=request.user, consent_id=consent_id, action=CaseAction.VIEW)
    except ConsentNotFound:
        consent = None
    if consent is None or consent.case_id != case.pk:
        raise ValidationError(
            "No such consent on this case.", {"consent": ["Use a consent recorded on this case."]}
        )
    return consent


class ScreeningStartApi(APIView):
    permission_classes = [IsCaseWorker]
    extra_problem_codes = {"POST": ("422",)}

    @extend_schema_serializer(component_name="ScreeningStartInput")
    class InputSerializer(ApiSerializer):
        instrument = serializers.SlugField(
            max_length=80, help_text="e.g. frontline-adult-conversation"
        )
        instrument_version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
        setting = serializers.ChoiceField(choices=Screening.Setting.choices)
        safe_to_talk = serializers.ChoiceField(
            choices=Screening.SafetyAnswer.choices,
            help_text='Ask first. "no" stops here (422) and records nothing.',
        )
        alone = serializers.ChoiceField(
            choices=Screening.SafetyAnswer.choices,
            help_text='Is the person alone (an independent interpreter may stay)? "no" stops.',
        )
        interpreter_used = serializers.BooleanField(default=False)
        interpreter_language = serializers.CharField(
            max_length=32, required=False, allow_blank=True, default=""
        )
        interpreter_independent = serializers.BooleanField(
            required=False, allow_null=True, default=None
        )
        consent = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=2**31 - 1,
            help_text="The id of the person's screening consent; default: the newest active one.",
        )

        # With an interpreter: which language, and an independent one.
        schema_rules = [
            rule_when(
                {"interpreter_used": [True]},
                {
                    "required": ["interpreter_language", "interpreter_independent"],
                    "properties": {
                        "interpreter_language": {"pattern": NON_BLANK_TEXT_PATTERN},
                        "interpreter_independent": {"enum": [True]},
                    },
                },
            )
        ]

    @extend_schema(
        operation_id="screenings_start",
        request=InputSerializer,
        responses={201: ScreeningOutputSerializer},
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        tags=["screenings"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Start a draft screening of the case: safety gate, then the person's screening
        consent. Idempotent with an Idempotency-Key."""

        def create() -> Response:
            case = case_access(
                user=request.user, case_reference_or_id=reference, action=CaseAction.CHANGE
            )
            serializer = ScreeningStartApi.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            try:
                version = instrument_version_get(
                    slug=data["instrument"], number=data["instrument_version"]
                )
            except InstrumentVersionNotFound:
                raise ValidationError(
                    "No such published instrument version.",
                    {"instrument_version": ["Use a published version (GET /instruments/)."]},
                ) from None
            consent = None
            if data.get("consent") is not None:
                consent = _consent_of(request, case=case, consent_id=data["consent"])
            screening = services.screening_start(
                case=case,
                by=request.user,
                instrument_version=version,
                setting=data["setting"],
                safe_to_talk=data["safe_to_talk"],
                alone=data["alone"],
                interpreter_used=data["interpreter_used"],
                interpreter_language=data["interpreter_language"],
                interpreter_independent=data["interpreter_independent"],
                consent=consent,
            )
            return _screening_response(screening, status_code=status.HTTP_201_CREATED)

        return idempotent(request, create, replay_check=SCREENING_REPLAY)


class ScreeningDetailApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema(
        operation_id="screenings_retrieve", responses=ScreeningOutputSerializer, tags=["screenings"]
    )
    def get(self, request: Request, screening_id: int) -> Response:
        """One screening of a case you may see; the ETag header is its version."""
        return _screening_response(screening_get(user=request.user, screening_id=screening_id))


class ScreeningAnswersUpdateApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema_serializer(component_name="ScreeningAnswersInput")
    class InputSerializer(ApiSerializer):
        answers = serializers.DictField(
            child=serializers.JSONField(allow_null=True),
            allow_empty=True,
            # A PATCH names only what changes: left out, no answer changes.
            required=False,
            default=dict,
            help_text="Answers by item key, merged into the draft; null clears an answer.",
        )

    @extend_schema(
        operation_id="screenings_answers_update",
        request=InputSerializer,
        responses=ScreeningOutputSerializer,
        parameters=[IF_MATCH],
        tags=["screenings"],
    )
    def patch(self, request: Request, screening_id: int) -> Response:
        """Save draft answers (autosave). Needs If-Match with the ETag you read; one bad
        answer saves nothing and `errors` names each bad key."""
        screening = screening_get(user=request.user, screening_id=screening_id)
        version = expected_version(request, required=True)
        serializer = ScreeningAnswersUpdateApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if version is None:  # If-Match: * — the version just read
            version = screening.version
        try:
            screening = services.screening_save_answers(
                screening=screening,
                by=request.user,
                answers=serializer.validated_data["answers"],
                expected_version=version,
            )
        except ConflictError:
            raise PreconditionFailed() from None
        except ValidationError as error:
            raise _answer_errors(error) from None
        return _screening_response(screening)


class ScreeningSubmitApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema(
        operation_id="screenings_submit",
        request=None,
        responses=ScreeningResultOutputSerializer,
        parameters=[IF_MATCH_OPTIONAL],
        tags=["screenings"],
    )
    def post(self, request: Request, screening_id: int) -> Response:
        """Score and submit the draft; returns its result. Safe to retry: a submitted
        screening is returned with the result it was scored with, never scored again."""
        screening = screening_get(user=request.user, screening_id=screening_id)
        version = expected_version(request, required=False)
        try:
            screening = services.screening_submit(
                screening=screening, by=request.user, expected_version=version
            )
        except ConflictError:
            raise PreconditionFailed() from None
        except ValidationError as error:
            raise _answer_errors(error) from None
        return _screening_result_response(screening)


class ScreeningResultApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema(
        operation_id="screenings_result",
        responses=ScreeningResultOutputSerializer,
        tags=["screenings"],
    )
    def get(self, request: Request, screening_id: int) -> Response:
        """The stored result of a submitted screening (404 while it is a draft)."""
        screening = screening_get(user=request.user, screening_id=screening_id)
        if not screening.has_result:
            raise ScreeningNotFound("This screening has no result: it was not submitted.")
        return _screening_result_response(screening)


# --- API tokens ---------------------------------------------------------------------------

NOTE_SHOWN_ONCE = (
    "Store this token now, e.g. in your secret store: it is shown only this once and cannot "
    "be shown again."
)
# Stored with the Idempotency-Key record in place of the secret, and replayed from there.
NOTE_NOT_REPLAYED = (
    "Replayed response: this token was created by an earlier request with the same "
    "Idempotency-Key, and its secret was shown only then. If it was not stored, revoke this "
    "token and create a new one."
)


class NotWithAToken(BasePermission):
    """Only a signed-in person (browser session) creates tokens: a token able to mint tokens
    would let a leaked one outlive its own expiry and revocation."""

    message = "A token cannot create tokens; sign in (the API tokens page) to create one."

    def has_permission(self, request, view) -> bool:
        return not isinstance(request.auth, ApiToken)


def _token_created_body(token: ApiToken, *, plaintext: str | None, note: str) -> dict:
    return ApiTokenCreatedOutputSerializer(
        token, context={"plaintext": plaintext, "note": note}
    ).data


class ApiTokenListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = ApiCursorPagination

    @extend_schema(
        operation_id="tokens_list",
        responses=ApiTokenOutputSerializer(many=True),
        tags=["tokens"],
    )
    def get(self, request: Request) -> Response:
        """Your own API tokens, newest first, revoked and expired ones included (`status`
        says which); cursor-paginated. Never the secrets: only their hashes are stored."""
        return paginated_response(
            request=request,
            queryset=services.api_token_list(user=request.user),
            serializer_class=ApiTokenOutputSerializer,
            view=self,
        )


class ApiTokenCreateApi(APIView):
    permission_classes = [IsAuthenticated, NotWithAToken]

    @extend_schema_serializer(component_name="ApiTokenCreateInput")
    class InputSerializer(ApiSerializer):
        name = serializers.CharField(
            max_length=100, help_text="The system that will use it, e.g. contact-centre."
        )
        days = serializers.IntegerField(
            min_value=1,
            max_value=MAX_TOKEN_DAYS,
            default=90,
            help_text=f"Days until it expires, 1 to {MAX_TOKEN_DAYS}.",
        )

    @extend_schema(
        operation_id="tokens_create",
        request=InputSerializer,
        responses={201: ApiTokenCreatedOutputSerializer},
        parameters=[IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED],
        auth=[{"cookieAuth": []}],
        tags=["tokens"],
    )
    def post(self, request: Request) -> Response:
        """Create a token for yourself; signed in only (a request with a Bearer token is a
        403). The response carries the secret once; a replay (same Idempotency-Key) carries
        `token: null` instead, because the secret is never stored."""
        created_now: dict[str, services.CreatedToken] = {}

        def create() -> Response:
            serializer = ApiTokenCreateApi.InputSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            created = services.api_token_create(user=request.user, **serializer.validated_data)
            created_now["token"] = created
            # This body is what the idempotency record stores and replays: no secret in it.
            body = _token_created_body(created.token, plaintext=None, note=NOTE_NOT_REPLAYED)
            return Response(body, status=status.HTTP_201_CREATED)

        response = idempotent(request, create, replay_check=API_TOKEN_REPLAY)
        created = created_now.get("token")
        # The secret goes into this response only, after the record was stored, and only when
        # the response is about the token this request created and kept: a replay (even one
        # after this request's own work was rolled back for a concurrent twin) carries none.
        if (
            created is not None
            and response.status_code == status.HTTP_201_CREATED
            and not response.has_header("Idempotent-Replayed")
            and response.data.get("prefix") == created.token.prefix
        ):
            response.data = _token_created_body(
                created.token, plaintext=created.plaintext, note=NOTE_SHOWN_ONCE
            )
        return response


class ApiTokensApi(ApiTokenListApi, ApiTokenCreateApi):
    """`/tokens/`: GET lists (ApiTokenListApi), POST creates (ApiTokenCreateApi)."""

    def get_permissions(self):
        view = ApiTokenCreateApi if self.request.method == "POST" else ApiTokenListApi
        return [permission() for permission in view.permission_classes]


class ApiTokenRevokeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="tokens_revoke",
        request=None,
        responses=ApiTokenOutputSerializer,
        tags=["tokens"],
    )
    def post(self, request: Request, prefix: str) -> Response:
        """Revoke one of your tokens at once (a token may revoke itself). Revoking it again
        changes nothing; another person's token is a 404, like a missing one."""
        token = services.api_token_revoke(user=request.user, prefix=prefix)
        return Response(ApiTokenOutputSerializer(token).data)
