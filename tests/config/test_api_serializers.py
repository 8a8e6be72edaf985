"""`ApiSerializer` copies declared fields shallowly (config/api/serializers.py): every
serializer instance must still get fields of its own, bound to it, and validate and
represent exactly as DRF's deep copies do."""

import pytest
from rest_framework import serializers

from config.api.serializers import ApiSerializer

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
    {"channel": "chat", "region": "x" * 11, "urgent": "maybe"},
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
