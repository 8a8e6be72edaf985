"""Cursor pagination for API lists: stable under inserts, no page counts (no COUNT query)."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

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
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-pk")

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

    def decode_cursor(self, request: Request):
        # DRF answers a malformed cursor with 404 (and reads an empty one as the first page);
        # it is bad input (400), as for any filter.
        try:
            if request.query_params.get(self.cursor_query_param) == "":
                raise NotFound()
            return super().decode_cursor(request)
        except NotFound:
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

    def paginate_queryset(self, queryset, request: Request, view=None) -> list:
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.fields = keyset_ordering(queryset, self.cursor_fields)
        after = self._decode(request.query_params.get(self.cursor_query_param))
        read = keyset_rows(queryset, self.fields, after=after, limit=self.page_size)
        self.has_next = read.more
        self.page = read.rows
        return self.page

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        token = cursor_encode(row_key(self.page[-1], self.fields))
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def get_previous_link(self) -> None:
        return None

    def get_paginated_response(self, data) -> Response:
        return Response({"next": self.get_next_link(), "previous": None, "results": data})

    def _decode(self, token: str | None) -> list | None:
        if token is None:
            return None
        try:
            return cursor_decode(token, self.fields)
        except CursorInvalid:
            raise ValidationError(
                "The cursor is not valid.",
                {self.cursor_query_param: ["Use the `next` link of the previous page as it is."]},
            ) from None
