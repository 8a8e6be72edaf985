"""Output shapes shared by several API views (inputs are nested in each view)."""

from __future__ import annotations

from functools import cached_property

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import ApiSerializer
from config.models import ApiToken
from config.tokens import API_TOKEN_STATUSES, api_token_status
from screening.models import Case, Contact, IdentifierDigest, Screening, ScreeningOverride


class TriageOutputSerializer(ApiSerializer):
    instrument = serializers.CharField(source="triage_instrument_version.instrument.slug")
    instrument_version = serializers.IntegerField(source="triage_instrument_version.number")
    answers = serializers.DictField(source="triage_answers", child=serializers.JSONField())
    outcome = serializers.CharField(source="triage_outcome")
    result = serializers.DictField(
        source="triage_result",
        child=serializers.JSONField(),
        help_text="The engine's full, explained result (see the instruments endpoints).",
    )


class ContactOutputSerializer(ApiSerializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Contact.Status.choices)
    channel = serializers.ChoiceField(choices=Contact.Channel.choices)
    caller_type = serializers.ChoiceField(choices=Contact.CallerType.choices)
    language = serializers.CharField()
    caller_region = serializers.CharField()
    contact_type = serializers.ChoiceField(choices=Contact.ContactType.choices)
    immediate_danger = serializers.BooleanField()
    minor_involved = serializers.BooleanField()
    exploitation_type = serializers.ChoiceField(choices=Case.ExploitationType.choices)
    situation_location = serializers.CharField(help_text="Sensitive.")
    summary = serializers.CharField(help_text="Sensitive.")
    caller_name = serializers.CharField(help_text='Identifying; "" when not given.')
    caller_phone = serializers.CharField(help_text='Identifying; "" when not given.')
    case = serializers.CharField(
        source="case.reference", allow_null=True, help_text="The linked case's reference."
    )
    triage = serializers.SerializerMethodField()
    version = serializers.IntegerField(help_text="Also sent as the ETag header.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    finalised_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(TriageOutputSerializer(allow_null=True))
    def get_triage(self, contact: Contact) -> dict | None:
        if contact.triage_answers is None:
            return None
        return self._triage.to_representation(contact)

    @cached_property
    def _triage(self) -> TriageOutputSerializer:
        # One for every row of a list: making a serializer copies each of its fields.
        return TriageOutputSerializer()


class EarlierRecordOutputSerializer(ApiSerializer):
    """A record you may see that shares a phone number, document number or name with this
    one (compared by keyed digests, never by decrypting). Records you may not see are never
    listed, counted or hinted at."""

    reference = serializers.CharField(
        allow_null=True,
        help_text="The earlier case's reference; null for a contact not linked to a case "
        "you may see.",
    )
    contact = serializers.IntegerField(
        allow_null=True,
        help_text="The earlier contact's id (GET /contacts/{id}/) when `reference` is null.",
    )
    matched_on = serializers.ListField(
        child=serializers.ChoiceField(choices=IdentifierDigest.Kind.choices),
        help_text="Which identifiers are the same.",
    )


class EarlierRecordsMixin(serializers.Serializer):
    """`possible_earlier_records`, read from the object's attribute of that name (a list of
    `screening.duplicates.EarlierRecord`), set by the view from the duplicates selector."""

    possible_earlier_records = serializers.SerializerMethodField(
        help_text="Possible earlier records of the same person among the records you may "
        "see, newest first (at most 10); [] when there are none."
    )

    @extend_schema_field(EarlierRecordOutputSerializer(many=True))
    def get_possible_earlier_records(self, instance) -> list[dict]:
        return [record.as_dict() for record in instance.possible_earlier_records]


class ContactSavedOutputSerializer(ContactOutputSerializer, EarlierRecordsMixin):
    """A contact just logged or changed, with possible earlier records of the same caller."""


# Identifying and narrative fields: only for users who may change the case (the creator,
# assignees, supervisors of the owning agency). A shared-to agency never sees them.
RESTRICTED_CASE_FIELDS = (
    "identifying_name",
    "identifying_phone",
    "identifying_documents",
    "narrative",
)


class CaseOutputSerializer(ApiSerializer):
    """A case as the user may see it. `case.user_can_change` — annotated by the access
    queryset (`CaseQuerySet.with_access`), never decided here — says whether the identifying
    and narrative fields are included; otherwise they are absent, not empty."""

    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    agency = serializers.CharField(source="agency.name")
    age = serializers.IntegerField(allow_null=True)
    age_band = serializers.ChoiceField(choices=Case.AgeBand.choices)
    gender = serializers.ChoiceField(choices=Case.Gender.choices)
    languages = serializers.ListField(child=serializers.CharField())
    nationality = serializers.CharField()
    region = serializers.CharField()
    exploitation_type = serializers.ChoiceField(choices=Case.ExploitationType.choices)
    safe_to_contact = serializers.CharField()
    do_not_contact = serializers.BooleanField()
    mandatory_report_required = serializers.BooleanField()
    urgent = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    identifying_name = serializers.CharField(required=False, help_text="Restricted.")
    identifying_phone = serializers.CharField(required=False, help_text="Restricted.")
    identifying_documents = serializers.CharField(required=False, help_text="Restricted.")
    narrative = serializers.CharField(required=False, help_text="Restricted.")

    def to_representation(self, case: Case) -> dict:
        data = super().to_representation(case)
        # `user_sees_identifying` (selectors.case_identifying_visible) where the view asked.
        if not getattr(case, "user_sees_identifying", getattr(case, "user_can_change", False)):
            for field in RESTRICTED_CASE_FIELDS:
                data.pop(field, None)
        return data


class CaseCreatedOutputSerializer(CaseOutputSerializer, EarlierRecordsMixin):
    """A case just opened, with possible earlier records of the same person."""


class ScreeningOutputSerializer(ApiSerializer):
    """A screening: the safety gate as recorded, its draft or submitted answers, its state."""

    id = serializers.IntegerField()
    case = serializers.CharField(source="case.reference")
    instrument = serializers.CharField(source="instrument_version.instrument.slug")
    instrument_version = serializers.IntegerField(source="instrument_version.number")
    status = serializers.ChoiceField(choices=Screening.Status.choices)
    setting = serializers.ChoiceField(choices=Screening.Setting.choices)
    # Blank for an observation checklist of a place: nobody was asked.
    safe_to_talk = serializers.ChoiceField(
        choices=Screening.SafetyAnswer.choices,
        allow_blank=True,
        help_text="Blank: an observation checklist of a place (no person was asked).",
    )
    alone = serializers.ChoiceField(
        choices=Screening.SafetyAnswer.choices,
        allow_blank=True,
        help_text="Blank: an observation checklist of a place (no person was asked).",
    )
    interpreter_used = serializers.BooleanField()
    interpreter_language = serializers.CharField()
    interpreter_independent = serializers.BooleanField(allow_null=True)
    consent = serializers.IntegerField(source="consent_id", allow_null=True)
    answers = serializers.DictField(
        child=serializers.JSONField(), help_text="Answers by item key. Sensitive."
    )
    outcome = serializers.CharField(help_text='The computed outcome; "" for a draft.')
    version = serializers.IntegerField(help_text="Also sent as the ETag header.")
    started_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class ScreeningOverrideOutputSerializer(ApiSerializer):
    outcome = serializers.CharField()
    reason_code = serializers.ChoiceField(choices=ScreeningOverride.ReasonCode.choices)
    at = serializers.DateTimeField()


class ScreeningResultOutputSerializer(ApiSerializer):
    """The stored result of a submitted screening: the engine's explained result exactly as
    computed, and — separately — a supervisor's override if one is in force."""

    screening = serializers.IntegerField(source="pk")
    case = serializers.CharField(source="case.reference")
    status = serializers.ChoiceField(choices=Screening.Status.choices)
    instrument = serializers.CharField(source="instrument_version.instrument.slug")
    instrument_version = serializers.IntegerField(source="instrument_version.number")
    content_hash = serializers.CharField(source="instrument_version.content_hash")
    engine_version = serializers.CharField()
    outcome = serializers.CharField(help_text="The tool's outcome, as computed.")
    outcome_in_force = serializers.CharField(
        help_text="The override's outcome if a supervisor recorded one, else `outcome`."
    )
    override = ScreeningOverrideOutputSerializer(allow_null=True)
    submitted_at = serializers.DateTimeField()
    result = serializers.DictField(
        child=serializers.JSONField(),
        help_text="The engine's full, explained result (reasons, coverage, flags, actions).",
    )


class ApiTokenOutputSerializer(ApiSerializer):
    """One of the caller's API tokens. Never the secret or its hash: neither can be shown."""

    prefix = serializers.CharField(
        help_text="The part before the dot: names the token (revoke it by this)."
    )
    name = serializers.CharField(help_text="The system that uses it.")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(
        allow_null=True, help_text="Recorded to the minute; null if never used."
    )
    revoked_at = serializers.DateTimeField(allow_null=True)
    status = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=API_TOKEN_STATUSES))
    def get_status(self, token: ApiToken) -> str:
        return api_token_status(token)


class ApiTokenCreatedOutputSerializer(ApiTokenOutputSerializer):
    """A token just created. `token` is the whole secret, in this response only; a replay of
    the request (same Idempotency-Key) has `token: null`: the secret is never stored."""

    token = serializers.SerializerMethodField(
        help_text="`<prefix>.<secret>` to send as `Authorization: Bearer …`. Shown once: "
        "store it now. null in a replayed response."
    )
    note = serializers.SerializerMethodField(
        help_text="What to do with `token` (or why it is null)."
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_token(self, token: ApiToken) -> str | None:
        return self.context["plaintext"]

    def get_note(self, token: ApiToken) -> str:
        return self.context["note"]
