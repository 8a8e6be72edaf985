from rest_framework import serializers


class InstrumentVersionSummarySerializer(serializers.Serializer):
    number = serializers.IntegerField()
    status = serializers.CharField()
    title = serializers.CharField()
    content_hash = serializers.CharField()


class InstrumentListOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    audience = serializers.CharField()
    versions = InstrumentVersionSummarySerializer(many=True, source="listed_versions")


class ScoreInputSerializer(serializers.Serializer):
    answers = serializers.DictField(child=serializers.JSONField(), allow_empty=True)
    context = serializers.DictField(child=serializers.JSONField(), required=False, default=dict)
