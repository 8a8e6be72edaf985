"""REST API for the work on a case after the screening (issue 14): assign and unassign,
share, transfer (ask, accept, decline, withdraw), close and reopen, notes (with corrections),
the case timeline, tasks and the caller's notifications. One view per operation; the rules
are the services'. Conventions: docs/api.md."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.etags import etag_for, expected_version
from config.api.pagination import ApiCursorPagination, paginated_response
from config.api.problems import PreconditionFailed
from config.api.schema import IF_MATCH
from config.api.serializers import ApiFilterSerializer, ApiSerializer
from config.errors import ConflictError, ValidationError
from config.keyset import CursorInvalid
from screening import selectors, services
from screening.models import (
    Agency,
    Case,
    CaseCloseReason,
    CaseNote,
    CaseTask,
    CaseTransfer,
    Notification,
    User,
)
from screening.permissions import (
    CaseAction,
    IsCaseWorker,
    TransferAction,
    case_access,
    transfer_access,
)
from screening.services.followups import task_access
from screening.services.notes import note_access
from screening.timeline import case_timeline_page

# --- shapes ---------------------------------------------------------------------------------


class CaseWorkOutputSerializer(ApiSerializer):
    """Who works on a case and where it stands: its status, its assigned workers, the
    agencies it is shared with, a transfer waiting for an answer."""

    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    agency = serializers.CharField(help_text="The owning agency's name.")
    close_reason_code = serializers.CharField(
        help_text='Why it was closed (a CaseCloseReason); "" while open.'
    )
    closed_at = serializers.DateTimeField(allow_null=True)
    assigned_workers = serializers.ListField(
        child=serializers.CharField(), help_text="Usernames of the assigned workers."
    )
    shared_with = serializers.ListField(
        child=serializers.CharField(), help_text="Names of the agencies it is shared with."
    )
    pending_transfer = serializers.IntegerField(
        allow_null=True, help_text="The id of a transfer waiting for an answer, if any."
    )


def _case_work(case: Case) -> dict:
    pending = selectors.case_transfer_pending(case=case)
    return CaseWorkOutputSerializer(
        {
            "reference": case.reference,
            "status": case.status,
            "agency": case.agency.name,
            "close_reason_code": case.close_reason_code,
            "closed_at": case.closed_at,
            "assigned_workers": [
                assignment.worker.username
                for assignment in selectors.case_assignment_list(case=case)
            ],
            "shared_with": [
                share.shared_with_agency.name for share in selectors.case_share_list(case=case)
            ],
            "pending_transfer": pending.pk if pending else None,
        }
    ).data


def _fresh_case(user: User, reference: str) -> Case:
    return case_access(user=user, case_reference_or_id=reference, action=CaseAction.VIEW)


def _staff_named(username: str, field: str) -> User:
    """A member of staff by username; one of another agency reads exactly like none."""
    worker = User.objects.filter(username=username).first()
    if worker is None:
        raise ValidationError(
            "Please correct the highlighted fields.",
            {field: ["Choose an active case worker of the case's agency."]},
        )
    return worker


def _agency_named(name: str) -> Agency:
    agency = Agency.objects.filter(name=name).first()
    if agency is None:
        raise ValidationError(
            "Please correct the highlighted fields.", {"agency": ["No agency of that name."]}
        )
    return agency


class WorkerInputSerializer(ApiSerializer):
    worker = serializers.CharField(max_length=150, help_text="The worker's username.")


# --- assign, share, close, reopen --------------------------------------------------------


class CaseAssignApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema(
        operation_id="cases_assign",
        request=WorkerInputSerializer,
        responses=CaseWorkOutputSerializer,
        tags=["case work"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Assign a case worker of the case's agency (supervisors of that agency). They may
        then view and change the case, and are told in the service. Safe to repeat."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.ASSIGN
        )
        serializer = WorkerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        worker = _staff_named(serializer.validated_data["worker"], "worker")
        services.case_assign(case=case, worker=worker, by=request.user)
        return Response(_case_work(_fresh_case(request.user, reference)))


class CaseUnassignApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema(
        operation_id="cases_unassign",
        request=WorkerInputSerializer,
        responses=CaseWorkOutputSerializer,
        tags=["case work"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Take a worker off the case (supervisors of its agency); their access ends unless
        they opened it. Safe to repeat."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.ASSIGN
        )
        serializer = WorkerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        worker = _staff_named(serializer.validated_data["worker"], "worker")
        services.case_unassign(case=case, worker=worker, by=request.user)
        return Response(_case_work(_fresh_case(request.user, reference)))


class CaseShareApi(APIView):
    permission_classes = [IsCaseWorker]
    extra_problem_codes = {"POST": ("409",)}

    @extend_schema_serializer(component_name="CaseShareInput")
    class InputSerializer(ApiSerializer):
        agency = serializers.CharField(max_length=200, help_text="The agency's name.")
        reason = serializers.CharField(max_length=2000, help_text="Why. No names.")
        identifying = serializers.BooleanField(
            default=False,
            help_text="Share the identifying data and narrative too (needs the person's "
            "consent naming the agency).",
        )

    @extend_schema(
        operation_id="cases_share",
        request=InputSerializer,
        responses=CaseWorkOutputSerializer,
        tags=["case work"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Let another agency's staff view the case, read only (supervisors of its agency),
        without its identifying data and narrative unless `identifying`. Sharing identifying
        data is a disclosure: it needs the person's consent naming the agency (law
        enforcement, always: the consent to sharing with law enforcement), except a mandatory
        report to child welfare or law enforcement; without it, 409."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.SHARE
        )
        serializer = CaseShareApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agency = _agency_named(serializer.validated_data["agency"])
        services.case_share(
            case=case,
            agency=agency,
            reason=serializer.validated_data["reason"],
            identifying=serializer.validated_data["identifying"],
            by=request.user,
        )
        return Response(_case_work(_fresh_case(request.user, reference)))


class CaseCloseApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema_serializer(component_name="CaseCloseInput")
    class InputSerializer(ApiSerializer):
        reason_code = serializers.ChoiceField(choices=CaseCloseReason.choices)
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="cases_close",
        request=InputSerializer,
        responses=CaseWorkOutputSerializer,
        tags=["case work"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Close the case with a reason (its workers and supervisors). Draft screenings are
        voided. Closing a closed case changes nothing."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.CLOSE
        )
        serializer = CaseCloseApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.case_close(
            case=case,
            by=request.user,
            reason_code=serializer.validated_data["reason_code"],
            reason=serializer.validated_data["note"],
        )
        return Response(_case_work(_fresh_case(request.user, reference)))


class CaseReopenApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema(
        operation_id="cases_reopen",
        request=None,
        responses=CaseWorkOutputSerializer,
        tags=["case work"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Open a closed case again (whoever may close it). Reopening an open case changes
        nothing."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.CLOSE
        )
        services.case_reopen(case=case, by=request.user)
        return Response(_case_work(_fresh_case(request.user, reference)))


# --- transfers ------------------------------------------------------------------------------


class TransferCaseSummarySerializer(ApiSerializer):
    """What the receiving agency learns of a case before it accepts: no identifying data."""

    age_band = serializers.ChoiceField(choices=Case.AgeBand.choices)
    exploitation_type = serializers.ChoiceField(choices=Case.ExploitationType.choices)
    region = serializers.CharField()
    urgent = serializers.BooleanField()
    mandatory_report_required = serializers.BooleanField()


class TransferOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.reference")
    from_agency = serializers.CharField(source="from_agency.name")
    to_agency = serializers.CharField(source="to_agency.name")
    status = serializers.ChoiceField(choices=CaseTransfer.Status.choices)
    reason = serializers.CharField(help_text="Written for the receiving supervisors.")
    requested_by = serializers.CharField(source="requested_by.username")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField(help_text='Why it was declined; "" otherwise.')
    case_summary = serializers.SerializerMethodField()

    @extend_schema_field(TransferCaseSummarySerializer(allow_null=True))
    def get_case_summary(self, transfer: CaseTransfer) -> dict | None:
        """Only while it waits for an answer (afterwards the case is seen, or not, as any)."""
        if not transfer.is_pending:
            return None
        return TransferCaseSummarySerializer(transfer.case).data


def _transfer_response(transfer: CaseTransfer, *, status_code: int = 200) -> Response:
    headers = {}
    if status_code == status.HTTP_201_CREATED:
        headers["Location"] = reverse("api-transfer-detail", args=[transfer.pk])
    return Response(TransferOutputSerializer(transfer).data, status=status_code, headers=headers)


class CaseTransferRequestApi(APIView):
    permission_classes = [IsCaseWorker]
    extra_problem_codes = {"POST": ("409",)}

    @extend_schema_serializer(component_name="CaseTransferInput")
    class InputSerializer(ApiSerializer):
        agency = serializers.CharField(max_length=200, help_text="The receiving agency's name.")
        reason = serializers.CharField(
            max_length=2000, help_text="Why, for the receiving supervisors. No names."
        )

    @extend_schema(
        operation_id="cases_transfer_request",
        request=InputSerializer,
        responses={201: TransferOutputSerializer},
        tags=["case work"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Ask another agency to take the case over (supervisors of its agency). The
        receiving agency's supervisors accept or decline; until then nothing moves. Passes the
        consent gate like a share (409 without consent); one waiting transfer at a time."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.SHARE
        )
        serializer = CaseTransferRequestApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agency = _agency_named(serializer.validated_data["agency"])
        transfer = services.case_transfer_request(
            case=case,
            to_agency=agency,
            reason=serializer.validated_data["reason"],
            by=request.user,
        )
        transfer = transfer_access(
            user=request.user, transfer_id=transfer.pk, action=TransferAction.VIEW
        )
        return _transfer_response(transfer, status_code=status.HTTP_201_CREATED)


class TransferPagination(ApiCursorPagination):
    ordering = ("-requested_at", "-pk")


class TransferListApi(APIView):
    permission_classes = [IsCaseWorker]
    pagination_class = TransferPagination

    @extend_schema_serializer(component_name="TransferFilter")
    class FilterSerializer(ApiFilterSerializer):
        direction = serializers.ChoiceField(
            choices=[("incoming", "incoming"), ("outgoing", "outgoing")],
            default="incoming",
            help_text="incoming: waiting for your agency's answer; outgoing: asked by your "
            "agency, in any state.",
        )

    @extend_schema(
        operation_id="transfers_list",
        parameters=[FilterSerializer],
        responses=TransferOutputSerializer(many=True),
        tags=["case work"],
    )
    def get(self, request: Request) -> Response:
        """Transfer requests of your agency (supervisors; anyone else gets an empty list),
        newest first, cursor-paginated."""
        filters = TransferListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated_response(
            request=request,
            queryset=selectors.transfer_list(
                user=request.user, direction=filters.validated_data["direction"]
            ),
            serializer_class=TransferOutputSerializer,
            view=self,
            pagination_class=TransferPagination,
        )


class TransferDetailApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema(
        operation_id="transfers_retrieve", responses=TransferOutputSerializer, tags=["case work"]
    )
    def get(self, request: Request, transfer_id: int) -> Response:
        """One transfer request, for supervisors of the sending or receiving agency."""
        return _transfer_response(
            transfer_access(user=request.user, transfer_id=transfer_id, action=TransferAction.VIEW)
        )


class TransferAcceptApi(APIView):
    permission_classes = [IsCaseWorker]
    extra_problem_codes = {"POST": ("409",)}

    @extend_schema_serializer(component_name="TransferAcceptInput")
    class InputSerializer(ApiSerializer):
        assign_to = serializers.CharField(
            max_length=150,
            required=False,
            allow_null=True,
            default=None,
            help_text="Username of one of your workers to give the case to at once.",
        )

    @extend_schema(
        operation_id="transfers_accept",
        request=InputSerializer,
        responses=TransferOutputSerializer,
        tags=["case work"],
    )
    def post(self, request: Request, transfer_id: int) -> Response:
        """Take the case over (supervisors of the receiving agency): it becomes your
        agency's; the sending agency keeps nothing but the history."""
        transfer = transfer_access(
            user=request.user, transfer_id=transfer_id, action=TransferAction.DECIDE
        )
        serializer = TransferAcceptApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["assign_to"]
        assign_to = _staff_named(username, "assign_to") if username else None
        services.case_transfer_accept(transfer=transfer, by=request.user, assign_to=assign_to)
        return _transfer_response(
            transfer_access(user=request.user, transfer_id=transfer_id, action=TransferAction.VIEW)
        )


