"""ETag / If-Match for optimistic concurrency on updates.

Responses carry `ETag: "v<version>"`. A PATCH must send `If-Match` with the ETag it read:
none → 428, a different one → 412 (someone else saved first; read again). If-Match compares
strongly (RFC 9110 §13.1.1): a weak tag (`W/"v3"`) never matches, so it is a 412 too.
"""

from __future__ import annotations

import re

from rest_framework.request import Request

from config.api.problems import PreconditionFailed, PreconditionRequired

_STRONG_TAG = re.compile(r'"v([0-9]{1,10})"')


def etag_for(version: int) -> str:
    return f'"v{version}"'


def _versions_in(header: str) -> list[int | None]:
    """The versions an If-Match header names; None stands for `*` (any version)."""
    versions: list[int | None] = []
    for part in header.split(","):
        tag = part.strip()
        if tag == "*":
            versions.append(None)
            continue
        # A weak tag (W/"v3") names no version If-Match may use: skipped as unknown. So is a
        # number no version reaches (a version is a positive 32-bit integer).
        if (match := _STRONG_TAG.fullmatch(tag)) and int(match[1]) < 2**31:
            versions.append(int(match[1]))
    return versions


def expected_version(request: Request, *, required: bool = True) -> int | None:
    """The version the client last read, from If-Match; None when absent and not required or
    when it is `*`. Raises 428 when required and absent, 412 when it names no version."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise PreconditionRequired()
        return None
    versions = _versions_in(header)
    if not versions:
        raise PreconditionFailed()
    if None in versions:
        return None
    if len(versions) > 1:
        # Several tags: none can be checked atomically against one row; ask for exactly one.
        raise PreconditionFailed("Send exactly one ETag in If-Match.")
    return versions[0]
