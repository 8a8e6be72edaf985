from django.conf import settings
from django.http import Http404
from django.utils.module_loading import import_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ValidationError
from indicators.api.serializers import InstrumentListOutputSerializer, ScoreInputSerializer
from indicators.engine import AnswerError
from indicators.exporting import version_document
from indicators.selectors import (
    InstrumentVersionNotFound,
    instrument_definition,
    instrument_list,
    instrument_version_get,
)
from indicators.services import instrument_version_score


class _InstrumentsApi(APIView):
    # Open to the people `settings.INDICATORS_API_PERMISSION_CLASSES` allows (agency staff
    # with a role: a rule of the screening app, which this app sits below and may not import).
    # A comment, not a docstring: the schema would show a docstring to API clients.

    def get_permissions(self):
        return [import_string(path)() for path in settings.INDICATORS_API_PERMISSION_CLASSES]


def _published_version(slug: str, number: int):
    try:
        return instrument_version_get(slug=slug, number=number, published_only=True)
    except InstrumentVersionNotFound:
        raise Http404 from None


class InstrumentListApi(_InstrumentsApi):
    @extend_schema(
        tags=["instruments"],
        responses=inline_serializer(
            "InstrumentList", {"results": InstrumentListOutputSerializer(many=True)}
        ),
    )
    def get(self, request: Request) -> Response:
        instruments = instrument_list(published_only=True)
        return Response({"results": InstrumentListOutputSerializer(instruments, many=True).data})


class InstrumentVersionDetailApi(_InstrumentsApi):
    @extend_schema(tags=["instruments"], responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, slug: str, number: int) -> Response:
        version = _published_version(slug, number)
        return Response(version_document(version, instrument_definition(version)))


class InstrumentVersionScoreApi(_InstrumentsApi):
    """Dry run: score answers against a published version and return the result; stores nothing."""

    @extend_schema(
        tags=["instruments"], request=ScoreInputSerializer, responses={200: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request, slug: str, number: int) -> Response:
        version = _published_version(slug, number)
        serializer = ScoreInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = instrument_version_score(
                version=version,
                answers=serializer.validated_data["answers"],
                context=serializer.validated_data["context"],
            )
        except AnswerError as error:
            problems: dict[str, list[str]] = {}
            for problem in error.problems:
                problems.setdefault(f"{problem.section}.{problem.key}", []).append(problem.message)
            raise ValidationError(
                "Some answers are not valid for this instrument version.", problems
            ) from None
        return Response(result)