class TransferDeclineApi(APIView):
    permission_classes = [IsCaseWorker]
    extra_problem_codes = {"POST": ("409",)}

    @extend_schema_serializer(component_name="TransferDeclineInput")
    class InputSerializer(ApiSerializer):
        reason = serializers.CharField(max_length=2000, help_text="Why your agency cannot.")

    @extend_schema(
        operation_id="transfers_decline",
        request=InputSerializer,
        responses=TransferOutputSerializer,
        tags=["case work"],
    )
    def post(self, request: Request, transfer_id: int) -> Response:
        """Decline the transfer, saying why (supervisors of the receiving agency)."""
        transfer = transfer_access(
            user=request.user, transfer_id=transfer_id, action=TransferAction.DECIDE
        )
        serializer = TransferDeclineApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        transfer = services.case_transfer_decline(
            transfer=transfer, by=request.user, reason=serializer.validated_data["reason"]
        )
        return _transfer_response(transfer)


class TransferCancelApi(APIView):
    permission_classes = [IsCaseWorker]
    extra_problem_codes = {"POST": ("409",)}

    @extend_schema(
        operation_id="transfers_cancel",
        request=None,
        responses=TransferOutputSerializer,
        tags=["case work"],
    )
    def post(self, request: Request, transfer_id: int) -> Response:
        """Withdraw a transfer not yet answered (supervisors of the sending agency)."""
        transfer = transfer_access(
            user=request.user, transfer_id=transfer_id, action=TransferAction.CANCEL
        )
        return _transfer_response(services.case_transfer_cancel(transfer=transfer, by=request.user))


