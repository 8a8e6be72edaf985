"""Reading keyset page links the way a browser follows them, and checking that a list page
asks the database for no COUNT and no OFFSET (config/keyset.py)."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from django.test.utils import CaptureQueriesContext


def page_link(page: str, rel: str) -> str | None:
    """The `href` of the page's link with `rel` ("next" or "prev"), as a browser reads it."""
    match = re.search(rf'<a href="([^"]*)" rel="{rel}">', page)
    return html.unescape(match.group(1)) if match else None


def link_query(link: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(link).query)


def follow(client, url: str, link: str) -> str:
    """The page a `?...` link of `url` leads to."""
    return client.get(f"{url.split('?')[0]}{link}").content.decode()


def list_queries(captured: CaptureQueriesContext) -> list[str]:
    return [query["sql"] for query in captured.captured_queries]


def assert_no_count_or_offset(captured: CaptureQueriesContext) -> None:
    for sql in list_queries(captured):
        assert "COUNT(" not in sql.upper(), sql
        assert "OFFSET" not in sql.upper(), sql
