"""Input the API refuses with a 4xx, never a 500: JSON nested too deeply, a control
character in the path, a body over the size limit, text over a field's length, a weak ETag
in If-Match. Each refusal leaves nothing saved."""

import io
import json

import pytest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.exceptions import ParseError
from rest_framework.views import APIView

from config.api.parsers import (
    MAX_JSON_DEPTH,
    BodyTooLarge,
    JsonTooDeep,
    LimitedJSONParser,
    json_depth,
    json_loads_limited,
)
from config.models import ApiToken
from screening import services
from screening.models import Case, Contact
from tests.api.helpers import assert_problem, error_fields

pytestmark = pytest.mark.django_db

CONTACT_BODY = {"channel": "phone", "contact_type": "tip"}


def nested(depth: int, *, leaf: str = "1") -> str:
    """A JSON document `depth` levels deep, alternating arrays and objects."""
    text = leaf
    for level in range(depth):
        text = f"[{text}]" if level % 2 else f'{{"a": {text}}}'
    return text


# --- JSON nested too deeply ----------------------------------------------------------------


@pytest.mark.parametrize("depth", [0, 1, 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH])
def test_documents_up_to_the_limit_decode_as_json_does(depth):
    document = nested(depth)
    assert json_depth(document) == depth
    assert json_loads_limited(document) == json.loads(document)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_a_deeper_document_is_refused_without_decoding_it(depth):
    with pytest.raises(JsonTooDeep):
        json_loads_limited(nested(depth))


def test_brackets_inside_strings_do_not_count():
    document = json.dumps({"note": "[[[{{{" * 100, "quote": 'a \\"[[[ "' * 50, "list": [["]]]"]]})
    assert json_depth(document) == 3
    assert json_loads_limited(document) == json.loads(document)


@pytest.mark.parametrize("document", ["[" * 5000, "[}" * 40, '{"a": ' * 40, "]" * 50])
def test_malformed_brackets_are_not_json_and_never_a_recursion_error(document):
    with pytest.raises(ValueError):
        json_loads_limited(document)


def test_the_parser_refuses_a_deep_body_as_a_parse_error():
    with pytest.raises(ParseError) as raised:
        LimitedJSONParser().parse(io.BytesIO(nested(1000).encode()))
    assert f"{MAX_JSON_DEPTH} levels" in str(raised.value.detail)


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
def test_the_parser_refuses_a_body_over_the_limit_even_without_a_content_length():
    with pytest.raises(BodyTooLarge):
        LimitedJSONParser().parse(io.BytesIO(json.dumps({"a": "x" * 100}).encode()))
    assert LimitedJSONParser().parse(io.BytesIO(b'{"a": "x"}')) == {"a": "x"}


def _views():
    def walk(patterns):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                yield from walk(entry.url_patterns)
            elif isinstance(entry, URLPattern):
                yield getattr(entry.callback, "cls", None)

    return {view for view in walk(get_resolver().url_patterns) if view is not None}


def test_every_api_view_parses_json_with_the_limits():
    api_views = [view for view in _views() if issubclass(view, APIView)]
    assert len(api_views) > 15
    for view in api_views:
        assert [type(parser) for parser in view().get_parsers()] in ([LimitedJSONParser], []), view


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/contacts/"),
        ("post", "/api/v1/cases/"),
        ("patch", "contact"),
        ("post", "/api/v1/instruments/hotline-triage/versions/1/score"),
    ],
)
def test_a_deeply_nested_body_is_a_400_problem_and_saves_nothing(
    api, advocate, triage_instrument, method, url
):
    if url == "contact":
        contact = services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
        url = f"/api/v1/contacts/{contact.pk}/"
    contacts, cases = Contact.objects.count(), Case.objects.count()
    body = '{"summary": ' + "[" * 50_000 + "]" * 50_000 + "}"
    response = getattr(api, method)(
        url, body, content_type="application/json", headers={"If-Match": '"v1"'}
    )
    problem = assert_problem(response, 400)
    assert "levels deep" in problem["detail"]
    assert (Contact.objects.count(), Case.objects.count()) == (contacts, cases)