# --- notes ----------------------------------------------------------------------------------


class NoteOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.reference")
    kind = serializers.ChoiceField(choices=CaseNote.Kind.choices)
    text = serializers.CharField(help_text="Sensitive.")
    author = serializers.CharField(source="author.username")
    version = serializers.IntegerField(help_text="Also sent as the ETag header.")
    created_at = serializers.DateTimeField()
    corrected_at = serializers.DateTimeField(allow_null=True)


def _note_response(note: CaseNote, *, status_code: int = 200) -> Response:
    headers = {"ETag": etag_for(note.version)}
    if status_code == status.HTTP_201_CREATED:
        headers["Location"] = reverse("api-note-detail", args=[note.pk])
    return Response(NoteOutputSerializer(note).data, status=status_code, headers=headers)


class CaseNoteListApi(APIView):
    permission_classes = [IsCaseWorker]
    pagination_class = ApiCursorPagination

    @extend_schema(
        operation_id="cases_notes_list",
        responses=NoteOutputSerializer(many=True),
        tags=["case work"],
    )
    def get(self, request: Request, reference: str) -> Response:
        """The case's notes, newest first, cursor-paginated: for those who may change the
        case (the text is narrative; a shared-to agency gets 403)."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.CHANGE
        )
        return paginated_response(
            request=request,
            queryset=selectors.case_note_list(case=case),
            serializer_class=NoteOutputSerializer,
            view=self,
        )


class CaseNoteAddApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema_serializer(component_name="CaseNoteInput")
    class InputSerializer(ApiSerializer):
        kind = serializers.ChoiceField(choices=CaseNote.Kind.choices)
        text = serializers.CharField(max_length=CaseNote.MAX_LENGTH)

    @extend_schema(
        operation_id="cases_notes_create",
        request=InputSerializer,
        responses={201: NoteOutputSerializer},
        tags=["case work"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Add a note to an open case (those who may change it)."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.CHANGE
        )
        serializer = CaseNoteAddApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = services.case_note_add(case=case, by=request.user, **serializer.validated_data)
        return _note_response(note, status_code=status.HTTP_201_CREATED)


class CaseNotesApi(CaseNoteListApi, CaseNoteAddApi):
    """`/cases/{reference}/notes/`: GET lists (CaseNoteListApi), POST adds (CaseNoteAddApi)."""


class NoteDetailApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema(
        operation_id="notes_retrieve", responses=NoteOutputSerializer, tags=["case work"]
    )
    def get(self, request: Request, note_id: int) -> Response:
        """One note; the ETag header is its version."""
        return _note_response(
            note_access(user=request.user, note_id=note_id, action=CaseAction.CHANGE)
        )


class NoteCorrectApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema_serializer(component_name="NoteCorrectionInput")
    class InputSerializer(ApiSerializer):
        # A PATCH names only what changes: left out, it stays as it is.
        text = serializers.CharField(max_length=CaseNote.MAX_LENGTH, required=False)
        kind = serializers.ChoiceField(choices=CaseNote.Kind.choices, required=False)

    @extend_schema(
        operation_id="notes_correct",
        request=InputSerializer,
        responses=NoteOutputSerializer,
        parameters=[IF_MATCH],
        tags=["case work"],
    )
    def patch(self, request: Request, note_id: int) -> Response:
        """Correct your own note: a new version; the earlier one stays in the change
        history. Needs If-Match with the ETag you read."""
        note = note_access(user=request.user, note_id=note_id, action=CaseAction.CHANGE)
        version = expected_version(request, required=True)
        serializer = NoteCorrectApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            note = services.case_note_correct(
                note=note,
                by=request.user,
                text=serializer.validated_data.get("text", note.text),
                kind=serializer.validated_data.get("kind"),
                expected_version=note.version if version is None else version,
            )
        except ConflictError:
            raise PreconditionFailed() from None
        return _note_response(note)


class NoteItemApi(NoteDetailApi, NoteCorrectApi):
    """`/notes/{id}/`: GET (NoteDetailApi), PATCH corrects (NoteCorrectApi)."""


# --- timeline -------------------------------------------------------------------------------


class TimelineEntryOutputSerializer(ApiSerializer):
    at = serializers.DateTimeField()
    source = serializers.CharField(
        help_text="note, screening_started, screening_submitted, consent_given, "
        "consent_withdrawn, contact, activity, referral_event."
    )
    id = serializers.IntegerField(help_text="The id of the entry's row in its source.")
    kind = serializers.CharField(help_text="The row's own kind, where it has one.")
    title = serializers.CharField()
    detail = serializers.CharField(
        help_text='A note\'s text, for those who may change the case; "" otherwise.'
    )
    by = serializers.CharField(help_text='Who, by name; "" for the system or a provider.')
    link = serializers.CharField(help_text='A page of the service about it; "" when none.')


class TimelinePageOutputSerializer(ApiSerializer):
    next = serializers.CharField(allow_null=True)
    results = TimelineEntryOutputSerializer(many=True)


class CaseTimelineApi(APIView):
    permission_classes = [IsCaseWorker]
    page_size = 50
    # A cursor the timeline did not give out (the schema cannot tell) is a 400.
    extra_problem_codes = {"GET": ("400",)}

    @extend_schema_serializer(component_name="TimelineFilter")
    class FilterSerializer(ApiFilterSerializer):
        cursor = serializers.CharField(
            max_length=200, required=False, help_text="Opaque: from the `next` link."
        )

    @extend_schema(
        operation_id="cases_timeline",
        parameters=[FilterSerializer],
        responses=TimelinePageOutputSerializer,
        tags=["case work"],
    )
    def get(self, request: Request, reference: str) -> Response:
        """Everything that happened on the case, newest first, in one list: notes,
        screenings, consents, contacts, assignments, shares, transfers, closings, referrals
        and their events. For everyone who may view the case; note texts only for those who
        may change it."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.VIEW
        )
        filters = CaseTimelineApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        try:
            page = case_timeline_page(
                case=case,
                may_read_narrative=case.user_can_change,
                per_page=self.page_size,
                after=filters.validated_data.get("cursor"),
            )
        except CursorInvalid:
            raise ValidationError(
                "The cursor is not valid.",
                {"cursor": ["Use the `next` link of the previous page as it is."]},
            ) from None
        next_link = None
        if page.next_cursor:
            base = request.build_absolute_uri(request.path)
            next_link = f"{base}?cursor={page.next_cursor}"
        return Response(
            {
                "next": next_link,
                "results": TimelineEntryOutputSerializer(page.entries, many=True).data,
            }
        )


