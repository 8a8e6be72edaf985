"""Cursor pagination for API lists: stable under inserts, no page counts (no COUNT query)."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from config.errors import ValidationError
from config.keyset import (
    CursorInvalid,
    cursor_decode,
    cursor_encode,
    keyset_ordering,
    keyset_rows,
    row_key,
)


class ApiCursorPagination(CursorPagination):
    """Cursor pagination for API lists on the keyset engine (`config.keyset`), newest first
    by default: the cursor carries the whole key of the row it starts from, so a page is
    exact whatever ties, costs the same at any depth (no OFFSET, no COUNT), and a supervisor's
    case list reads each of its index-driven parts only as far as one page. `next` and
    `previous` links; a cursor names its direction (`a` after, `b` before a row)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-pk")
    # Forward only (`previous` always null), for lists whose contract says so.
    forward_only = False

    def _ordering(self, queryset) -> tuple:
        return self.ordering

    def get_page_size(self, request: Request) -> int:
        """`page_size` from 1 up (more than `max_page_size` gives `max_page_size`); anything
        else is a 400, as the schema says (DRF would silently use the default)."""
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        text = values[0]
        if len(values) > 1 or not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise ValidationError(
                "The page size is not valid.",
                {
                    self.page_size_query_param: [
                        f"Give one whole number from 1 to {self.max_page_size}."
                    ]
                },
            )
        return min(int(text), self.max_page_size)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Results per page, {self.page_size} if not given; more than "
                    f"{self.max_page_size} gives {self.max_page_size}."
                )
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.cursor_query_param:
                parameter["description"] = (
                    "Opaque: the `next` link of the previous page carries it. Any other value "
                    "is a 400."
                )
                parameter["schema"] = {"type": "string", "minLength": 1}
        return parameters

    def paginate_queryset(self, queryset, request: Request, view=None) -> list:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.fields = keyset_ordering(queryset, self._ordering(queryset))
        direction, key = self._decode(request.query_params.get(self.cursor_query_param))
        after = key if direction == "a" else None
        before = key if direction == "b" else None
        read = keyset_rows(queryset, self.fields, after=after, before=before, limit=self.page_size)
        if before is not None and not read.more and len(read.rows) < self.page_size:
            # Rows went since the link was given out: what is left is the first page.
            before = None
            read = keyset_rows(queryset, self.fields, limit=self.page_size)
        self.page = read.rows
        if before is not None:
            self.has_previous, self.has_next = read.more, True
        else:
            self.has_previous, self.has_next = after is not None, read.more
        return self.page

    def get_next_link(self) -> str | None:
        if not (self.has_next and self.page):
            return None
        token = "a" + cursor_encode(row_key(self.page[-1], self.fields))
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def get_previous_link(self) -> str | None:
        if self.forward_only or not self.has_previous:
            return None
        if not self.page:
            return remove_query_param(self.base_url, self.cursor_query_param)
        token = "b" + cursor_encode(row_key(self.page[0], self.fields))
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def get_paginated_response(self, data) -> Response:
        return Response(
            {"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}
        )

    def _decode(self, token: str | None) -> tuple[str, list | None]:
        if token is None:
            return "a", None
        try:
            if token[:1] not in ("a", "b") or (self.forward_only and token[:1] == "b"):
                raise CursorInvalid("no direction")
            return token[:1], cursor_decode(token[1:], self.fields)
        except CursorInvalid:
            raise ValidationError(
                "The cursor is not valid.",
                {self.cursor_query_param: ["Use the `next` link of the previous page as it is."]},
            ) from None


def paginated_response(
    *,
    request: Request,
    queryset,
    serializer_class,
    view,
    pagination_class: type[CursorPagination] = ApiCursorPagination,
    context: dict[str, Any] | None = None,
) -> Response:
    """One page of `queryset` rendered with `serializer_class`, as `{next, previous, results}`."""
    paginator = pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    serializer = serializer_class(page, many=True, context=context or {"request": request})
    return paginator.get_paginated_response(serializer.data)


class KeysetCursorPagination(ApiCursorPagination):
    """Cursor pagination over a composite ascending sort key, e.g. the referral queue's
    (failed first, priority, due time, id), through the web lists' engine (`config.keyset`).
    The cursor carries the last row's whole key, so a page is exact however many rows tie on
    the first field (DRF's cursor keeps only the first field plus an offset, capped at 1000
    rows). Forward only: `previous` is always null.

    `cursor_fields` names each ordering field with the type its cursor value parses to; the
    last field must be unique.
    """

    cursor_fields: tuple[tuple[str, type], ...] = (("pk", int),)
    forward_only = True

    def _ordering(self, queryset) -> tuple:
        return self.cursor_fields