# --- control characters in the path --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/cases/%00/"),
        ("post", "/api/v1/tokens/%00/revoke"),
        ("post", "/api/v1/cases/C-%00/screenings/"),
        ("get", "/api/v1/cases/C-AAAA-%1BAAA/"),
        ("get", "/api/v1/instruments/hotline-%7Ftriage/versions/1"),
        ("get", "/api/v1/no-such-%C2%85-thing/"),
    ],
)
def test_a_control_character_in_an_api_path_is_a_404_problem(api, advocate, method, path):
    token = services.api_token_create(user=advocate, name="kept").token
    api.raise_request_exception = False
    assert_problem(getattr(api, method)(path), 404)
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.filter(revoked_at__isnull=False).count() == 0


# --- bodies over the size limit ------------------------------------------------------------


def test_a_body_over_the_limit_is_a_413_problem_and_saves_nothing(api):
    body = json.dumps({"channel": "phone", "contact_type": "tip", "summary": "x" * 3_000_000})
    response = api.post("/api/v1/contacts/", body, content_type="application/json")
    problem = assert_problem(response, 413)
    assert problem["type"].endswith(":body-too-large")
    assert not Contact.objects.exists()


# --- length limits ---------------------------------------------------------------------------

LONG = "x" * 200_000


@pytest.mark.parametrize(
    "field",
    [
        "identifying_name",
        "identifying_phone",
        "identifying_documents",
        "narrative",
        "nationality",
        "region",
    ],
)
def test_an_overlong_case_field_is_a_400_naming_it_and_nothing_is_saved(api, field):
    response = api.post("/api/v1/cases/", {field: LONG}, format="json")
    assert_problem(response, 400)
    assert error_fields(response) == [field]
    assert LONG[:1000] not in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "field", ["caller_name", "caller_phone", "summary", "situation_location", "caller_region"]
)
def test_an_overlong_contact_field_is_a_400_naming_it_and_nothing_is_saved(api, advocate, field):
    created = api.post(
        "/api/v1/contacts/", {"channel": "phone", "contact_type": "tip", field: LONG}, format="json"
    )
    assert_problem(created, 400)
    assert error_fields(created) == [field]
    assert not Contact.objects.exists()
    contact = services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    changed = api.patch(
        f"/api/v1/contacts/{contact.pk}/",
        {field: LONG},
        format="json",
        headers={"If-Match": '"v1"'},
    )
    assert_problem(changed, 400)
    contact.refresh_from_db()
    assert contact.version == 1 and getattr(contact, field) == ""


# --- strong If-Match ---------------------------------------------------------------------------


def test_a_weak_etag_in_if_match_is_a_412_and_changes_nothing(api, advocate):
    contact = services.contact_create(created_by=advocate, channel="phone", contact_type="tip")
    url = f"/api/v1/contacts/{contact.pk}/"
    assert api.get(url)["ETag"] == '"v1"'
    weak = api.patch(url, {"summary": "weak"}, format="json", headers={"If-Match": 'W/"v1"'})
    assert_problem(weak, 412)
    contact.refresh_from_db()
    assert contact.summary == "" and contact.version == 1
    strong = api.patch(url, {"summary": "strong"}, format="json", headers={"If-Match": '"v1"'})
    assert strong.status_code == 200


# --- NUL in a header -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer abc\x00.def"}, {"Idempotency-Key": "key\x00"}, {"X-Other": "\x00"}],
)
def test_a_nul_in_a_header_is_a_400_problem_and_saves_nothing(api, headers):
    client = api if "Authorization" not in headers else type(api)()
    response = client.post("/api/v1/contacts/", CONTACT_BODY, format="json", headers=headers)
    assert_problem(response, 400)
    assert not Contact.objects.exists()