# --- tasks ----------------------------------------------------------------------------------


class TaskOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    case = serializers.CharField(source="case.reference")
    kind = serializers.ChoiceField(choices=CaseTask.Kind.choices)
    description = serializers.CharField(help_text="Sensitive.")
    due_at = serializers.DateTimeField()
    assignee = serializers.CharField(source="assignee.username")
    done_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_overdue(self, task: CaseTask) -> bool:
        """Not done and past its due time."""
        return task.is_overdue()


class TaskPagination(ApiCursorPagination):
    """Soonest due first."""

    ordering = ("due_at", "pk")


class CaseTaskListApi(APIView):
    permission_classes = [IsCaseWorker]
    pagination_class = TaskPagination

    @extend_schema(
        operation_id="cases_tasks_list",
        responses=TaskOutputSerializer(many=True),
        tags=["case work"],
    )
    def get(self, request: Request, reference: str) -> Response:
        """The case's tasks, soonest due first, done ones included (`done_at`); for those
        who may change the case. Cursor-paginated."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.CHANGE
        )
        return paginated_response(
            request=request,
            queryset=case.tasks.select_related("assignee").order_by("due_at", "pk"),
            serializer_class=TaskOutputSerializer,
            view=self,
            pagination_class=TaskPagination,
        )


class CaseTaskAddApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema_serializer(component_name="CaseTaskInput")
    class InputSerializer(ApiSerializer):
        kind = serializers.ChoiceField(choices=CaseTask.Kind.choices, default="follow_up")
        description = serializers.CharField(max_length=CaseTask.MAX_LENGTH)
        due_at = serializers.DateTimeField()
        assignee = serializers.CharField(
            max_length=150,
            required=False,
            allow_null=True,
            default=None,
            help_text="Username of someone who works on the case; default: you.",
        )

    @extend_schema(
        operation_id="cases_tasks_create",
        request=InputSerializer,
        responses={201: TaskOutputSerializer},
        tags=["case work"],
    )
    def post(self, request: Request, reference: str) -> Response:
        """Add a task to an open case for someone who works on it (default: you). They are
        reminded in the service, and by an email that names no person, when it falls due."""
        case = case_access(
            user=request.user, case_reference_or_id=reference, action=CaseAction.CHANGE
        )
        serializer = CaseTaskAddApi.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        assignee = _staff_named(data["assignee"], "assignee") if data["assignee"] else None
        task = services.case_task_add(
            case=case,
            by=request.user,
            kind=data["kind"],
            description=data["description"],
            due_at=data["due_at"],
            assignee=assignee,
        )
        return Response(TaskOutputSerializer(task).data, status=status.HTTP_201_CREATED)


class CaseTasksApi(CaseTaskListApi, CaseTaskAddApi):
    """`/cases/{reference}/tasks/`: GET lists (CaseTaskListApi), POST adds (CaseTaskAddApi)."""


class MyTaskListApi(APIView):
    permission_classes = [IsCaseWorker]
    pagination_class = TaskPagination

    @extend_schema_serializer(component_name="MyTaskFilter")
    class FilterSerializer(ApiFilterSerializer):
        overdue = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="tasks_list",
        parameters=[FilterSerializer],
        responses=TaskOutputSerializer(many=True),
        tags=["case work"],
    )
    def get(self, request: Request) -> Response:
        """Your open tasks, soonest due first (`overdue=true`: only those past due);
        cursor-paginated."""
        filters = MyTaskListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated_response(
            request=request,
            queryset=selectors.my_task_list(
                user=request.user, overdue_only=filters.validated_data["overdue"]
            ),
            serializer_class=TaskOutputSerializer,
            view=self,
            pagination_class=TaskPagination,
        )


class TaskDoneApi(APIView):
    permission_classes = [IsCaseWorker]

    @extend_schema(
        operation_id="tasks_done", request=None, responses=TaskOutputSerializer, tags=["case work"]
    )
    def post(self, request: Request, task_id: int) -> Response:
        """Mark a task done (those who may change its case). Safe to repeat."""
        task = task_access(user=request.user, task_id=task_id, action=CaseAction.CHANGE)
        return Response(
            TaskOutputSerializer(services.case_task_done(task=task, by=request.user)).data
        )


# --- notifications -------------------------------------------------------------------------


class NotificationOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Notification.Kind.choices)
    text = serializers.CharField()
    link = serializers.CharField(help_text='A page of the service; "" when none.')
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(APIView):
    permission_classes = [IsAuthenticated]
    pagination_class = ApiCursorPagination

    @extend_schema_serializer(component_name="NotificationFilter")
    class FilterSerializer(ApiFilterSerializer):
        unread = serializers.BooleanField(required=False, default=False)

    @extend_schema(
        operation_id="notifications_list",
        parameters=[FilterSerializer],
        responses=NotificationOutputSerializer(many=True),
        tags=["notifications"],
    )
    def get(self, request: Request) -> Response:
        """Your notifications, newest first (`unread=true`: only unread); cursor-paginated."""
        filters = NotificationListApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return paginated_response(
            request=request,
            queryset=selectors.notification_list(
                user=request.user, unread_only=filters.validated_data["unread"]
            ),
            serializer_class=NotificationOutputSerializer,
            view=self,
        )


class NotificationReadApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="notifications_read",
        request=None,
        responses=NotificationOutputSerializer,
        tags=["notifications"],
    )
    def post(self, request: Request, notification_id: int) -> Response:
        """Mark one of your notifications read; someone else's is a 404 like a missing one."""
        notification = services.notification_mark_read(
            user=request.user, notification_id=notification_id
        )
        return Response(NotificationOutputSerializer(notification).data)
