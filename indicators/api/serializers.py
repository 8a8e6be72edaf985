from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import ApiSerializer
from indicators.engine.vocabulary import EXPLOITATION_TYPES, MAX_AGE


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


@extend_schema_field(
    {
        "type": "object",
        "description": "What the rules may ask about the person besides the answers.",
        "properties": {
            "age": {"type": "integer", "minimum": 0, "maximum": MAX_AGE, "nullable": True},
            "exploitation_type": {
                "type": "string",
                "enum": [*EXPLOITATION_TYPES, None],
                "nullable": True,
            },
        },
        # Any other key is a 400 naming it (indicators/engine/scoring.py).
        "additionalProperties": False,
    }
)
class ScoreContextField(serializers.DictField):
    """The scoring context, checked key by key by the engine (CONTEXT_KEYS, the schema's)."""


class ScoreInputSerializer(ApiSerializer):
    answers = serializers.DictField(child=serializers.JSONField(), allow_empty=True)
    context = ScoreContextField(
        child=serializers.JSONField(allow_null=True), required=False, default=dict
    )
