"""Cursor pagination for API lists: stable under inserts, no page counts (no COUNT query)."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response


class ApiCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-pk")


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
