"""JSON request bodies with a nesting limit and a size limit.

Python's `json` module decodes nested arrays and objects recursively: a body of a few
thousand `[` ends in a `RecursionError`, and every layer that walks the data afterwards
(serializers, the Idempotency-Key fingerprint, error flattening) recurses too. No request of
this API nests deeper than a handful of levels, so a body nested deeper than
`MAX_JSON_DEPTH` is refused (400) before it is decoded.

The depth is measured without recursion and in linear time (`json_depth`): the strings are
cut out (a bracket inside a string does not nest), and the brackets left are counted.

A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is a 413, also when it arrives without a
Content-Length (chunked), which `config.request_guards` cannot see in advance.
"""

from __future__ import annotations

import contextlib
import json
import operator
import re
from itertools import accumulate, count

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser, get_encoding
from rest_framework.utils.json import strict_constant

MAX_JSON_DEPTH = 32

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_STEPS = str.maketrans({"[": "\x02", "{": "\x02", "]": "\x00", "}": "\x00"})


class JsonTooDeep(ValueError):
    """The document nests arrays and objects more than `MAX_JSON_DEPTH` levels deep."""


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "body_too_large"


def json_depth(text: str) -> int:
    """How deeply `text` nests arrays and objects, counted without decoding it: its strings
    cut out, each remaining opening bracket +1, each closing one -1, the highest running sum.
    (Brackets that do not pair up are counted as if they did: the decoder refuses them.)"""
    brackets = _NOT_BRACKETS.sub("", _STRING.sub("", text))
    # Opening brackets become 2 and closing ones 0: the running sum of the bytes less their
    # count is the depth. accumulate/map/max run in C, a tenth of a second for 2.5 MB.
    steps = brackets.translate(_STEPS).encode("ascii")
    return max(map(operator.sub, accumulate(steps), count(1)), default=0)


def json_loads_limited(raw: bytes | str, *, limit: int = MAX_JSON_DEPTH, **kwargs):
    """`json.loads` for untrusted input: `JsonTooDeep` (a ValueError) for a document nested
    deeper than `limit`, ValueError for one that is not JSON; never a RecursionError."""
    text = raw if isinstance(raw, str) else raw.decode(json.detect_encoding(raw), "surrogatepass")
    if json_depth(text) > limit:
        # Deeper than allowed, or brackets that do not pair: let the decoder say which.
        with contextlib.suppress(RecursionError):
            json.loads(text, **kwargs)
        raise JsonTooDeep(f"nested more than {limit} levels deep")
    return json.loads(text, **kwargs)


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser with the size and nesting limits (REST_FRAMEWORK's parser)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = b"" if stream is None else stream.read(-1 if limit is None else limit + 1)
        if limit is not None and len(raw) > limit:
            raise BodyTooLarge()
        try:
            text = raw.decode(encoding)
            return json_loads_limited(text, parse_constant=strict_constant if self.strict else None)
        except JsonTooDeep:
            raise ParseError(
                f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep."
            ) from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
