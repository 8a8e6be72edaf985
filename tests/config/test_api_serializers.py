"""`ApiSerializer` copies declared fields shallowly (config/api/serializers.py): every
serializer instance must still get fields of its own, bound to it, and validate and
represent exactly as DRF's deep copies do."""

import pytest
from django.http import QueryDict
from rest_framework import serializers

from config.api.serializers import ApiFilterSerializer, ApiSerializer

CHOICES = [("phone", "Phone"), ("chat", "Chat")]


def _declare(base):
    class Inner(base):
        note = serializers.CharField(max_length=5)

    class Shape(base):
        channel = serializers.ChoiceField(choices=CHOICES)
        region = serializers.CharField(max_length=10, required=False, allow_blank=True)
        urgent = serializers.BooleanField(default=False)
        answers = serializers.DictField(child=serializers.IntegerField(), required=False)
        tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)
        inner = Inner(required=False)
        shout = serializers.SerializerMethodField()

        def get_shout(self, value) -> str:
            return str(value["channel"]).upper()

    return Shape


Ours = _declare(ApiSerializer)
Drfs = _declare(serializers.Serializer)

INPUTS = [
    {"channel": "phone"},
    {"channel": "fax"},
    {"channel": "chat", "region": "x" * 11, "urgent": None},
    {"channel": "chat", "answers": {"a": "one"}, "tags": ["long-tag"], "inner": {"note": "abcdef"}},
    {"channel": "chat", "answers": {"a": "2"}, "tags": ["ok"], "inner": {"note": "hi"}},
    {},
]


@pytest.mark.parametrize("data", INPUTS)
def test_validation_matches_drfs_own_field_copies(data):
    ours, drfs = Ours(data=data), Drfs(data=data)
    assert ours.is_valid() == drfs.is_valid()
    assert ours.errors == drfs.errors
    if drfs.is_valid():
        assert ours.validated_data == drfs.validated_data


def test_partial_validation_matches():
    ours, drfs = Ours(data={"region": ""}, partial=True), Drfs(data={"region": ""}, partial=True)
    assert ours.is_valid() and drfs.is_valid()
    assert ours.validated_data == drfs.validated_data == {"region": ""}


def test_representation_matches():
    value = {"channel": "chat", "region": "North", "urgent": True, "answers": {"a": 1}}
    assert Ours(value).data == Drfs(value).data


def test_each_instance_gets_its_own_fields_bound_to_it_and_the_declared_ones_stay_unbound():
    first, second = Ours(data={"channel": "phone"}), Ours(data={"channel": "chat"})
    for name in Ours._declared_fields:
        mine, theirs = first.fields[name], second.fields[name]
        assert mine is not theirs
        assert mine.parent is first and theirs.parent is second
        assert mine.field_name == theirs.field_name == name
        assert Ours._declared_fields[name].parent is None
    # Fields holding fields are copied whole: each copy's child belongs to that copy.
    assert first.fields["answers"].child.parent is first.fields["answers"]
    assert first.fields["answers"].child is not second.fields["answers"].child
    assert first.fields["inner"].fields["note"].parent is first.fields["inner"]
    assert first.is_valid() and second.is_valid()
    assert (first.validated_data["channel"], second.validated_data["channel"]) == ("phone", "chat")


def test_a_context_reaches_the_fields_of_its_own_serializer_only():
    first, second = Ours(context={"who": "a"}), Ours(context={"who": "b"})
    assert first.fields["inner"].fields["note"].context == {"who": "a"}
    assert second.fields["region"].context == {"who": "b"}


# --- what the schema promises is what is taken --------------------------------------------


def test_a_json_body_must_use_the_json_type_the_schema_names():
    data = {
        "channel": "chat",
        "region": 5,
        "urgent": "true",
        "tags": ["ok", 7],
        "inner": {"note": 1},
    }
    assert Drfs(data=data).is_valid()  # DRF would convert every one of them
    ours = Ours(data=data)
    assert not ours.is_valid()
    assert ours.errors == {
        "region": ["Expected text."],
        "urgent": ["Expected true or false."],
        "tags": {1: ["Expected text."]},
        "inner": {"note": ["Expected text."]},
    }


def test_type_errors_come_with_the_other_field_errors():
    ours = Ours(data={"channel": "fax", "urgent": 1})
    assert not ours.is_valid()
    assert set(ours.errors) == {"channel", "urgent"}


def test_a_query_string_is_read_as_drf_reads_it():
    ours = Ours(data=QueryDict("channel=chat&urgent=true"))
    assert ours.is_valid(), ours.errors
    assert ours.validated_data["urgent"] is True


class Filters(ApiFilterSerializer):
    status = serializers.ChoiceField(choices=["open", "closed"], required=False)
    region = serializers.CharField(max_length=10, required=False)


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("status=", {"status": ["Leave this filter out rather than send it empty."]}),
        ("status=open&status=closed", {"status": ["Give this filter once."]}),
        ("status=maybe&region=", {"status", "region"}),
    ],
)
def test_a_filter_sent_empty_or_twice_is_refused(query, errors):
    filters = Filters(data=QueryDict(query))
    assert not filters.is_valid()
    assert (filters.errors if isinstance(errors, dict) else set(filters.errors)) == errors


def test_filters_given_once_apply():
    filters = Filters(data=QueryDict("status=open&region=North"))
    assert filters.is_valid()
    assert filters.validated_data == {"status": "open", "region": "North"}


@pytest.mark.django_db
def test_a_kept_output_serializer_gives_what_a_new_one_gives_for_each_contact():
    """`represent` keeps one instance per class: its output for each contact is the output of
    a serializer made for that contact alone (nothing of one contact reaches the next)."""
    from django.utils import timezone

    from config.api.serializers import represent
    from screening import services
    from screening.api.serializers import ContactOutputSerializer, ContactSavedOutputSerializer
    from screening.duplicates import EarlierRecord
    from screening.models import Contact
    from screening.roles import Role
    from tests.factories import UserFactory

    advocate = UserFactory(role=Role.HOTLINE_STAFF)
    case = services.case_create(created_by=advocate, age=30)
    plain = services.contact_create(
        created_by=advocate, channel="phone", contact_type="crisis", summary="Fictional."
    )
    linked = services.contact_create(
        created_by=advocate,
        channel="chat",
        contact_type="information",
        caller_name="Ada Fictional",
        caller_phone="+44 7700 900123",
        case_reference=case.reference,
        immediate_danger=True,
    )
    linked.finalised_at = timezone.now()
    earlier = [EarlierRecord(reference=case.reference, matched_on=["name", "phone"])]
    for contact, records in ((plain, []), (linked, earlier), (plain, [])):
        contact = Contact.objects.select_related("case").get(pk=contact.pk)
        contact.possible_earlier_records = records
        assert represent(ContactSavedOutputSerializer, contact) == dict(
            ContactSavedOutputSerializer(contact).data
        )
        assert represent(ContactOutputSerializer, contact) == dict(
            ContactOutputSerializer(contact).data
        )
    contact.possible_earlier_records = earlier
    assert represent(ContactSavedOutputSerializer, contact)["possible_earlier_records"] == [
        {"reference": case.reference, "contact": None, "matched_on": ["name", "phone"]}
    ]
