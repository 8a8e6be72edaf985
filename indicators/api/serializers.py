from rest_framework import serializers

from config.api.serializers import ApiSerializer


class InstrumentVersionSummarySerializer(ApiSerializer):
    number = serializers.IntegerField()
    status = serializers.CharField()
    title = serializers.CharField()
    content_hash = serializers.CharField()


class InstrumentListOutputSerializer(ApiSerializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    audience = serializers.CharField()
    versions = InstrumentVersionSummarySerializer(many=True, source="listed_versions")


class ScoreInputSerializer(ApiSerializer):
    answers = serializers.DictField(child=serializers.JSONField(), allow_empty=True)
    context = serializers.DictField(child=serializers.JSONField(), required=False, default=dict)
